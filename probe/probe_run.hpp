#pragma once
// One probe run: a short scripted exchange with one agent profile's provider, measured stage by stage
// (docs/latency.md). The prober (prober/) produces runs; the store keeps them, /v1/probes serves them,
// /metrics and the alert rules read them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::probe {

// Every stage is a duration in milliseconds; a stage the provider never reached (or never reports, e.g.
// speech_started on a protocol without it) has no value.
enum class stage {
  dns,                 // name resolution
  tcp,                 // TCP connect
  tls,                 // TLS handshake (none on a plain ws:// URL)
  upgrade,             // WebSocket upgrade request → 101
  connect,             // all four: DNS start → upgraded
  session,             // session configuration sent → confirmed (session.updated, setupComplete, …)
  speech_started,      // first caller audio sent → the provider's speech-started
  transcript_partial,  // end of caller audio → first caller transcript delta
  transcript_final,    // end of caller audio → caller transcript final
  first_audio,         // end of caller audio → first assistant audio
  audio_span,          // the answer's first assistant audio → its last
  audio_length,        // how much audio the answer carried (ms of audio, not of wall time)
  text_first_audio,    // a text-only turn sent → its first assistant audio
  tool_call,           // the turn that asks for the echo tool sent → the tool call received
  tool_answer,         // the echo tool's result sent → the first audio of the answer after it
  chunk_gap_p50,       // gaps between the answers' consecutive audio chunks: median
  chunk_gap_max,       // … and largest
};
inline constexpr std::size_t stage_count = static_cast<std::size_t>(stage::chunk_gap_max) + 1;

// The stage's name in JSON, metrics labels, alert rules and the dashboard.
constexpr std::string_view to_string(stage s) noexcept {
  constexpr std::array<std::string_view, stage_count> names{
      "dns",         "tcp",          "tls",         "upgrade",          "connect",   "session",
      "speech_started", "transcript_partial", "transcript_final", "first_audio", "audio_span", "audio_length",
      "text_first_audio", "tool_call", "tool_answer", "chunk_gap_p50", "chunk_gap_max"};
  return names[static_cast<std::size_t>(s)];
}
std::optional<stage> stage_from_string(std::string_view name) noexcept;

// Why a run failed. connect: DNS, TCP, TLS or a refused upgrade other than 401/403; auth: 401/403 or the
// provider's authentication error; timeout: PROBE_TIMEOUT_MS passed; protocol: a message the adapter
// could not parse, a provider error event, or the session closed before the script finished.
enum class error_kind { none, connect, auth, timeout, protocol };
constexpr std::string_view to_string(error_kind e) noexcept {
  switch (e) {
    case error_kind::none: return "none";
    case error_kind::connect: return "connect";
    case error_kind::auth: return "auth";
    case error_kind::timeout: return "timeout";
    case error_kind::protocol: return "protocol";
  }
  return "none";
}
std::optional<error_kind> error_kind_from_string(std::string_view name) noexcept;

struct probe_run {
  std::string provider;            // upstream::provider's name, e.g. "openai-realtime"
  std::string agent;               // the agent profile probed
  std::int64_t started_at_ms = 0;  // Unix time
  error_kind error = error_kind::none;
  std::string error_detail;        // at most 200 bytes, control characters escaped; never a secret
  std::array<std::optional<double>, stage_count> stages{};

  [[nodiscard]] bool ok() const noexcept { return error == error_kind::none; }
  [[nodiscard]] std::optional<double> at(stage s) const noexcept { return stages[static_cast<std::size_t>(s)]; }
  void set(stage s, double ms) noexcept { stages[static_cast<std::size_t>(s)] = ms; }
};

}  // namespace mb::probe
