#include "protocol/live_events.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/support/padded.hpp"

using namespace mb::protocol;
namespace json = boost::json;

// Events are our own minimal examples shaped like docs/protocols.md D4/D7/D8; builders are checked
// field by field against D2/D3.

namespace {

using parsed = mb::test::parsed<live_parser, live_event>;

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

session_config config_with(std::string instructions, std::string voice) {
  session_config c;
  c.model = "gpt-live-1";
  c.instructions = std::move(instructions);
  c.voice = std::move(voice);
  return c;
}

}  // namespace

TEST_CASE("live_parser: output audio delta, with and without timing", "[live]") {
  parsed p(R"({"type":"session.output_audio.delta","event_id":"e1","delta":"//79AAAA","start_ms":1200,"end_ms":1220})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::output_audio_delta);
  CHECK(p.ev.type_name == "session.output_audio.delta");
  CHECK(p.ev.delta == "//79AAAA");
  CHECK(p.ev.start_ms == 1200);
  CHECK(p.ev.end_ms == 1220);

  p.parse(R"({"type":"session.output_audio.delta","delta":"AAAA"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.delta == "AAAA");
  CHECK_FALSE(p.ev.start_ms);  // the previous event's fields are gone
  CHECK_FALSE(p.ev.end_ms);
}

TEST_CASE("live_parser: transcript deltas of both speakers", "[live]") {
  parsed p(R"({"type":"session.input_transcript.delta","event_id":"e2","delta":"Hel\"lo\n",)"
           R"("start_ms":0,"end_ms":480})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::input_transcript_delta);
  CHECK(p.ev.delta == "Hel\"lo\n");
  CHECK(p.ev.start_ms == 0);
  CHECK(p.ev.end_ms == 480);

  p.parse(R"({"type":"session.output_transcript.delta","event_id":"e3","delta":"Hi","start_ms":500,"end_ms":700,)"
          R"("client_event_id":"x"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::output_transcript_delta);
  CHECK(p.ev.delta == "Hi");
  CHECK(p.ev.end_ms == 700);
}

TEST_CASE("live_parser: a delta without its text is rejected", "[live]") {
  parsed p(R"({"type":"session.output_transcript.delta","start_ms":1,"end_ms":2})");
  REQUIRE(p.error);
  CHECK(p.error->what == "delta is missing");
  p.parse(R"({"type":"session.output_audio.delta","delta":7})");
  REQUIRE(p.error);
  CHECK(p.error->what == "delta is not a string");
}

TEST_CASE("live_parser: session.started carries the one audio format, model and expiry", "[live]") {
  parsed p(R"({"type":"session.started","event_id":"e0","session":{"id":"live_1","expires_at":1767225600,)"
           R"("model":"gpt-live-1","status":"active","audio":{"format":{"type":"audio/pcmu","rate":8000},)"
           R"("output":{"voice":"marin"}},"delegation":{"type":"client"},"instructions":"x","store":false}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::session_started);
  CHECK(p.ev.audio_format == "audio/pcmu");
  CHECK(p.ev.audio_rate == 8000);
  CHECK(p.ev.model == "gpt-live-1");
  CHECK(p.ev.expires_at == 1767225600);

  p.parse(R"({"type":"session.updated","session":{"id":"live_1","model":"gpt-live-1","status":"active"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::session_updated);
  CHECK(p.ev.audio_format.empty());  // no audio.format: the adapter's format guard decides
  CHECK(p.ev.audio_rate == 0);

  p.parse(R"({"type":"session.started"})");
  REQUIRE(p.error);
  CHECK(p.error->what == "session is missing");
}

TEST_CASE("live_parser: session.closed with its reason and final usage", "[live]") {
  parsed p(R"({"type":"session.closed","event_id":"e9","reason":"expired","session":{"id":"live_1"},)"
           R"("usage":{"seconds":3599}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::session_closed);
  CHECK(p.ev.reason == "expired");
  CHECK(p.ev.usage_seconds == 3599);

  p.parse(R"({"type":"session.closed"})");  // lenient: the session still ended
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::session_closed);
  CHECK(p.ev.reason.empty());
}

TEST_CASE("live_parser: error with every field, and without the optional ones", "[live]") {
  parsed p(R"({"type":"error","event_id":"e5","error":{"type":"invalid_request_error","code":"invalid_audio",)"
           R"("message":"bad","param":"audio","client_event_id":"mb_session_start"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::error);
  CHECK(p.ev.error.type == "invalid_request_error");
  CHECK(p.ev.error.code == "invalid_audio");
  CHECK(p.ev.error.message == "bad");
  CHECK(p.ev.error.param == "audio");
  CHECK(p.ev.error.event_id == "mb_session_start");

  p.parse(R"({"type":"error","error":{"type":"server_error","code":"x","message":"m","param":null}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.error.param.empty());
  CHECK(p.ev.error.event_id.empty());

  p.parse(R"({"type":"error"})");
  REQUIRE(p.error);
  CHECK(p.error->what == "error object is missing");
}

TEST_CASE("live_parser: usage, known events without use, and unknown events", "[live]") {
  parsed p(R"({"type":"session.usage.updated","usage":{"seconds":61},"context_window":{"usage_ratio":0.1}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::usage_updated);
  CHECK(p.ev.usage_seconds == 61);

  for (const auto* type : {"session.delegation.created", "response.event", "info", "session.instructions.appended",
                           "session.thinking.appended", "session.commentary.appended", "session.input_audio.muted",
                           "session.input_audio.unmuted"}) {
    p.parse(std::string(R"({"type":")") + type + R"(","event_id":"e"})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.type == live_event_type::ignored);
    CHECK(p.ev.type_name == type);
  }

  p.parse(R"({"type":"session.created","event":"5"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::unknown);
  CHECK(p.ev.type_name == "session.created");
}

TEST_CASE("live_parser: malformed messages", "[live]") {
  parsed p(R"({"event_id":"e"})");
  REQUIRE(p.error);
  CHECK(p.error->what == "type is missing");
  p.parse(R"([1,2])");
  REQUIRE(p.error);
  CHECK(p.error->what == "malformed JSON (not an object)");
  p.parse(R"({"type":"session.output_audio.delta","delta":"AA)");
  REQUIRE(p.error);
  CHECK(p.error->what == "malformed JSON");
}

TEST_CASE("build_session_start: model, instructions, μ-law both ways, voice, no delegation", "[live]") {
  const auto start = parse_object(build_session_start(config_with("Be brief.", "marin"), {}));
  CHECK(start.at("type") == "session.start");
  CHECK(start.at("event_id").as_string() == session_start_event_id);
  const auto& session = start.at("session").as_object();
  CHECK(session.at("model") == "gpt-live-1");
  CHECK(session.at("instructions") == "Be brief.");
  const auto& audio = session.at("audio").as_object();
  CHECK(audio.at("format").as_object() == json::object{{"type", "audio/pcmu"}, {"rate", 8000}});
  CHECK(audio.at("output").as_object() == json::object{{"voice", "marin"}});
  // The config is strict (D2): only these fields, and client delegation by omission.
  CHECK(session.size() == 3);
  CHECK_FALSE(session.contains("delegation"));
  CHECK_FALSE(session.contains("input"));
}

TEST_CASE("build_session_start: no voice and no instructions leave the server defaults", "[live]") {
  const auto start = parse_object(build_session_start(config_with("", ""), {}));
  const auto& session = start.at("session").as_object();
  CHECK_FALSE(session.contains("instructions"));
  CHECK_FALSE(session.at("audio").as_object().contains("output"));
}

TEST_CASE("build_session_start: the caller's language and vocabulary follow the instructions", "[live]") {
  auto config = config_with("Be brief.", "marin");
  config.transcription_language = "ja";
  config.transcription_prompt = "Mediabridge, Twilio";
  CHECK(live_instructions(config) ==
        "Be brief.\n\nThe caller speaks the language with ISO 639-1 code ja. Vocabulary: Mediabridge, Twilio.");
  const auto start = parse_object(build_session_start(config, {}));
  CHECK(start.at("session").at("instructions").as_string() == live_instructions(config));

  config.transcription_language.clear();
  config.transcription_prompt = "Acme, Zorblax.";
  CHECK(live_instructions(config) == "Be brief.\n\nVocabulary: Acme, Zorblax.");

  config.instructions.clear();
  config.transcription_language = "es";
  config.transcription_prompt.clear();
  CHECK(live_instructions(config) == "The caller speaks the language with ISO 639-1 code es.");
}

TEST_CASE("build_session_start: history as text messages, newest 128, empty ones left out", "[live]") {
  std::vector<std::string> texts;
  for (int i = 0; i < 131; ++i) texts.push_back("t" + std::to_string(i));
  std::vector<live_history_message> history;
  for (int i = 0; i < 131; ++i) history.push_back({i % 2 == 0 ? live_role::user : live_role::assistant, texts[i]});

  const auto start = parse_object(build_session_start(config_with("x", "marin"), history));
  const auto& input = start.at("session").at("input").as_array();
  REQUIRE(input.size() == max_live_history_messages);
  // t0..t2 dropped: the oldest go first.
  CHECK(input.front() == json::parse(R"({"type":"message","role":"assistant",)"
                                     R"("content":[{"type":"output_text","text":"t3"}]})"));
  CHECK(input.back() == json::parse(R"({"type":"message","role":"user",)"
                                    R"("content":[{"type":"input_text","text":"t130"}]})"));

  const live_history_message with_empty[] = {{live_role::user, "Hello"}, {live_role::assistant, ""}};
  const auto short_start = parse_object(build_session_start(config_with("x", "marin"), with_empty));
  CHECK(short_start.at("session").at("input").as_array().size() == 1);
}

TEST_CASE("build_live_input_audio_append appends one message to the caller's buffer", "[live]") {
  std::string out = "kept";
  out.clear();
  build_live_input_audio_append(out, "//79AAAA");
  CHECK(out == R"({"type":"session.input_audio.append","audio":"//79AAAA"})");
  CHECK(parse_object(out).at("audio") == "//79AAAA");
}

TEST_CASE("build_instructions_append and build_session_close", "[live]") {
  const auto append = parse_object(build_instructions_append("Greet the \"caller\"."));
  CHECK(append.at("type") == "session.instructions.append");
  CHECK(append.at("content") == "Greet the \"caller\".");
  REQUIRE(append.contains("delegation_id"));  // required, and null for general context (D3)
  CHECK(append.at("delegation_id").is_null());
  CHECK(append.at("event_id").as_string() == instructions_append_event_id);

  const auto close = parse_object(build_session_close());
  CHECK(close.at("type") == "session.close");
  CHECK(close.at("event_id").as_string() == session_close_event_id);
  CHECK(close.size() == 2);
}

TEST_CASE("live_parser: a function call wrapped in response.event (docs/protocols.md I2)", "[live]") {
  parsed p(R"({"type":"response.event","event_id":"e","delegation_id":"del_1","event":{"type":"response.output_item.done",)"
           R"("output_index":0,"item":{"type":"function_call","id":"fc_1","status":"completed","call_id":"call_9",)"
           R"("name":"lookup_order","arguments":"{\"order\":\"42\"}"}}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == live_event_type::function_call);
  CHECK(p.ev.type_name == "response.event");
  CHECK(p.ev.call_id == "call_9");
  CHECK(p.ev.tool_name == "lookup_order");
  CHECK(p.ev.arguments == R"({"order":"42"})");

  // Everything else the delegation reports is ignored, as is a call cut short.
  for (const auto* text : {
           R"({"type":"response.event","event":{"type":"response.created","response":{"id":"resp_1"}}})",
           R"({"type":"response.event","event":{"type":"response.function_call_arguments.done","call_id":"c","arguments":"{}"}})",
           R"({"type":"response.event","event":{"type":"response.output_item.done","item":{"type":"message"}}})",
           R"({"type":"response.event","event":{"type":"response.output_item.done","item":{"type":"function_call","status":"incomplete","call_id":"c","name":"f","arguments":"{"}}})",
           R"({"type":"response.event","event":"x"})",
       }) {
    INFO(text);
    p.parse(text);
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.type == live_event_type::ignored);
  }

  p.parse(R"({"type":"response.event","event":{"type":"response.output_item.done","item":{"type":"function_call","name":"f","arguments":"{}"}}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "event.item.call_id is missing");
  p.parse(R"({"type":"response.event","event":{"type":"response.output_item.done","item":{"type":"function_call","call_id":"c","name":"f"}}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "event.item.arguments is missing");
}

TEST_CASE("build_session_start: tools go into a Responses delegation (docs/protocols.md I2)", "[live]") {
  auto config = config_with("Be brief.", "marin");
  config.tools = {{"lookup_order", "Find an order", R"({"type":"object","properties":{"id":{"type":"string"}}})"},
                  {"bad", "", "7"},
                  {"end_call", "Hang up", ""}};
  const auto session = parse_object(build_session_start(config, {})).at("session").as_object();
  CHECK(session.at("delegation") ==
        json::object{{"type", "responses"},
                     {"responses",
                      {{"tools",
                        json::array{json::object{{"type", "function"},
                                                 {"name", "lookup_order"},
                                                 {"description", "Find an order"},
                                                 {"parameters", json::parse(R"({"type":"object","properties":{"id":{"type":"string"}}})")},
                                                 {"strict", false}},
                                    json::object{{"type", "function"},
                                                 {"name", "end_call"},
                                                 {"description", "Hang up"},
                                                 {"parameters", {{"type", "object"}, {"properties", json::object{}}}},
                                                 {"strict", false}}}}}}});
  CHECK(session.size() == 4);  // model, audio, instructions, delegation

  config.tools = {{"bad", "", ""}};
  config.tools.front().parameters_json = "[1]";
  CHECK_FALSE(parse_object(build_session_start(config, {})).at("session").as_object().contains("delegation"));
}

TEST_CASE("build_live_function_call_output and build_live_response_create (docs/protocols.md I2)", "[live]") {
  const auto item = parse_object(build_live_function_call_output("call_\"9", R"({"error":"timeout"})"));
  CHECK(item == json::object{{"type", "response.item.create"},
                             {"event_id", tool_result_event_id},
                             {"item",
                              {{"type", "function_call_output"}, {"call_id", "call_\"9"}, {"output", R"({"error":"timeout"})"}}}});
  const auto create = parse_object(build_live_response_create());
  CHECK(create == json::object{{"type", "response.create"}, {"event_id", tool_result_event_id}});
}

TEST_CASE("live_parser: a SIP call's sideband: DTMF keys, reflected audio, transport events (docs/protocols.md J4)",
          "[live]") {
  parsed key(R"({"type":"transport.dtmf.received","event_id":"e1","event":"*"})");
  REQUIRE_FALSE(key.error);
  CHECK(key.ev.type == live_event_type::dtmf_received);
  CHECK(key.ev.dtmf_key == "*");
  parsed missing(R"({"type":"transport.dtmf.received","event_id":"e1"})");
  CHECK(missing.error);
  for (const auto* type : {"session.input_audio.append", "transport.dtmf.send", "transport.ringing",
                           "transport.answered", "transport.failed"}) {
    parsed other(R"({"type":")" + std::string(type) + R"(","event_id":"e2"})");
    REQUIRE_FALSE(other.error);
    CHECK(other.ev.type == live_event_type::ignored);
  }
}
