#pragma once
// The JSON objects listeners receive (docs/events.md): `type` and `call_sid` on every event, plus
// `time` (RFC 3339 UTC, ms). Built with Boost.JSON, so any text (transcripts, caller names) is escaped.
//
// @par Thread Safety
// Pure functions.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "call/actions.hpp"
#include "call/events.hpp"
#include "protocol/realtime_events.hpp"

namespace mb::call {

// Who and when: what every event of a call shares, and the caller details call.started reports.
struct event_context {
  std::string_view call_sid;
  std::string_view stream_sid;
  std::string_view from;
  std::string_view to;
  std::int64_t unix_ms = 0;  // wall-clock time of the event, ms since 1970-01-01T00:00:00Z
};

// How a call ended, for call.ended.
struct call_end {
  end_reason reason = end_reason::twilio_closed;
  std::string_view detail;
  std::int64_t duration_ms = 0;
  protocol::token_usage usage;  // summed over the call's response.done events
};

// "call.started", "transcript.delta", "transcript.final", "barge_in", "dtmf", "dtmf.input", "tool.call",
// "tool.result", "call.control", "wire", "turn.latency".
[[nodiscard]] const char* event_type(const call_event& event);
inline constexpr std::string_view call_ended_type = "call.ended";
inline constexpr const char* turn_latency_type = "turn.latency";  // turn_waterfall's

[[nodiscard]] std::string event_json(const event_context& context, const call_event& event);
[[nodiscard]] std::string event_json(const event_context& context, const call_end& end);

// The same JSON, into a buffer it keeps: after the first few events, no heap allocation per event. For
// a recorded call, which serialises each of its events on its own thread (docs/recording.md).
class event_writer {
 public:
  event_writer();
  ~event_writer();
  event_writer(const event_writer&) = delete;
  event_writer& operator=(const event_writer&) = delete;

  // Valid until the next write.
  [[nodiscard]] std::string_view write(const event_context& context, const call_event& event);
  [[nodiscard]] std::string_view write(const event_context& context, const call_end& end);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// RFC 3339 in UTC with milliseconds, e.g. 2025-01-31T12:34:56.789Z.
[[nodiscard]] std::string format_utc(std::int64_t unix_ms);
// Reads a whole number of ms since the epoch, or an RFC 3339 date-time with 'Z' or a ±hh:mm offset
// and an optional fraction (digits beyond ms are ignored). nullopt for anything else.
[[nodiscard]] std::optional<std::int64_t> parse_utc(std::string_view text);

}  // namespace mb::call
