#pragma once
// A real mediabridge server on 127.0.0.1:0, wired to an in-process Realtime simulator, plus helpers
// to run simulated Twilio calls against it. Everything is bounded in time; nothing leaves loopback.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agents/agent_profile.hpp"
#include "bridge/call_session.hpp"
#include "bridge/prewarm_pool.hpp"
#include "config/settings.hpp"
#include "metrics/bridge_metrics.hpp"
#include "server/http_server.hpp"
#include "server/io_pool.hpp"
#include "server/listener_hub.hpp"
#include "server/outbound.hpp"
#include "protocol/stream_token.hpp"
#include "recorder/recording_writer.hpp"
#include "server/server_context.hpp"
#include "server/client_secrets.hpp"
#include "server/sip_webhook.hpp"
#include "telephony/openai_calls.hpp"
#include "store/call_store.hpp"
#include "simulator/upstream_simulator.hpp"
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
  // Blocks until at least `calls` calls have ended (their summary line logged), or the timeout.
  bool wait_ended(std::size_t calls, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Blocks until a final transcript of `speaker` has been published, or the timeout.
  bool wait_for_final(call::role speaker, std::chrono::milliseconds timeout) const;
  // Blocks until an event for which `wanted` holds has been published, or the timeout.
  bool wait_for_event(const std::function<bool(const call::call_event&)>& wanted,
                      std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<entry> events_;
  std::vector<std::pair<bridge::call_identity, bridge::call_summary>> ended_;
};

// Hands each event to several sinks: the recording sink and the listener hub.
class tee_sink final : public bridge::event_sink {
 public:
  std::vector<bridge::event_sink*> sinks;
  void publish(const bridge::call_identity& call, const call::call_event& event) override;
  void call_ended(const bridge::call_identity& call, const bridge::call_summary& summary) override;
};

// Log lines at warn and above (and info), captured for assertions.
class log_capture {
 public:
  log_capture();
  ~log_capture();
  bool contains(std::string_view needle) const;
  // Blocks until a line containing `needle` is logged (or was already), or the timeout passes.
  bool wait_for(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  std::vector<std::string> lines() const;
};

struct harness_options {
  mb::simulator::simulator_options simulator{};
  // The protocol calls speak upstream (the simulator serves each on its own path).
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  std::function<void(config::settings&, bridge::bridge_context&)> tweak{};
  std::size_t server_threads = 2;
  // The listener hub and the call history, as the server runs them (API_TOKEN, DATABASE_PATH, which
  // is ":memory:" unless tweaked, and LISTENER_QUEUE_SIZE and LISTENER_BACKFILL_* from the settings).
  // AGENTS_FILE, when the tweak sets it, is loaded either way.
  bool listeners = false;
  server::hub_options hub{};  // its listener_queue and backfill come from the settings
  int client_secret_timeout_ms = 0;  // 0: the server's own per-attempt timeout for minting client secrets
};

class bridge_harness {
 public:
  explicit bridge_harness(harness_options options = {});
  ~bridge_harness();

  [[nodiscard]] std::string webhook_url() const;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  mb::simulator::upstream_simulator& simulator() { return *simulator_; }
  recording_sink& events() { return events_; }
  metrics::registry& metrics() { return metrics_; }  // what GET /metrics serves
  server::io_pool& pool() { return *pool_; }
  bridge::prewarm_pool* prewarm() { return prewarm_.get(); }  // PREWARM only
  bridge::call_registry& registry() { return *registry_; }
  server::server_context& context() { return *ctx_; }
  const log_capture& logs() const { return logs_; }
  server::listener_hub& listeners() { return *hub_; }  // harness_options::listeners only
  store::call_store* history() { return store_.get(); }
  // RECORD_CALLS (the tweak sets it and RECORDINGS_DIR): the server's recording writer; else null.
  recorder::recording_writer* recordings() { return recordings_.get(); }
  // ws://127.0.0.1:<port><path>; with `token`, ?token= is appended.
  [[nodiscard]] std::string ws_url(const std::string& path, const std::string& token = {}) const;

  // A call that speaks `script` and hangs up when it ends.
  [[nodiscard]] tools::twilio::call_options call(std::vector<tools::twilio::audio_segment> script) const;
  std::vector<tools::twilio::call_report> run(std::vector<tools::twilio::call_options> calls, int timeout_ms = 30000);

 private:
  log_capture logs_;
  asio::io_context sim_ioc_;
  std::unique_ptr<mb::simulator::upstream_simulator> simulator_;
  std::thread sim_thread_;
  config::settings settings_;
  std::unique_ptr<bridge::call_registry> registry_;  // its limits come from the (tweaked) settings
  std::unique_ptr<server::stream_tokens> tokens_;
  recording_sink events_;
  tee_sink tee_;
  metrics::registry metrics_;
  std::unique_ptr<metrics::bridge_metrics> bridge_metrics_;
  log::shared_line_budget peer_lines_;
  bridge::bridge_context bridge_;
  std::string upstream_base_;
  std::unique_ptr<store::call_store> store_;
  std::unique_ptr<recorder::recording_writer> recordings_;  // after store_: its outcomes go there
  std::unique_ptr<server::listener_hub> hub_;
  std::optional<agents::agent_catalog> agents_;
  std::unique_ptr<server::io_pool> pool_;
  std::unique_ptr<bridge::prewarm_pool> prewarm_;  // PREWARM only; after pool_: its sessions use its contexts
  std::unique_ptr<server::server_context> ctx_;
  std::unique_ptr<server::outbound_service> outbound_;
  std::unique_ptr<telephony::openai_calls> openai_calls_;
  std::unique_ptr<server::sip_webhook> openai_webhook_;  // with OPENAI_WEBHOOK_SECRET only
  std::unique_ptr<server::client_secret_service> client_secrets_;
  std::unique_ptr<server::http_server> server_;
  std::thread server_thread_;
  std::uint16_t port_ = 0;
};


// The μ-law bytes the simulator generates for response `index` (simulator/audio_pattern.hpp).
std::string assistant_audio(std::uint32_t response_index, std::size_t bytes);

}  // namespace mb::test
