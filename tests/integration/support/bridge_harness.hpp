#pragma once
// A real mediabridge server on 127.0.0.1:0, wired to an in-process Realtime simulator, plus helpers
// to run simulated Twilio calls against it. Everything is bounded in time; nothing leaves loopback.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bridge/call_session.hpp"
#include "config/settings.hpp"
#include "server/http_server.hpp"
#include "server/io_pool.hpp"
#include "server/server_context.hpp"
#include "tools/realtime_sim/realtime_simulator.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

namespace mb::test {

// Records what calls publish, for comparing with what listeners and the store see.
class recording_sink final : public bridge::event_sink {
 public:
  struct entry {
    bridge::call_identity call;
    call::call_event event;
  };
  void publish(const bridge::call_identity& call, const call::call_event& event) override;
  void call_ended(const bridge::call_identity& call, const bridge::call_summary& summary) override;
  std::vector<entry> events() const;
  std::vector<std::pair<bridge::call_identity, bridge::call_summary>> ended() const;

 private:
  mutable std::mutex mutex_;
  std::vector<entry> events_;
  std::vector<std::pair<bridge::call_identity, bridge::call_summary>> ended_;
};

// Log lines at warn and above (and info), captured for assertions.
class log_capture {
 public:
  log_capture();
  ~log_capture();
  bool contains(std::string_view needle) const;
  std::vector<std::string> lines() const;
};

struct harness_options {
  tools::sim::simulator_options simulator;
  std::function<void(config::settings&, bridge::bridge_context&)> tweak;
  std::size_t server_threads = 2;
};

class bridge_harness {
 public:
  explicit bridge_harness(harness_options options = {});
  ~bridge_harness();

  [[nodiscard]] std::string webhook_url() const;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  tools::sim::realtime_simulator& simulator() { return *simulator_; }
  recording_sink& events() { return events_; }
  bridge::call_registry& registry() { return registry_; }
  server::server_context& context() { return *ctx_; }

  // A call that speaks `script` and hangs up when it ends.
  [[nodiscard]] tools::twilio::call_options call(std::vector<tools::twilio::audio_segment> script) const;
  std::vector<tools::twilio::call_report> run(std::vector<tools::twilio::call_options> calls, int timeout_ms = 30000);

 private:
  log_capture logs_;
  asio::io_context sim_ioc_;
  std::unique_ptr<tools::sim::realtime_simulator> simulator_;
  std::thread sim_thread_;
  config::settings settings_;
  bridge::call_registry registry_;
  recording_sink events_;
  bridge::bridge_context bridge_;
  std::unique_ptr<server::io_pool> pool_;
  std::unique_ptr<server::server_context> ctx_;
  std::unique_ptr<server::http_server> server_;
  std::thread server_thread_;
  std::uint16_t port_ = 0;
};

// The μ-law bytes the simulator generates for response `index` (tools/realtime_sim/audio_pattern.hpp).
std::string assistant_audio(std::uint32_t response_index, std::size_t bytes);

}  // namespace mb::test
