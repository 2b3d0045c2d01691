#pragma once
// The scripted exchange of one probe run (docs/latency.md "Probe stages"), as a state machine over one
// upstream adapter: the shell connects (timing DNS, TCP, TLS and the upgrade itself), then carries out
// what this class returns: messages to send, and when to wake it. Pure: no I/O, no clock of its own;
// every call carries the shell's steady-clock time.
//
// The script: the session configuration (the profile's, plus the built-in echo tool, with server VAD);
// the caller's utterance in paced 20 ms frames, then silence until the provider's answer; a text-only
// turn; a turn that asks for the echo tool, answered with its arguments. Each step's timing fills a
// stage of the run (docs/protocols.md K2 says which message each stage waits for, per protocol).
//
// The answer to the caller's speech is required (without it the run times out). The text turn and
// the tool turn are not: a provider that does not answer them within script_options::step_wait leaves
// their stages empty, and the run still succeeds.
//
// Memory is bounded whatever the provider sends: at most max_chunk_gaps gaps are kept.
//
// Thread safety: none. One per probe run.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probe/probe_run.hpp"
#include "protocol/session_config.hpp"
#include "upstream/adapter.hpp"

namespace mb::probe {

// What the shell measured while connecting, in ms; tls is absent on ws:// URLs.
struct connect_timings {
  double dns = 0, tcp = 0, upgrade = 0;
  std::optional<double> tls;
};

struct script_options {
  std::span<const std::uint8_t> utterance_mulaw;  // 8 kHz μ-law; outlives the script
  std::chrono::milliseconds timeout{20000};       // from construction to the script's end
  // How long an optional step (the text turn's answer, the tool call, the answer after the tool's
  // result) is awaited before its stages are left empty; also how long an answer may pause between
  // chunks, or between its last audio and its end, before it counts as over.
  std::chrono::milliseconds step_wait{5000};
};

// The built-in tool the script asks the model to call: it returns its `text` argument.
inline constexpr std::string_view echo_tool_name = "probe_echo";
// Chunk gaps kept per run, for chunk_gap_p50 and chunk_gap_max.
inline constexpr std::size_t max_chunk_gaps = 4096;
// One caller frame: 20 ms of 8 kHz μ-law.
inline constexpr std::size_t frame_bytes = 160;
inline constexpr std::chrono::milliseconds frame_period{20};

class probe_script {
 public:
  using clock = std::chrono::steady_clock;

  probe_script(std::unique_ptr<upstream::adapter> adapter, protocol::session_config config, script_options options,
               probe_run identity, clock::time_point now);
  ~probe_script();
  probe_script(probe_script&&) noexcept;
  probe_script& operator=(probe_script&&) noexcept;

  // The socket is open: records the connect stages and appends the session's configuration to `out`.
  void on_connected(const connect_timings& timings, clock::time_point now, std::vector<std::string>& out);
  // Connecting failed: the run ends with this error (auth for a 401/403 upgrade, else connect).
  void on_connect_failed(error_kind kind, std::string_view detail, clock::time_point now);
  // One text message from the provider (followed by simdjson::SIMDJSON_PADDING readable bytes within
  // `capacity`); appends what to send in reply.
  void on_message(std::string_view json, std::size_t capacity, clock::time_point now, std::vector<std::string>& out);
  // Paces the caller's frames, wakes the adapter, ends steps that waited too long and enforces the
  // timeout; call at or after next_wakeup().
  void on_tick(clock::time_point now, std::vector<std::string>& out);
  // The connection closed or failed before finished(): a protocol error (or the timeout, if it passed).
  void on_closed(std::string_view detail, clock::time_point now);

  [[nodiscard]] clock::time_point next_wakeup() const noexcept;
  // The run is over (successfully or not): the shell closes the socket and takes result().
  [[nodiscard]] bool finished() const noexcept;
  [[nodiscard]] const probe_run& result() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::probe
