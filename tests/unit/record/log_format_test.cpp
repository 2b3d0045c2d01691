#include <catch2/catch.hpp>

#include <string>

#include "record/log_format.hpp"

// Entries written with designated initializers name only the fields their direction uses.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using namespace mb::record;
using namespace std::string_literals;

namespace {

std::string entry_line(const log_entry& entry) {
  std::string out;
  append_entry(out, entry);
  return out;
}

std::string minified(std::string_view message) {
  std::string out;
  REQUIRE(minify_json(message, out));
  return out;
}

log_entry parsed_entry(std::string_view line) {
  std::string error;
  auto entry = parse_entry(line, error);
  INFO(error);
  REQUIRE(entry);
  return *entry;
}

}  // namespace

TEST_CASE("log_format: every direction has a name that reads back", "[record]") {
  for (const auto dir : {direction::twilio_in, direction::twilio_out, direction::upstream_in, direction::upstream_out,
                         direction::upstream_open, direction::upstream_closed, direction::event, direction::gap}) {
    CHECK(direction_from(to_string(dir)) == dir);
  }
  CHECK(to_string(direction::upstream_closed) == "upstream_closed");
  CHECK_FALSE(direction_from("twilio"));
  CHECK_FALSE(direction_from(""));
}

TEST_CASE("log_format: the header is one line that parses back", "[record]") {
  const log_header header{.call_sid = "CA1\"x",
                          .stream_sid = "MZ2",
                          .agent = "support",
                          .provider = "openai-realtime",
                          .started_at = 1765000000123,
                          .dtmf_masked = true};
  std::string line;
  append_header(line, header);
  CHECK(line ==
        R"({"type":"mediabridge.recording","version":1,"call_sid":"CA1\"x","stream_sid":"MZ2","agent":"support",)"
        R"("provider":"openai-realtime","started_at":1765000000123,"dtmf_masked":true})"
        "\n");
  std::string error;
  const auto back = parse_header(line, error);
  REQUIRE(back);
  CHECK(back->call_sid == header.call_sid);
  CHECK(back->stream_sid == header.stream_sid);
  CHECK(back->agent == header.agent);
  CHECK(back->provider == header.provider);
  CHECK(back->started_at == header.started_at);
  CHECK(back->dtmf_masked);
}

TEST_CASE("log_format: a header of another kind or version is refused with a reason", "[record]") {
  std::string error;
  CHECK_FALSE(parse_header(R"({"type":"other","version":1,"call_sid":"CA1","started_at":1})", error));
  CHECK(error.find("type") != std::string::npos);
  CHECK_FALSE(parse_header(R"({"type":"mediabridge.recording","version":2,"call_sid":"CA1","started_at":1})", error));
  CHECK(error.find("version") != std::string::npos);
  CHECK_FALSE(parse_header(R"({"type":"mediabridge.recording","version":1,"started_at":1})", error));
  CHECK(error.find("call_sid") != std::string::npos);
  CHECK_FALSE(parse_header(R"({"type":"mediabridge.recording","version":1,"call_sid":"CA1"})", error));
  CHECK(error.find("started_at") != std::string::npos);
  CHECK_FALSE(parse_header("not json", error));
  CHECK(error == "malformed JSON");
}

TEST_CASE("log_format: entries of each payload kind are written as the contract shows", "[record]") {
  CHECK(entry_line({.t_ms = 12.3456789, .dir = direction::twilio_in, .kind = payload_kind::json,
                    .payload = R"({"event":"mark","mark":{"name":"m1"}})"}) ==
        R"({"t":12.346,"dir":"twilio_in","msg":{"event":"mark","mark":{"name":"m1"}}})"
        "\n");
  CHECK(entry_line({.t_ms = 0, .dir = direction::upstream_open, .number = 2}) ==
        "{\"t\":0.000,\"dir\":\"upstream_open\",\"connection\":2}\n");
  CHECK(entry_line({.t_ms = 1500, .dir = direction::upstream_closed, .detail = "1006 \"abnormal\"\n", .number = 1}) ==
        "{\"t\":1500.000,\"dir\":\"upstream_closed\",\"connection\":1,\"detail\":\"1006 \\\"abnormal\\\"\\n\"}\n");
  CHECK(entry_line({.t_ms = 3.25, .dir = direction::twilio_in, .kind = payload_kind::raw, .payload = "hi\x01\xff"s}) ==
        "{\"t\":3.250,\"dir\":\"twilio_in\",\"raw\":\"hi\\u0001\xef\xbf\xbd\"}\n");
  CHECK(entry_line({.t_ms = 4, .dir = direction::upstream_out, .kind = payload_kind::masked,
                    .payload = "conversation.item.create"}) ==
        "{\"t\":4.000,\"dir\":\"upstream_out\",\"masked\":\"conversation.item.create\"}\n");
  CHECK(entry_line({.t_ms = 5, .dir = direction::gap, .number = 4096}) ==
        "{\"t\":5.000,\"dir\":\"gap\",\"dropped_bytes\":4096}\n");
}

