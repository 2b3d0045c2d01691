#pragma once
// Twilio Media Streams messages (protocols.md B3/B4): parsing what Twilio sends, building what we send.
//
// Parsed string_views point into the caller's buffer and die with it (next read).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "protocol/parse_error.hpp"

namespace mb::protocol {

enum class twilio_event { connected, start, media, mark, dtmf, stop, unknown };

struct twilio_start {
  std::string stream_sid;
  std::string call_sid;
  std::string account_sid;
  std::vector<std::pair<std::string, std::string>> custom_parameters;
  std::string encoding;  // Twilio always sends audio/x-mulaw
  std::int64_t sample_rate = 0;
  std::int64_t channels = 0;
};

struct twilio_media {
  std::string_view track;      // "inbound" on bidirectional streams
  std::uint64_t chunk = 0;     // starts at 1
  std::int64_t timestamp_ms = 0;  // presentation time since stream start
  std::string_view payload;    // base64 μ-law, 8 kHz mono, not yet validated
};

struct twilio_message {
  twilio_event event = twilio_event::unknown;
  std::string_view event_name;
  std::string_view stream_sid;
  twilio_media media;
  std::string_view mark_name;
  std::string_view dtmf_digit;
  std::optional<twilio_start> start;  // set for event == start
};

// Parses with its thread's simdjson parser (thread_parser, protocol/simdjson_parse.hpp): the views in a
// message die at the next parse by any twilio_parser on the same thread.
class twilio_parser {
 public:
  // `json` must be followed by at least simdjson::SIMDJSON_PADDING readable bytes (capacity >= size + padding).
  std::optional<parse_error> parse(std::string_view json, std::size_t capacity, twilio_message& out);
};

// A stream SID we can echo into JSON without escaping: Twilio's are "MZ" + 32 hex digits.
bool is_safe_sid(std::string_view sid);

// Builders append to `out`. Arguments are trusted: stream_sid passed is_safe_sid, payload is valid
// base64, mark names are ours; so no JSON escaping is needed on this hot path.
void build_twilio_media(std::string& out, std::string_view stream_sid, std::string_view payload_b64);
void build_twilio_mark(std::string& out, std::string_view stream_sid, std::string_view mark_name);
void build_twilio_clear(std::string& out, std::string_view stream_sid);

}  // namespace mb::protocol
