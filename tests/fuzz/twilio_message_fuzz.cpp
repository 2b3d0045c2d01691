// Twilio Media Streams messages: any bytes parse or fail cleanly, the same way twice on a reused
// parser; what we build from a parsed message parses back to it; base64 checks agree with decoding.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/base64.hpp"
#include "protocol/twilio_messages.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace proto = mb::protocol;

// An owning copy of a parse, since the views die at the next parse.
struct parse_snapshot {
  std::optional<std::string> error;
  proto::twilio_event event = proto::twilio_event::unknown;
  std::string event_name, stream_sid, track, payload, mark_name, dtmf_digit;
  std::uint64_t chunk = 0;
  std::int64_t timestamp_ms = 0;
  bool has_start = false;
  std::string start_stream_sid, start_call_sid, start_account_sid, start_encoding;
  std::vector<std::pair<std::string, std::string>> custom_parameters;
  std::int64_t sample_rate = 0, channels = 0;

  bool operator==(const parse_snapshot&) const = default;
};

parse_snapshot snapshot(const std::optional<proto::parse_error>& error, const proto::twilio_message& m) {
  parse_snapshot s;
  if (error) {
    s.error = error->what;
    return s;
  }
  s.event = m.event;
  s.event_name = m.event_name;
  s.stream_sid = m.stream_sid;
  s.track = m.media.track;
  s.payload = m.media.payload;
  s.mark_name = m.mark_name;
  s.dtmf_digit = m.dtmf_digit;
  s.chunk = m.media.chunk;
  s.timestamp_ms = m.media.timestamp_ms;
  s.has_start = m.start.has_value();
  if (m.start) {
    s.start_stream_sid = m.start->stream_sid;
    s.start_call_sid = m.start->call_sid;
    s.start_account_sid = m.start->account_sid;
    s.start_encoding = m.start->encoding;
    s.custom_parameters = m.start->custom_parameters;
    s.sample_rate = m.start->sample_rate;
    s.channels = m.start->channels;
  }
  return s;
}

void check_base64(std::string_view text) {
  const bool valid = proto::is_base64(text);
  const auto decoded = proto::base64_decode(text);
  MB_FUZZ_CHECK(valid == decoded.has_value());
  if (!valid) return;
  MB_FUZZ_CHECK(decoded->size() == proto::base64_decoded_size(text));
  // Unused bits of the last group are not checked, so re-encoding may change `text` but not the bytes.
  const auto again = proto::base64_decode(proto::base64_encode(*decoded));
  MB_FUZZ_CHECK(again.has_value() && *again == *decoded);
}

void check_base64_encode(std::string_view bytes) {
  const auto encoded = proto::base64_encode(bytes);
  MB_FUZZ_CHECK(proto::is_base64(encoded));
  MB_FUZZ_CHECK(proto::base64_decoded_size(encoded) == bytes.size());
  const auto decoded = proto::base64_decode(encoded);
  MB_FUZZ_CHECK(decoded.has_value() && *decoded == bytes);
}

// Parses what a builder produced with a separate parser, so the fuzzed parse's views stay valid.
parse_snapshot reparse(const std::string& json) {
  static proto::twilio_parser parser;
  const mb::fuzz::padded_input input(json);
  proto::twilio_message m;
  const auto error = parser.parse(input.view(), input.capacity(), m);
  return snapshot(error, m);
}

void check_builders(const parse_snapshot& s) {
  if (!proto::is_safe_sid(s.stream_sid)) return;
  if (s.event == proto::twilio_event::media && proto::is_base64(s.payload)) {
    std::string json;
    proto::build_twilio_media(json, s.stream_sid, s.payload);
    const auto back = reparse(json);
    MB_FUZZ_CHECK(!back.error && back.event == proto::twilio_event::media);
    MB_FUZZ_CHECK(back.stream_sid == s.stream_sid && back.payload == s.payload);
  }
  if (s.event == proto::twilio_event::mark && proto::is_safe_sid(s.mark_name)) {
    std::string json;
    proto::build_twilio_mark(json, s.stream_sid, s.mark_name);
    const auto back = reparse(json);
    MB_FUZZ_CHECK(!back.error && back.event == proto::twilio_event::mark);
    MB_FUZZ_CHECK(back.stream_sid == s.stream_sid && back.mark_name == s.mark_name);
  }
  std::string clear;
  proto::build_twilio_clear(clear, s.stream_sid);
  const auto back = reparse(clear);
  MB_FUZZ_CHECK(!back.error && back.event_name == "clear" && back.stream_sid == s.stream_sid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One parser for every input, as the bridge keeps one per call: state must not leak between parses.
  static proto::twilio_parser parser;
  const mb::fuzz::padded_input input(data, size);

  proto::twilio_message first;
  const auto first_error = parser.parse(input.view(), input.capacity(), first);
  const auto s = snapshot(first_error, first);
  proto::twilio_message second;
  const auto second_error = parser.parse(input.view(), input.capacity(), second);
  MB_FUZZ_CHECK(snapshot(second_error, second) == s);

  if (!s.error) {
    MB_FUZZ_CHECK(s.has_start == (s.event == proto::twilio_event::start));
    if (s.event == proto::twilio_event::media) check_base64(s.payload);
    check_builders(s);
  }
  check_base64(input.view());
  check_base64_encode(input.view());
  return 0;
}