TEST_CASE("log_format: every entry reads back as it was written", "[record]") {
  const log_entry entries[] = {
      {.t_ms = 12.346, .dir = direction::upstream_in, .kind = payload_kind::json,
       .payload = R"({"type":"response.audio.delta","delta":"AAA=","n":1.50e3,"s":"a \"q\" \\ b"})"},
      {.t_ms = 20, .dir = direction::event, .kind = payload_kind::json, .payload = R"([1,{"a":[]},"x"])"},
      {.t_ms = 21, .dir = direction::upstream_closed, .detail = "going away", .number = 3},
      {.t_ms = 22, .dir = direction::upstream_open, .number = 4},
      {.t_ms = 23, .dir = direction::twilio_in, .kind = payload_kind::raw, .payload = "not {json"},
      {.t_ms = 24, .dir = direction::upstream_out, .kind = payload_kind::masked, .payload = "input_text"},
      {.t_ms = 25, .dir = direction::gap, .number = 77},
  };
  for (const auto& written : entries) {
    const auto back = parsed_entry(entry_line(written));
    CHECK(back.t_ms == Approx(written.t_ms).margin(0.0005));
    CHECK(back.dir == written.dir);
    CHECK(back.kind == written.kind);
    CHECK(back.payload == written.payload);  // numbers as written, not re-serialised
    CHECK(back.detail == written.detail);
    CHECK(back.number == written.number);
  }
}

TEST_CASE("log_format: parse_entry takes a message written with whitespace and in any key order", "[record]") {
  const auto entry = parsed_entry(R"({ "msg" : { "event" : "stop", "x" : [ 1 , 2 ] } , "dir":"twilio_in", "t": 7 })");
  CHECK(entry.t_ms == 7);
  CHECK(entry.kind == payload_kind::json);
  CHECK(entry.payload == R"({"event":"stop","x":[1,2]})");
}

TEST_CASE("log_format: parse_entry refuses a bad entry with a bounded, printable reason", "[record]") {
  std::string error;
  CHECK_FALSE(parse_entry(R"({"dir":"twilio_in","msg":{}})", error));
  CHECK(error.find("t") != std::string::npos);
  CHECK_FALSE(parse_entry(R"({"t":1,"msg":{}})", error));
  CHECK(error.find("dir") != std::string::npos);
  CHECK_FALSE(parse_entry(R"({"t":1,"dir":"upstream_open"})", error));
  CHECK(error.find("connection") != std::string::npos);
  CHECK_FALSE(parse_entry(R"({"t":1,"dir":"gap"})", error));
  CHECK(error.find("dropped_bytes") != std::string::npos);
  CHECK_FALSE(parse_entry("{\"t\":1,\"dir\":\"x\\u001b[31m" + std::string(1000, 'y') + "\"}", error));
  CHECK(error.find('\x1b') == std::string::npos);
  CHECK(error.size() < 300);
  CHECK_FALSE(parse_entry(R"({"t":1,"dir":"twilio_in","msg":{})", error));
  CHECK(error == "malformed JSON");
}

TEST_CASE("log_format: minify_json drops whitespace outside strings only and refuses what is not JSON", "[record]") {
  CHECK(minified(" {\n \"a\" : \"x  y\\\" z\" ,\t\"b\" : [ 1 , true , null ] }\r\n") ==
        R"({"a":"x  y\" z","b":[1,true,null]})");
  CHECK(minified("\"\\\\\"") == R"("\\")");
  CHECK(minified("42") == "42");
  std::string out = "kept";
  CHECK(minify_json("{\"event\":\"media\"}", out));
  CHECK(out == "kept{\"event\":\"media\"}");  // appends
  std::string unused;
  CHECK_FALSE(minify_json("", unused));
  CHECK_FALSE(minify_json("{\"a\":1", unused));
  CHECK_FALSE(minify_json("{\"a\":1} trailing", unused));
  CHECK_FALSE(minify_json("{\"a\":\"line\nbreak\"}", unused));  // a raw control character in a string
  CHECK_FALSE(minify_json("{\"a\":\"\xff\"}"s, unused));
}

TEST_CASE("log_format: redact_twilio_start replaces the stream token's value and nothing else", "[record]") {
  const std::string start =
      R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1",)"
      R"("tracks":["inbound"],"customParameters":{"agent":"support","mb_stream_token":"1765.c2VjcmV0\"x",)"
      R"("after":"mb_stream_token"}},"streamSid":"MZ1"})";
  const std::string redacted_start = redact_twilio_start(start);
  CHECK(redacted_start ==
        R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1",)"
        R"("tracks":["inbound"],"customParameters":{"agent":"support","mb_stream_token":"[redacted]",)"
        R"("after":"mb_stream_token"}},"streamSid":"MZ1"})");
  CHECK(redacted_start.find("c2VjcmV0") == std::string::npos);

  // A repeated key is redacted every time; other messages are left alone, even if they name the token.
  CHECK(redact_twilio_start(
            R"({"event":"start","start":{"customParameters":{"mb_stream_token":"a","mb_stream_token":"b"}}})") ==
        R"({"event":"start","start":{"customParameters":{"mb_stream_token":"[redacted]","mb_stream_token":"[redacted]"}}})");
  const std::string media = R"({"event":"media","start":{"customParameters":{"mb_stream_token":"a"}}})";
  CHECK(redact_twilio_start(media) == media);
  CHECK(redact_twilio_start(R"({"event":"start"})") == R"({"event":"start"})");
  CHECK(redact_twilio_start("{\"event\":\"start\",\"start\":{\"customParameters\":{\"mb_stream_token\":") ==
        "{\"event\":\"start\",\"start\":{\"customParameters\":{\"mb_stream_token\":");
}
