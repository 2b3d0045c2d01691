#include "call/event_json.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace mb::call;
namespace json = boost::json;

namespace {

const event_context context{"CA0123456789abcdef0123456789abcdef", "MZ0123456789abcdef0123456789abcdef",
                            "+15005550006", "+15005550001", 1738326896789};  // 2025-01-31T12:34:56.789Z

json::object parsed(const call_event& e) { return json::parse(event_json(context, e)).as_object(); }

}  // namespace

TEST_CASE("every event carries type, call_sid and time", "[call]") {
  const auto o = parsed(dtmf{"5"});
  CHECK(o.at("type").as_string() == "dtmf");
  CHECK(o.at("call_sid").as_string() == context.call_sid);
  CHECK(o.at("time").as_string() == "2025-01-31T12:34:56.789Z");
  CHECK(o.at("digit").as_string() == "5");
}

TEST_CASE("call.started names the caller, the parameters, the agent and the transport", "[call]") {
  const auto o = parsed(call_started{"MZ0123456789abcdef0123456789abcdef", {{"From", "+15005550006"}, {"agent", "sales"}},
                                     "sales"});
  CHECK(json::serialize(o) ==
        R"({"type":"call.started","call_sid":"CA0123456789abcdef0123456789abcdef","time":"2025-01-31T12:34:56.789Z",)"
        R"("stream_sid":"MZ0123456789abcdef0123456789abcdef","from":"+15005550006","to":"+15005550001",)"
        R"("agent":"sales","transport":"media-stream","parameters":{"From":"+15005550006","agent":"sales"}})");
}

TEST_CASE("call.started says whether OpenAI took the call over SIP", "[call]") {
  const auto o = parsed(call_started{"", {}, "sales", "sip"});
  CHECK(o.at("type").as_string() == "call.started");
  CHECK(o.at("transport").as_string() == "sip");
}

TEST_CASE("transcript events carry role, item_id and text, escaped", "[call]") {
  const auto delta = parsed(transcript_delta{role::caller, "item_1", "say \"hi\"\n\u00e9"});
  CHECK(delta.at("type").as_string() == "transcript.delta");
  CHECK(delta.at("role").as_string() == "caller");
  CHECK(delta.at("item_id").as_string() == "item_1");
  CHECK(delta.at("text").as_string() == "say \"hi\"\n\u00e9");
  CHECK(event_json(context, transcript_delta{role::caller, "i", "a\nb"}).find('\n') == std::string::npos);

  const auto caller = parsed(transcript_final{role::caller, "item_1", "hello", false, -1});
  CHECK(caller.at("type").as_string() == "transcript.final");
  CHECK_FALSE(caller.contains("interrupted"));
  CHECK_FALSE(caller.contains("heard_ms"));
  CHECK_FALSE(caller.contains("heard_text"));

  const auto heard = parsed(transcript_final{role::assistant, "item_2", "Hello there", false, -1});
  CHECK(heard.at("interrupted").as_bool() == false);
  CHECK_FALSE(heard.contains("heard_ms"));
  CHECK_FALSE(heard.contains("heard_text"));
  CHECK_FALSE(heard.contains("heard_text_estimated"));

  const auto cut = parsed(transcript_final{role::assistant, "item_3", "Let me check", true, 840, "Let me", true});
  CHECK(cut.at("role").as_string() == "assistant");
  CHECK(cut.at("interrupted").as_bool());
  CHECK(cut.at("heard_ms").as_int64() == 840);
  CHECK(cut.at("heard_text").as_string() == "Let me");
  CHECK(cut.at("heard_text_estimated").as_bool());

  // Nothing heard: an empty heard_text, still present.
  const auto unheard = parsed(transcript_final{role::assistant, "item_4", "Sure", true, 0, "", false});
  CHECK(unheard.at("heard_text").as_string() == "");
  CHECK(unheard.at("heard_text_estimated").as_bool() == false);
}

TEST_CASE("barge_in and call.ended", "[call]") {
  const auto b = parsed(barge_in{"item_3", 840});
  CHECK(b.at("type").as_string() == "barge_in");
  CHECK(b.at("item_id").as_string() == "item_3");
  CHECK(b.at("audio_end_ms").as_int64() == 840);

  const auto e = json::parse(event_json(context, call_end{end_reason::caller_hung_up, "Twilio sent stop", 61000, {120, 80, 200}}))
                     .as_object();
  CHECK(e.at("type").as_string() == "call.ended");
  CHECK(e.at("reason").as_string() == "caller_hung_up");
  CHECK(e.at("detail").as_string() == "Twilio sent stop");
  CHECK(e.at("duration_ms").as_int64() == 61000);
  CHECK(e.at("usage").at("input_tokens").as_int64() == 120);
  CHECK(e.at("usage").at("output_tokens").as_int64() == 80);
  CHECK(e.at("usage").at("total_tokens").as_int64() == 200);
}

TEST_CASE("turn.latency: the turn's waterfall in ms, to_heard_ms null for a turn cut before it was heard",
          "[call][waterfall]") {
  const auto heard = parsed(turn_waterfall{2, "item_7", true, 1738326895000, 412.25, 630.0004, 905.5, 0.1834});
  CHECK(heard.at("type").as_string() == "turn.latency");
  CHECK(heard.at("call_sid").as_string() == context.call_sid);
  CHECK(heard.at("at").as_int64() == 1738326895000);
  CHECK(heard.at("turn").as_int64() == 2);
  CHECK(heard.at("item_id").as_string() == "item_7");
  CHECK(heard.at("stopped_by").as_string() == "provider");
  CHECK(heard.at("to_first_delta_ms").as_double() == 412.25);
  CHECK(heard.at("to_first_audio_ms").as_double() == 630.0);  // whole µs
  CHECK(heard.at("to_heard_ms").as_double() == 905.5);
  CHECK(heard.at("bridge_ms").as_double() == Approx(0.183));

  const auto cut = parsed(turn_waterfall{3, "item_9", false, 1738326897000, 300, 520, std::nullopt, 0.25});
  CHECK(cut.at("stopped_by").as_string() == "estimate");
  CHECK(cut.at("to_heard_ms").is_null());
}

TEST_CASE("times are RFC 3339 UTC with ms, and parse back", "[call]") {
  CHECK(format_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_utc(951782400000) == "2000-02-29T00:00:00.000Z");
  CHECK(parse_utc("2025-01-31T12:34:56.789Z") == 1738326896789);
  CHECK(parse_utc("2025-01-31T12:34:56Z") == 1738326896000);
  CHECK(parse_utc("2025-01-31t13:34:56.7891+01:00") == 1738326896789);
  CHECK(parse_utc("2025-01-31T07:04:56.789-05:30") == 1738326896789);
  CHECK(parse_utc("1738326896789") == 1738326896789);
  CHECK_FALSE(parse_utc(""));
  CHECK_FALSE(parse_utc("2025-02-30T00:00:00Z"));
  CHECK_FALSE(parse_utc("2025-01-31T12:34:56"));
  CHECK_FALSE(parse_utc("2025-01-31T12:34:56.Z"));
  CHECK_FALSE(parse_utc("2025-01-31T24:00:00Z"));
  CHECK_FALSE(parse_utc("2025-01-31T12:34:56Zjunk"));
}
