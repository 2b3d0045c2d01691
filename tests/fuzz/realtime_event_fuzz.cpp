// OpenAI Realtime server events: any bytes parse or fail cleanly, the same way twice on a reused
// parser; the client events we build from parsed fields are JSON that carries those fields unchanged.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "protocol/realtime_events.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace proto = mb::protocol;

// An owning copy of a parse, since the views die at the next parse.
struct parse_snapshot {
  std::optional<std::string> error;
  proto::realtime_event_type type = proto::realtime_event_type::unknown;
  std::string type_name, response_id, item_id, delta, transcript, input_format, output_format, status;
  std::string call_id, tool_name, arguments, dtmf_key;
  std::string error_type, error_code, error_message, error_param, error_event_id;
  std::int64_t content_index = 0, audio_start_ms = 0, audio_end_ms = 0;
  std::int64_t input_tokens = 0, output_tokens = 0, total_tokens = 0;

  bool operator==(const parse_snapshot&) const = default;
};

parse_snapshot snapshot(const std::optional<proto::parse_error>& error, const proto::realtime_event& e) {
  parse_snapshot s;
  if (error) {
    s.error = error->what;
    return s;
  }
  s.type = e.type;
  s.type_name = e.type_name;
  s.response_id = e.response_id;
  s.item_id = e.item_id;
  s.delta = e.delta;
  s.transcript = e.transcript;
  s.input_format = e.input_format;
  s.output_format = e.output_format;
  s.status = e.status;
  s.call_id = e.call_id;
  s.tool_name = e.tool_name;
  s.arguments = e.arguments;
  s.dtmf_key = e.dtmf_key;
  s.error_type = e.error.type;
  s.error_code = e.error.code;
  s.error_message = e.error.message;
  s.error_param = e.error.param;
  s.error_event_id = e.error.event_id;
  s.content_index = e.content_index;
  s.audio_start_ms = e.audio_start_ms;
  s.audio_end_ms = e.audio_end_ms;
  s.input_tokens = e.usage.input_tokens;
  s.output_tokens = e.usage.output_tokens;
  s.total_tokens = e.usage.total_tokens;
  return s;
}

void check_builders(const parse_snapshot& s) {
  // Parsed strings are unescaped and valid UTF-8 (simdjson validates), so they must survive escaping.
  const auto truncate = mb::fuzz::json_object(proto::build_item_truncate(s.item_id, s.content_index, s.audio_end_ms));
  MB_FUZZ_CHECK(truncate.at("type") == "conversation.item.truncate");
  MB_FUZZ_CHECK(truncate.at("item_id").as_string() == s.item_id);
  MB_FUZZ_CHECK(truncate.at("content_index").as_int64() == s.content_index);
  MB_FUZZ_CHECK(truncate.at("audio_end_ms").as_int64() == s.audio_end_ms);

  const auto create = mb::fuzz::json_object(proto::build_response_create(s.transcript));
  MB_FUZZ_CHECK(create.at("type") == "response.create");
  const auto* response = create.if_contains("response");
  MB_FUZZ_CHECK((response != nullptr) == !s.transcript.empty());
  if (response != nullptr) MB_FUZZ_CHECK(response->at("instructions").as_string() == s.transcript);

  // A function call's result goes back under its id; any text survives as the output string (I1).
  if (s.type != proto::realtime_event_type::function_call_done) return;
  const auto output = mb::fuzz::json_object(proto::build_function_call_output(s.call_id, s.arguments));
  MB_FUZZ_CHECK(output.at("item").at("call_id").as_string() == s.call_id);
  MB_FUZZ_CHECK(output.at("item").at("output").as_string() == s.arguments);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One parser for every input, as the bridge keeps one per call: state must not leak between parses.
  static proto::realtime_parser parser;
  const mb::fuzz::padded_input input(data, size);

  proto::realtime_event first;
  const auto s = snapshot(parser.parse(input.view(), input.capacity(), first), first);
  proto::realtime_event second;
  MB_FUZZ_CHECK(snapshot(parser.parse(input.view(), input.capacity(), second), second) == s);

  if (!s.error) check_builders(s);
  return 0;
}
