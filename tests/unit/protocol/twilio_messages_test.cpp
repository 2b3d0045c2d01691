#include "protocol/twilio_messages.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>

using namespace mb::protocol;

// Messages are our own minimal examples shaped like protocols.md B3 (from Twilio) and B4 (to Twilio).

namespace {

const std::string stream_sid = "MZ0123456789abcdef0123456789abcdef";
const std::string call_sid = "CA0123456789abcdef0123456789abcdef";

// Owns the padded input and the parser, so the string_views in `msg` stay valid for the test.
struct parsed {
  twilio_parser parser;
  std::string buffer;
  twilio_message msg;
  std::optional<parse_error> error;

  explicit parsed(std::string_view json) { parse(json); }

  void parse(std::string_view json) {
    buffer.clear();
    buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(json);
    error = parser.parse(buffer, buffer.capacity(), msg);
  }
};

std::string start_json(std::string_view media_format) {
  return R"({"event":"start","sequenceNumber":"1","streamSid":")" + stream_sid +
         R"(","start":{"streamSid":")" + stream_sid + R"(","accountSid":"AC0123","callSid":")" + call_sid +
         R"(","tracks":["inbound"],"customParameters":{"tenant":"acme","note":"say \"hi\"\n"},"mediaFormat":)" +
         std::string(media_format) + "}}";
}

constexpr std::string_view standard_format = R"({"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1})";

boost::json::object parse_object(std::string_view json) { return boost::json::parse(json).as_object(); }

}  // namespace

TEST_CASE("twilio_parser: connected", "[protocol]") {
  parsed p(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.msg.event == twilio_event::connected);
  CHECK(p.msg.event_name == "connected");
  CHECK(p.msg.stream_sid.empty());
  CHECK_FALSE(p.msg.start);
}

TEST_CASE("twilio_parser: start with every field", "[protocol]") {
  parsed p(start_json(standard_format));
  REQUIRE_FALSE(p.error);
  CHECK(p.msg.event == twilio_event::start);
  CHECK(p.msg.stream_sid == stream_sid);
  REQUIRE(p.msg.start);
  const auto& s = *p.msg.start;
  CHECK(s.stream_sid == stream_sid);
  CHECK(s.call_sid == call_sid);
  CHECK(s.account_sid == "AC0123");
  REQUIRE(s.custom_parameters.size() == 2);
  CHECK(s.custom_parameters[0] == std::pair<std::string, std::string>{"tenant", "acme"});
  // JSON escapes are decoded.
  CHECK(s.custom_parameters[1] == std::pair<std::string, std::string>{"note", "say \"hi\"\n"});
  CHECK(s.encoding == "audio/x-mulaw");
  CHECK(s.sample_rate == 8000);
  CHECK(s.channels == 1);
}

TEST_CASE("twilio_parser: start is lenient about numbers as strings, strict about the rest", "[protocol]") {
  SECTION("sampleRate and channels as strings") {
    parsed p(start_json(R"({"encoding":"audio/x-mulaw","sampleRate":"8000","channels":"1"})"));
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.start->sample_rate == 8000);
    CHECK(p.msg.start->channels == 1);
  }
  SECTION("other formats parse; judging them is call_state's job") {
    parsed p(start_json(R"({"encoding":"audio/x-alaw","sampleRate":16000,"channels":2})"));
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.start->encoding == "audio/x-alaw");
    CHECK(p.msg.start->sample_rate == 16000);
    CHECK(p.msg.start->channels == 2);
  }
  SECTION("accountSid and customParameters are optional") {
    parsed p(R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","mediaFormat":)" +
             std::string(standard_format) + "}}");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.start->account_sid.empty());
    CHECK(p.msg.start->custom_parameters.empty());
  }

  const char* bad[] = {
      R"({"event":"start"})",                                   // no start object
      R"({"event":"start","start":"x"})",                       // start not an object
      R"({"event":"start","start":{"callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})",
      R"({"event":"start","start":{"streamSid":7,"callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})",
      R"({"event":"start","start":{"streamSid":"MZ1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})",
      R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1"}})",  // no mediaFormat
      R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","mediaFormat":{"sampleRate":8000,"channels":1}}})",
      R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","channels":1}}})",
      R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"8k","channels":1}}})",
      R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":true}}})",
      R"({"event":"start","start":{"streamSid":"MZ1","callSid":"CA1","customParameters":{"n":1},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})",
  };
  for (const char* json : bad) {
    INFO(json);
    parsed p(json);
    CHECK(p.error);
  }
}

TEST_CASE("twilio_parser: start error messages name the field", "[protocol]") {
  parsed missing(R"({"event":"start","start":{"streamSid":"MZ1","mediaFormat":{}}})");
  REQUIRE(missing.error);
  CHECK(missing.error->what == "start.callSid is missing");
  parsed wrong(R"({"event":"start","start":{"streamSid":1,"callSid":"CA1"}})");
  REQUIRE(wrong.error);
  CHECK(wrong.error->what == "start.streamSid is not a string");
}

