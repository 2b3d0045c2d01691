#pragma once
// A call recording's event log (docs/recording.md "The event log"): JSON Lines, one object a line,
// written off the call's thread. Line 1 is the header; every other line is one entry, in the order
// the call's thread saw them:
//
//   {"type":"mediabridge.recording","version":1,"call_sid":"CA…","stream_sid":"MZ…","agent":"default",
//    "provider":"openai-realtime","started_at":<unix ms of t=0>,"dtmf_masked":false}
//   {"t":12.345,"dir":"twilio_in","msg":{…}}     a Twilio message as received (media, start, dtmf, mark, stop)
//   {"t":…,"dir":"twilio_out","msg":{…}}         what the bridge sent Twilio (media, mark, clear)
//   {"t":…,"dir":"upstream_in","msg":{…}}        a provider message as received
//   {"t":…,"dir":"upstream_out","msg":{…}}       what the bridge sent the provider
//   {"t":…,"dir":"upstream_open","connection":2} the call's n-th provider session connected
//   {"t":…,"dir":"upstream_closed","connection":2,"detail":"…"}
//   {"t":…,"dir":"event","msg":{…}}              a call event as listeners get it (docs/events.md)
//   {"t":…,"dir":"twilio_in","raw":"…"}          a message that was not JSON, kept as an escaped string
//   {"t":…,"dir":"upstream_out","masked":"conversation.item.create"}
//                                                a message that carried masked DTMF digits: its type only
//   {"t":…,"dir":"gap","dropped_bytes":N}        the writer fell behind and lost entries here
//
// t: ms since the stream's start message reached the bridge, to the microsecond. "msg" is the message
// itself (minified), so a call can be replayed; secrets are never in it (the stream token of Twilio's
// start is replaced by "[redacted]").
//
// @par Thread Safety
// Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::record {

inline constexpr int log_version = 1;

enum class direction : std::uint8_t {
  twilio_in,
  twilio_out,
  upstream_in,
  upstream_out,
  upstream_open,
  upstream_closed,
  event,
  gap,
};
[[nodiscard]] std::string_view to_string(direction d) noexcept;
[[nodiscard]] std::optional<direction> direction_from(std::string_view name) noexcept;

struct log_header {
  std::string call_sid;
  std::string stream_sid;
  std::string agent;
  std::string provider;         // upstream::to_string of the profile's provider
  std::int64_t started_at = 0;  // unix ms of t = 0
  bool dtmf_masked = false;
};

// How an entry carries its message.
enum class payload_kind : std::uint8_t {
  none,    // upstream_open, upstream_closed, gap
  json,    // "msg": one JSON value
  raw,     // "raw": a message that was not JSON, as an escaped string
  masked,  // "masked": the message's type only
};

struct log_entry {
  double t_ms = 0;
  direction dir = direction::twilio_in;
  payload_kind kind = payload_kind::none;
  std::string payload;     // json: the minified message; raw: its text; masked: its type
  std::string detail;      // upstream_closed
  std::uint64_t number = 0;  // upstream_open/closed: the connection; gap: the bytes dropped
};

// One line each, '\n' included. append_entry writes a json payload as given: it must be one minified
// JSON value (minify_json makes it so, or says it is not JSON).
void append_header(std::string& out, const log_header& header);
void append_entry(std::string& out, const log_entry& entry);

// `message` minified into `out` (no whitespace outside strings, so one line); false when it is not
// one valid JSON value.
[[nodiscard]] bool minify_json(std::string_view message, std::string& out);

// Twilio's start with the stream token's value replaced by "[redacted]" (docs/recording.md
// "Privacy"); other messages are returned unchanged.
[[nodiscard]] std::string redact_twilio_start(std::string_view minified_start);

// nullopt with `error` (bounded, printable) when the line is not a header or an entry of this version.
[[nodiscard]] std::optional<log_header> parse_header(std::string_view line, std::string& error);
[[nodiscard]] std::optional<log_entry> parse_entry(std::string_view line, std::string& error);

}  // namespace mb::record
