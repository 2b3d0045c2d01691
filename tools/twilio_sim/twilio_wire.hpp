#pragma once
// The Twilio side of Media Streams on the wire (protocols.md B3/B4): building the messages Twilio
// sends and parsing the ones a bridge sends back.
//
// Builders append to `out` (reusing its capacity). Like Twilio, they write sequenceNumber, chunk and
// timestamp as JSON strings; `mediaFormat` numbers are JSON numbers.
//
// @par Thread Safety
// Builders are pure. parse_bridge_message uses one simdjson parser per thread (a simulated call
// parses and consumes a message without suspending, so calls sharing a thread never interleave).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/twilio_sim/twiml_reader.hpp"

namespace mb::tools::twilio {

struct stream_identity {
  std::string stream_sid;   // "MZ" + 32 hex
  std::string call_sid;     // "CA" + 32 hex
  std::string account_sid;  // "AC" + 32 hex
};

void build_connected(std::string& out);
void build_start(std::string& out, std::uint64_t sequence, const stream_identity& id,
                 const std::vector<stream_parameter>& custom_parameters);
// payload_b64 is our own base64 and needs no escaping.
void build_media(std::string& out, std::uint64_t sequence, std::string_view stream_sid, std::uint64_t chunk,
                 std::uint64_t timestamp_ms, std::string_view payload_b64);
void build_mark_echo(std::string& out, std::uint64_t sequence, std::string_view stream_sid, std::string_view name);
void build_dtmf(std::string& out, std::uint64_t sequence, std::string_view stream_sid, char digit);
void build_stop(std::string& out, std::uint64_t sequence, const stream_identity& id);

// Appends `text` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);

enum class bridge_message_kind { media, mark, clear, invalid };

struct bridge_message {
  bridge_message_kind kind = bridge_message_kind::invalid;
  std::string_view stream_sid;
  std::string_view payload;    // media: base64, not yet validated
  std::string_view mark_name;  // mark
  std::string_view error;      // invalid: why (a static phrase)
};

// Parses one message from a bridge. `json` must be followed by at least simdjson::SIMDJSON_PADDING
// readable bytes (capacity >= size + padding). The views in `out` stay valid until the next call on
// the same thread (they may point into the thread's parser).
void parse_bridge_message(std::string_view json, std::size_t capacity, bridge_message& out);

}  // namespace mb::tools::twilio