TEST_CASE("twilio_parser: media with chunk and timestamp as strings or numbers", "[protocol]") {
  SECTION("strings, as in Twilio's docs") {
    parsed p(R"({"event":"media","sequenceNumber":"4","streamSid":"MZ1",)"
             R"("media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"//79"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.event == twilio_event::media);
    CHECK(p.msg.stream_sid == "MZ1");
    CHECK(p.msg.media.track == "inbound");
    CHECK(p.msg.media.chunk == 2);
    CHECK(p.msg.media.timestamp_ms == 5);
    CHECK(p.msg.media.payload == "//79");
  }
  SECTION("numbers") {
    parsed p(R"({"event":"media","media":{"track":"inbound","chunk":3,"timestamp":1240,"payload":"AAAA"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.media.chunk == 3);
    CHECK(p.msg.media.timestamp_ms == 1240);
    CHECK(p.msg.media.payload == "AAAA");
  }
  SECTION("track, chunk and timestamp are optional") {
    parsed p(R"({"event":"media","media":{"payload":""}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.media.track.empty());
    CHECK(p.msg.media.chunk == 0);
    CHECK(p.msg.media.timestamp_ms == 0);
    CHECK(p.msg.media.payload.empty());
  }
  SECTION("unusable chunk or timestamp values are left at 0 (parse leniently, B3)") {
    parsed p(R"({"event":"media","media":{"chunk":"two","timestamp":true,"payload":"AAAA"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.media.chunk == 0);
    CHECK(p.msg.media.timestamp_ms == 0);
    CHECK(p.msg.media.payload == "AAAA");
  }
  SECTION("field order does not matter") {
    parsed p(R"({"media":{"payload":"AAAA","timestamp":"60","chunk":"4"},"streamSid":"MZ2","event":"media"})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.event == twilio_event::media);
    CHECK(p.msg.stream_sid == "MZ2");
    CHECK(p.msg.media.timestamp_ms == 60);
    CHECK(p.msg.media.chunk == 4);
  }
}

TEST_CASE("twilio_parser: media without a usable payload is an error", "[protocol]") {
  const char* bad[] = {
      R"({"event":"media"})",
      R"({"event":"media","media":[]})",
      R"({"event":"media","media":{"track":"inbound"}})",
      R"({"event":"media","media":{"payload":12}})",
      R"({"event":"media","media":{"payload":null}})",
  };
  for (const char* json : bad) {
    INFO(json);
    parsed p(json);
    CHECK(p.error);
  }
  parsed p(R"({"event":"media","media":{"payload":12}})");
  CHECK(p.error->what == "media.payload is not a string");
}

TEST_CASE("twilio_parser: mark, dtmf, stop", "[protocol]") {
  SECTION("mark") {
    parsed p(R"({"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"3.17"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.event == twilio_event::mark);
    CHECK(p.msg.mark_name == "3.17");
  }
  SECTION("mark without name or object") {
    parsed no_name(R"({"event":"mark","streamSid":"MZ1","mark":{}})");
    REQUIRE(no_name.error);
    CHECK(no_name.error->what == "mark.name is missing");
    parsed no_obj(R"({"event":"mark","streamSid":"MZ1"})");
    CHECK(no_obj.error);
    parsed number(R"({"event":"mark","mark":{"name":1}})");
    CHECK(number.error);
  }
  SECTION("dtmf") {
    parsed p(R"({"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.event == twilio_event::dtmf);
    CHECK(p.msg.dtmf_digit == "1");
    parsed bad(R"({"event":"dtmf","dtmf":{"track":"inbound_track"}})");
    CHECK(bad.error);
    parsed no_obj(R"({"event":"dtmf"})");
    CHECK(no_obj.error);
  }
  SECTION("stop") {
    parsed p(R"({"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.msg.event == twilio_event::stop);
    CHECK(p.msg.stream_sid == "MZ1");
  }
}

TEST_CASE("twilio_parser: unknown events parse and keep their name", "[protocol]") {
  parsed p(R"({"event":"something_new","streamSid":"MZ1"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.msg.event == twilio_event::unknown);
  CHECK(p.msg.event_name == "something_new");
}

TEST_CASE("twilio_parser: rejects what is not a Twilio message", "[protocol]") {
  const char* bad[] = {
      "",
      "not json",
      R"({"event":"media",)",
      R"({"event":)",
      R"(["event","media"])",
      R"("media")",
      "42",
      "null",
      R"({})",
      R"({"event":5})",
      R"({"event":null})",
      R"({"Event":"media"})",
  };
  for (const char* json : bad) {
    INFO(json);
    parsed p(json);
    CHECK(p.error);
  }
  parsed missing("{}");
  CHECK(missing.error->what == "event is missing");
  parsed array("[1]");
  CHECK(array.error->what == "malformed JSON (not an object)");
}

TEST_CASE("twilio_parser: a structural error mid-document is malformed, not a crash", "[protocol]") {
  // simdjson's on-demand lookups crashed on these (found by fuzzing): the DOM parse validates first.
  const std::string media_prefix = R"({"event":"media","streamSid":")" + stream_sid + R"(","media":{)";
  for (const std::string& text : {
           media_prefix + R"("track":"inbound","chunk":"2","timestamp":"5","payload":"//8=":"4","x":"y"}})",
           media_prefix + R"("payload":"//8=","track":"inbound":"x","chunk":"2","timestamp":"5"}})",
           start_json(R"({"encoding":"audio/x-mulaw","sampleRate":8000:1,"channels":1})"),
       }) {
    INFO(text);
    parsed p(text);
    REQUIRE(p.error);
    CHECK(p.error->what == "malformed JSON");
  }
}

TEST_CASE("twilio_parser: a reused parser does not leak fields between messages", "[protocol]") {
  parsed p(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"1.1"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.msg.mark_name == "1.1");
  p.parse(R"({"event":"stop"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.msg.event == twilio_event::stop);
  CHECK(p.msg.mark_name.empty());
  CHECK(p.msg.stream_sid.empty());
  p.parse(start_json(standard_format));
  REQUIRE(p.msg.start);
  p.parse(R"({"event":"connected"})");
  CHECK_FALSE(p.msg.start);
  // An error after a good parse leaves no stale event behind.
  p.parse(R"({"event":"media","streamSid":"MZ1","media":{"payload":"AAAA"}})");
  REQUIRE_FALSE(p.error);
  p.parse("[]");
  CHECK(p.error);
  CHECK(p.msg.event == twilio_event::unknown);
}

TEST_CASE("is_safe_sid", "[protocol]") {
  CHECK(is_safe_sid(stream_sid));
  CHECK(is_safe_sid(call_sid));
  CHECK(is_safe_sid("MZ_test-1"));
  CHECK(is_safe_sid(std::string(64, 'a')));
  CHECK_FALSE(is_safe_sid(""));
  CHECK_FALSE(is_safe_sid(std::string(65, 'a')));
  // Anything that would need JSON escaping or could split a log line.
  for (const char* sid : {"MZ\"1", "MZ\\1", "MZ 1", "MZ\n1", "MZ/1", "MZ.1", "MZ\xc3\xa9", "MZ<1>", "MZ{}"}) {
    INFO(sid);
    CHECK_FALSE(is_safe_sid(sid));
  }
}

TEST_CASE("twilio builders produce the B4 shapes", "[protocol]") {
  SECTION("media") {
    std::string out = "prefix";  // builders append
    build_twilio_media(out, stream_sid, "AAAA/+8=");
    REQUIRE(out.rfind("prefix", 0) == 0);
    const auto obj = parse_object(std::string_view(out).substr(6));
    CHECK(obj.size() == 3);
    CHECK(obj.at("event") == "media");
    CHECK(obj.at("streamSid") == stream_sid.c_str());
    const auto& media = obj.at("media").as_object();
    CHECK(media.size() == 1);
    CHECK(media.at("payload") == "AAAA/+8=");
  }
  SECTION("mark") {
    std::string out;
    build_twilio_mark(out, stream_sid, "2.41");
    const auto obj = parse_object(out);
    CHECK(obj.size() == 3);
    CHECK(obj.at("event") == "mark");
    CHECK(obj.at("streamSid") == stream_sid.c_str());
    CHECK(obj.at("mark").as_object().size() == 1);
    CHECK(obj.at("mark").at("name") == "2.41");
  }
  SECTION("clear") {
    std::string out;
    build_twilio_clear(out, stream_sid);
    const auto obj = parse_object(out);
    CHECK(obj.size() == 2);
    CHECK(obj.at("event") == "clear");
    CHECK(obj.at("streamSid") == stream_sid.c_str());
  }
  SECTION("several messages appended to one buffer stay separable") {
    std::string out;
    build_twilio_clear(out, stream_sid);
    const auto first = out.size();
    build_twilio_mark(out, stream_sid, "1.1");
    CHECK(parse_object(std::string_view(out).substr(0, first)).at("event") == "clear");
    CHECK(parse_object(std::string_view(out).substr(first)).at("event") == "mark");
  }
}

TEST_CASE("twilio builders round-trip through twilio_parser", "[protocol]") {
  std::string out;
  build_twilio_mark(out, stream_sid, "7.9");
  parsed p(out);
  REQUIRE_FALSE(p.error);
  CHECK(p.msg.event == twilio_event::mark);
  CHECK(p.msg.stream_sid == stream_sid);
  CHECK(p.msg.mark_name == "7.9");
}
