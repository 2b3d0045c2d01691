#include "protocol/realtime_events.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "tests/unit/support/padded.hpp"

using namespace mb::protocol;
namespace json = boost::json;

// Events are our own minimal examples shaped like protocols.md A4/A5/A8; builders are checked
// field by field against the GA shapes of A2/A3/A7.

namespace {

using parsed = mb::test::parsed<realtime_parser, realtime_event>;

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

std::string session_event(std::string_view type, std::string_view in, std::string_view out) {
  return R"({"type":")" + std::string(type) + R"(","event_id":"e1","session":{"type":"realtime","object":"realtime.session",)"
         R"("id":"sess_1","model":"gpt-realtime","output_modalities":["audio"],"instructions":"x",)"
         R"("audio":{"input":{"format":{"type":")" + std::string(in) +
         R"("},"transcription":null,"noise_reduction":null,"turn_detection":{"type":"server_vad","threshold":0.5}},)"
         R"("output":{"format":{"type":")" + std::string(out) + R"("},"voice":"marin","speed":1.0}},)"
         R"("tools":[],"tool_choice":"auto","max_output_tokens":"inf","tracing":null,"expires_at":1756324625}})";
}

}  // namespace

TEST_CASE("realtime_parser: output audio delta and done", "[protocol]") {
  parsed p(R"({"type":"response.output_audio.delta","event_id":"e2","response_id":"resp_1","item_id":"item_1",)"
           R"("output_index":0,"content_index":1,"delta":"//79AAAA"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::output_audio_delta);
  CHECK(p.ev.type_name == "response.output_audio.delta");
  CHECK(p.ev.response_id == "resp_1");
  CHECK(p.ev.item_id == "item_1");
  CHECK(p.ev.content_index == 1);
  CHECK(p.ev.delta == "//79AAAA");

  p.parse(R"({"type":"response.output_audio.done","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::output_audio_done);
  CHECK(p.ev.response_id == "resp_1");
  CHECK(p.ev.item_id == "item_1");
  CHECK(p.ev.content_index == 0);
  CHECK(p.ev.delta.empty());  // the previous event's fields are gone
}

TEST_CASE("realtime_parser: output audio transcript delta and done", "[protocol]") {
  parsed p(R"({"type":"response.output_audio_transcript.delta","response_id":"r","item_id":"i","output_index":0,)"
           R"("content_index":0,"delta":"Hel\"lo\n"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::output_audio_transcript_delta);
  CHECK(p.ev.delta == "Hel\"lo\n");
  CHECK(p.ev.item_id == "i");
  CHECK(p.ev.response_id == "r");

  p.parse(R"({"type":"response.output_audio_transcript.done","response_id":"r","item_id":"i","content_index":0,)"
          R"("transcript":"Hello there."})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::output_audio_transcript_done);
  CHECK(p.ev.transcript == "Hello there.");
  CHECK(p.ev.item_id == "i");
}

TEST_CASE("realtime_parser: caller transcription events", "[protocol]") {
  parsed p(R"({"type":"conversation.item.input_audio_transcription.delta","item_id":"u1","content_index":0,)"
           R"("delta":"I need","obfuscation":"abc"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::input_transcription_delta);
  CHECK(p.ev.item_id == "u1");
  CHECK(p.ev.delta == "I need");

  p.parse(R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"u1","content_index":0,)"
          R"("transcript":"I need help.","usage":{"type":"tokens","total_tokens":5,"input_tokens":3,"output_tokens":2}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::input_transcription_completed);
  CHECK(p.ev.transcript == "I need help.");
  CHECK(p.ev.usage.total_tokens == 0);  // transcription usage is not response usage

  p.parse(R"({"type":"conversation.item.input_audio_transcription.failed","item_id":"u2","content_index":0,)"
          R"("error":{"type":"server_error","code":"x","message":"m","param":null}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::input_transcription_failed);
  CHECK(p.ev.item_id == "u2");
}

TEST_CASE("realtime_parser: input audio buffer events", "[protocol]") {
  parsed p(R"({"type":"input_audio_buffer.speech_started","event_id":"e","audio_start_ms":1000,"item_id":"u3"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::speech_started);
  CHECK(p.ev.audio_start_ms == 1000);
  CHECK(p.ev.item_id == "u3");

  p.parse(R"({"type":"input_audio_buffer.speech_stopped","audio_end_ms":2000,"item_id":"u3"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::speech_stopped);
  CHECK(p.ev.audio_end_ms == 2000);

  p.parse(R"({"type":"input_audio_buffer.committed","previous_item_id":null,"item_id":"u3"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::input_audio_committed);
  CHECK(p.ev.item_id == "u3");

  // The fields are informational: their absence is not an error.
  p.parse(R"({"type":"input_audio_buffer.speech_started"})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::speech_started);
  CHECK(p.ev.audio_start_ms == 0);
}

TEST_CASE("realtime_parser: conversation.item.truncated", "[protocol]") {
  parsed p(R"({"type":"conversation.item.truncated","item_id":"a1","content_index":0,"audio_end_ms":1500})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::item_truncated);
  CHECK(p.ev.item_id == "a1");
  CHECK(p.ev.audio_end_ms == 1500);
}

TEST_CASE("realtime_parser: response.created and response.done with usage", "[protocol]") {
  parsed p(R"({"type":"response.created","event_id":"e","response":{"object":"realtime.response","id":"resp_9",)"
           R"("status":"in_progress","output":[]}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::response_created);
  CHECK(p.ev.response_id == "resp_9");

  // The A5 example, verbatim in structure.
  p.parse(R"({"type":"response.done","event_id":"e1","response":{
    "object":"realtime.response","id":"resp_1","status":"cancelled",
    "status_details":{"type":"cancelled","reason":"turn_detected"},
    "output":[{"id":"item_9","type":"message","status":"incomplete","role":"assistant",
               "content":[{"type":"output_audio","transcript":"Sure, let me"}]}],
    "conversation_id":"conv_1","output_modalities":["audio"],"max_output_tokens":"inf",
    "audio":{"output":{"format":{"type":"audio/pcmu"},"voice":"marin"}},
    "usage":{"total_tokens":253,"input_tokens":132,"output_tokens":121,
      "input_token_details":{"text_tokens":119,"audio_tokens":13,"image_tokens":0,"cached_tokens":64,
        "cached_tokens_details":{"text_tokens":64,"audio_tokens":0,"image_tokens":0}},
      "output_token_details":{"text_tokens":30,"audio_tokens":91}},
    "metadata":null}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::response_done);
  CHECK(p.ev.response_id == "resp_1");
  CHECK(p.ev.status == "cancelled");
  CHECK(p.ev.usage.total_tokens == 253);
  CHECK(p.ev.usage.input_tokens == 132);
  CHECK(p.ev.usage.output_tokens == 121);

  SECTION("usage absent or null counts as zero") {
    p.parse(R"({"type":"response.done","response":{"id":"resp_2","status":"completed"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.status == "completed");
    CHECK(p.ev.usage.total_tokens == 0);
    CHECK(p.ev.usage.input_tokens == 0);
    CHECK(p.ev.usage.output_tokens == 0);
    p.parse(R"({"type":"response.done","response":{"id":"resp_2","usage":null}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.usage.total_tokens == 0);
  }
  SECTION("response or its id missing") {
    for (const char* bad : {R"({"type":"response.done"})", R"({"type":"response.done","response":{"status":"x"}})",
                            R"({"type":"response.created"})", R"({"type":"response.created","response":{"id":3}})"}) {
      INFO(bad);
      p.parse(bad);
      CHECK(p.error);
    }
  }
}

TEST_CASE("realtime_parser: session.updated and session.created formats", "[protocol]") {
  parsed p(session_event("session.updated", "audio/pcmu", "audio/pcmu"));
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::session_updated);
  CHECK(p.ev.input_format == "audio/pcmu");
  CHECK(p.ev.output_format == "audio/pcmu");

  p.parse(session_event("session.created", "audio/pcm", "audio/pcma"));
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::session_created);
  CHECK(p.ev.input_format == "audio/pcm");
  CHECK(p.ev.output_format == "audio/pcma");

  SECTION("formats missing are reported empty, not as errors") {
    p.parse(R"({"type":"session.updated","session":{"type":"realtime"}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.input_format.empty());
    CHECK(p.ev.output_format.empty());
    p.parse(R"({"type":"session.updated","session":{"audio":{"output":{"format":{"type":"audio/pcmu"}}}}})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.input_format.empty());
    CHECK(p.ev.output_format == "audio/pcmu");
  }
  SECTION("session missing") {
    p.parse(R"({"type":"session.updated"})");
    CHECK(p.error);
  }
}

TEST_CASE("realtime_parser: error event fields", "[protocol]") {
  parsed p(R"({"type":"error","event_id":"event_890","error":{"type":"invalid_request_error","code":"invalid_event",)"
           R"("message":"The 'type' field is missing.","param":"session.type","event_id":"event_567"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::error);
  CHECK(p.ev.error.type == "invalid_request_error");
  CHECK(p.ev.error.code == "invalid_event");
  CHECK(p.ev.error.message == "The 'type' field is missing.");
  CHECK(p.ev.error.param == "session.type");
  CHECK(p.ev.error.event_id == "event_567");

  // code, param and event_id are nullable (A8).
  p.parse(R"({"type":"error","error":{"type":"server_error","code":null,"message":"boom","param":null,"event_id":null}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.error.type == "server_error");
  CHECK(p.ev.error.code.empty());
  CHECK(p.ev.error.param.empty());
  CHECK(p.ev.error.event_id.empty());
  CHECK(p.ev.error.message == "boom");

  p.parse(R"({"type":"error"})");
  CHECK(p.error);
}

TEST_CASE("realtime_parser: required fields of the events the bridge acts on", "[protocol]") {
  const char* bad[] = {
      R"({"type":"response.output_audio.delta","item_id":"i","delta":"AAAA"})",
      R"({"type":"response.output_audio.delta","response_id":"r","delta":"AAAA"})",
      R"({"type":"response.output_audio.delta","response_id":"r","item_id":"i"})",
      R"({"type":"response.output_audio.delta","response_id":"r","item_id":"i","delta":7})",
      R"({"type":"response.output_audio.done","response_id":"r"})",
      R"({"type":"response.output_audio.done","item_id":"i"})",
      R"({"type":"response.output_audio_transcript.delta","response_id":"r","item_id":"i"})",
      R"({"type":"response.output_audio_transcript.done","response_id":"r","item_id":"i"})",
      R"({"type":"response.output_audio_transcript.done","response_id":"r","transcript":"t"})",
      R"({"type":"conversation.item.input_audio_transcription.delta","item_id":"u"})",
      R"({"type":"conversation.item.input_audio_transcription.delta","delta":"d"})",
      R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"u"})",
      R"({"type":"conversation.item.input_audio_transcription.completed","transcript":"t"})",
  };
  for (const char* text : bad) {
    INFO(text);
    parsed p(text);
    CHECK(p.error);
  }
  parsed p(R"({"type":"response.output_audio.delta","response_id":"r","item_id":"i"})");
  CHECK(p.error->what == "delta is missing");
  parsed q(R"({"type":"response.output_audio.delta","response_id":"r","item_id":"i","delta":7})");
  CHECK(q.error->what == "delta is not a string");
}

TEST_CASE("realtime_parser: known events without a use are 'ignored', others 'unknown'", "[protocol]") {
  const char* ignored[] = {
      "conversation.created", "conversation.item.added", "conversation.item.created", "conversation.item.done",
      "conversation.item.deleted", "conversation.item.retrieved",
      "conversation.item.input_audio_transcription.segment", "input_audio_buffer.cleared",
      "input_audio_buffer.timeout_triggered", "response.output_item.added", "response.output_item.done",
      "response.content_part.added", "response.content_part.done", "response.output_text.delta",
      "response.output_text.done", "response.function_call_arguments.delta",
      "response.function_call_arguments.done", "rate_limits.updated",
      // A SIP call's sideband (docs/protocols.md J3): the playout at OpenAI.
      "output_audio_buffer.started", "output_audio_buffer.stopped", "output_audio_buffer.cleared",
  };
  for (const char* name : ignored) {
    INFO(name);
    parsed p(std::string(R"({"type":")") + name + R"(","event_id":"e"})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.type == realtime_event_type::ignored);
    CHECK(p.ev.type_name == name);
  }
  // Beta names are not GA events (A10).
  for (const char* name : {"response.audio.delta", "response.audio_transcript.done", "x"}) {
    INFO(name);
    parsed p(std::string(R"({"type":")") + name + R"("})");
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.type == realtime_event_type::unknown);
    CHECK(p.ev.type_name == name);
  }
}

TEST_CASE("realtime_parser: rejects what is not an event", "[protocol]") {
  for (const char* text : {"", "nope", R"({"type":)", "[]", R"("error")", "1", "{}", R"({"type":1})", R"({"kind":"error"})"}) {
    INFO(text);
    parsed p(text);
    CHECK(p.error);
  }
  parsed missing("{}");
  CHECK(missing.error->what == "type is missing");
}

TEST_CASE("realtime_parser: a structural error mid-document is malformed, not a crash", "[protocol]") {
  // simdjson's on-demand lookups crashed on these (found by fuzzing): the DOM parse validates first.
  for (const char* text : {
           R"({"type":"error","error":{"type":"invalid_request_error","code":"x":"y","message":"m"}})",
           R"({"type":"response.output_audio.delta","delta":"AA==":1,"response_id":"r","item_id":"i"})",
           R"({"type":"response.done","response":{"id":"r","status":"completed","usage":{"total_tokens":1:2}}})",
           R"({"type":"session.updated","session":{"audio":{"input":{"format":{"type":"audio/pcmu"}}:{}}}})",
           R"({"type":"session.updated","session":{"audio":{"input":{"format":{"type":"audio/pcmuy}"e:}}}})",
       }) {
    INFO(text);
    parsed p(text);
    REQUIRE(p.error);
    CHECK(p.error->what == "malformed JSON");
  }
}

// ---------------------------------------------------------------------------------------------
// Builders

TEST_CASE("build_session_update: GA shape with server_vad", "[protocol]") {
  session_config cfg;
  cfg.instructions = "Say \"hello\".\nThen \\ wait.\t";
  cfg.voice = "marin";
  cfg.transcription_model = "gpt-4o-mini-transcribe";
  cfg.turn_detection = turn_detection_type::server_vad;
  cfg.vad_threshold = 0.7;
  cfg.vad_prefix_padding_ms = 250;
  cfg.vad_silence_duration_ms = 600;
  cfg.vad_create_response = true;
  cfg.vad_interrupt_response = false;

  const auto root = parse_object(build_session_update(cfg));
  CHECK(root.at("type") == "session.update");
  CHECK(root.at("event_id") == std::string(session_update_event_id).c_str());
  const auto& session = root.at("session").as_object();
  CHECK(session.at("type") == "realtime");
  CHECK(session.at("instructions").as_string() == "Say \"hello\".\nThen \\ wait.\t");
  REQUIRE(session.at("output_modalities").as_array().size() == 1);
  CHECK(session.at("output_modalities").as_array()[0] == "audio");
  // No beta-era flat fields (A2: rejected as unknown_parameter).
  for (const char* beta : {"voice", "turn_detection", "input_audio_format", "output_audio_format", "modalities",
                           "input_audio_transcription", "temperature"}) {
    INFO(beta);
    CHECK_FALSE(session.contains(beta));
  }

  const auto& input = session.at("audio").at("input").as_object();
  CHECK(input.at("format").as_object().size() == 1);
  CHECK(input.at("format").at("type") == "audio/pcmu");
  const auto& td = input.at("turn_detection").as_object();
  CHECK(td.at("type") == "server_vad");
  CHECK(td.at("threshold").as_double() == Approx(0.7));
  CHECK(td.at("prefix_padding_ms").to_number<std::int64_t>() == 250);
  CHECK(td.at("silence_duration_ms").to_number<std::int64_t>() == 600);
  CHECK(td.at("create_response").as_bool() == true);
  CHECK(td.at("interrupt_response").as_bool() == false);
  CHECK_FALSE(td.contains("eagerness"));
  CHECK(input.at("transcription").at("model") == "gpt-4o-mini-transcribe");

  const auto& output = session.at("audio").at("output").as_object();
  CHECK(output.at("format").at("type") == "audio/pcmu");
  CHECK(output.at("voice") == "marin");
}

TEST_CASE("build_session_update: semantic_vad, no turn detection, optional fields", "[protocol]") {
  session_config cfg;
  SECTION("semantic_vad") {
    cfg.turn_detection = turn_detection_type::semantic_vad;
    cfg.vad_eagerness = "high";
    cfg.vad_create_response = false;
    cfg.vad_interrupt_response = true;
    const auto root = parse_object(build_session_update(cfg));
    const auto& td = root.at("session").at("audio").at("input").at("turn_detection").as_object();
    CHECK(td.size() == 4);
    CHECK(td.at("type") == "semantic_vad");
    CHECK(td.at("eagerness") == "high");
    CHECK(td.at("create_response").as_bool() == false);
    CHECK(td.at("interrupt_response").as_bool() == true);
  }
  SECTION("none sends an explicit null (manual turns)") {
    cfg.turn_detection = turn_detection_type::none;
    const auto root = parse_object(build_session_update(cfg));
    const auto& input = root.at("session").at("audio").at("input").as_object();
    REQUIRE(input.contains("turn_detection"));
    CHECK(input.at("turn_detection").is_null());
  }
  SECTION("empty transcription model, voice and instructions") {
    const auto root = parse_object(build_session_update(cfg));
    const auto& session = root.at("session").as_object();
    CHECK(session.at("audio").at("input").at("transcription").is_null());
    CHECK_FALSE(session.at("audio").at("output").as_object().contains("voice"));
    CHECK_FALSE(session.contains("instructions"));
    // Formats are unconditional.
    CHECK(session.at("audio").at("input").at("format").at("type") == "audio/pcmu");
    CHECK(session.at("audio").at("output").at("format").at("type") == "audio/pcmu");
  }
}

TEST_CASE("build_session_update: the caller's language and a transcription prompt when set", "[protocol]") {
  const std::string prompt = "Acme, Zyxel, \"Kubernetes\"";
  const std::pair<std::string, std::string> cases[] = {{"ja", prompt}, {"ja", ""}, {"", prompt}};
  for (const auto& [language, hint] : cases) {
    CAPTURE(language, hint);
    session_config cfg;
    cfg.transcription_model = "gpt-4o-transcribe";
    cfg.transcription_language = language;
    cfg.transcription_prompt = hint;
    const auto root = parse_object(build_session_update(cfg));
    const auto& transcription = root.at("session").at("audio").at("input").at("transcription").as_object();
    CHECK(transcription.size() == 1u + !language.empty() + !hint.empty());
    CHECK(transcription.at("model") == "gpt-4o-transcribe");
    CHECK(transcription.contains("language") == !language.empty());
    if (!language.empty()) CHECK(transcription.at("language").as_string() == language);
    CHECK(transcription.contains("prompt") == !hint.empty());
    if (!hint.empty()) CHECK(transcription.at("prompt").as_string() == hint);
  }
  // Without a transcription model, transcription stays off whatever the language.
  session_config off;
  off.transcription_language = "ja";
  off.transcription_prompt = prompt;
  CHECK(parse_object(build_session_update(off)).at("session").at("audio").at("input").at("transcription").is_null());
}

TEST_CASE("build_session_update: without language and prompt it is byte for byte the message before them",
          "[protocol]") {
  session_config cfg;
  cfg.instructions = "Be brief.";
  cfg.voice = "marin";
  cfg.transcription_model = "gpt-4o-mini-transcribe";
  CHECK(build_session_update(cfg) ==
        R"({"type":"session.update","event_id":"mb_session_update","session":{"type":"realtime",)"
        R"("output_modalities":["audio"],"audio":{"input":{"format":{"type":"audio/pcmu"},)"
        R"("turn_detection":{"type":"server_vad","threshold":5E-1,"prefix_padding_ms":300,)"
        R"("silence_duration_ms":500,"create_response":true,"interrupt_response":true},)"
        R"("transcription":{"model":"gpt-4o-mini-transcribe"}},"output":{"format":{"type":"audio/pcmu"},)"
        R"("voice":"marin"}},"instructions":"Be brief."}})");
}

TEST_CASE("build_input_audio_append", "[protocol]") {
  std::string out = "x";
  build_input_audio_append(out, "//79AA==");
  REQUIRE(out[0] == 'x');
  const auto obj = parse_object(std::string_view(out).substr(1));
  CHECK(obj.size() == 2);
  CHECK(obj.at("type") == "input_audio_buffer.append");
  CHECK(obj.at("audio") == "//79AA==");
}

TEST_CASE("build_item_truncate", "[protocol]") {
  const auto obj = parse_object(build_item_truncate("item_\"9", 1, 1530));
  CHECK(obj.size() == 5);
  CHECK(obj.at("type") == "conversation.item.truncate");
  CHECK(obj.at("event_id").as_string() == truncate_event_id);
  CHECK(obj.at("item_id") == "item_\"9");
  CHECK(obj.at("content_index").to_number<std::int64_t>() == 1);
  CHECK(obj.at("audio_end_ms").to_number<std::int64_t>() == 1530);
  CHECK(obj.at("audio_end_ms").is_int64());  // A7: an integer
}

TEST_CASE("build_response_create and build_response_cancel", "[protocol]") {
  const auto plain = parse_object(build_response_create(""));
  CHECK(plain.size() == 1);
  CHECK(plain.at("type") == "response.create");

  const auto with = parse_object(build_response_create("Greet the caller:\n\"Welcome!\""));
  CHECK(with.at("type") == "response.create");
  CHECK(with.at("response").as_object().size() == 1);
  CHECK(with.at("response").at("instructions") == "Greet the caller:\n\"Welcome!\"");

  const auto cancel = parse_object(build_response_cancel());
  CHECK(cancel.size() == 1);
  CHECK(cancel.at("type") == "response.cancel");
}

TEST_CASE("realtime_parser: a completed function_call item is a call, other items are ignored (docs/protocols.md I1)",
          "[protocol]") {
  parsed p(R"({"type":"response.output_item.done","event_id":"e","response_id":"resp_1","output_index":0,)"
           R"("item":{"id":"item_7","type":"function_call","status":"completed","name":"lookup_order",)"
           R"("call_id":"call_1","arguments":"{\"order\":\"42\"}"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::function_call_done);
  CHECK(p.ev.call_id == "call_1");
  CHECK(p.ev.tool_name == "lookup_order");
  CHECK(p.ev.arguments == R"({"order":"42"})");
  CHECK(p.ev.item_id == "item_7");
  CHECK(p.ev.response_id == "resp_1");

  // Without a status it counts as complete; a call cut short, a message item, or no item is ignored.
  p.parse(R"({"type":"response.output_item.done","item":{"type":"function_call","name":"f","call_id":"c","arguments":"{}"}})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::function_call_done);
  for (const auto* text : {
           R"({"type":"response.output_item.done","item":{"type":"function_call","status":"incomplete","name":"f","call_id":"c","arguments":"{\"a"}})",
           R"({"type":"response.output_item.done","item":{"type":"message","status":"completed","role":"assistant"}})",
           R"({"type":"response.output_item.done","item":7})",
           R"({"type":"response.output_item.done"})",
       }) {
    INFO(text);
    p.parse(text);
    REQUIRE_FALSE(p.error);
    CHECK(p.ev.type == realtime_event_type::ignored);
  }

  // A function call without what it needs is malformed.
  p.parse(R"({"type":"response.output_item.done","item":{"type":"function_call","name":"f","arguments":"{}"}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "item.call_id is missing");
  p.parse(R"({"type":"response.output_item.done","item":{"type":"function_call","call_id":"c","arguments":"{}"}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "item.name is missing");
  p.parse(R"({"type":"response.output_item.done","item":{"type":"function_call","call_id":"c","name":"f","arguments":{}}})");
  REQUIRE(p.error);
  CHECK(p.error->what == "item.arguments is not a string");
}

TEST_CASE("build_session_update: tools with the schema as JSON, and tool_choice auto (docs/protocols.md I1)",
          "[protocol]") {
  session_config cfg;
  auto session = parse_object(build_session_update(cfg)).at("session").as_object();
  CHECK_FALSE(session.contains("tools"));  // no tools: the message as before
  CHECK_FALSE(session.contains("tool_choice"));

  cfg.tools = {{"lookup_order", "Find an order by its \"id\"",
                R"({"type":"object","properties":{"id":{"type":"string"}},"required":["id"]})"},
               {"bad", "", "{not json"},
               {"end_call", "Hang up", R"({"type":"object","properties":{"reason":{"type":"string"}}})"}};
  session = parse_object(build_session_update(cfg)).at("session").as_object();
  CHECK(session.at("tool_choice") == "auto");
  CHECK(session.at("tools") ==
        json::array{json::object{{"type", "function"},
                                 {"name", "lookup_order"},
                                 {"description", "Find an order by its \"id\""},
                                 {"parameters", json::parse(R"({"type":"object","properties":{"id":{"type":"string"}},"required":["id"]})")}},
                    json::object{{"type", "function"},
                                 {"name", "end_call"},
                                 {"description", "Hang up"},
                                 {"parameters", json::parse(R"({"type":"object","properties":{"reason":{"type":"string"}}})")}}});

  // Only undeclarable tools: none sent, rather than an empty list.
  cfg.tools = {{"bad", "", "[]"}};
  CHECK_FALSE(parse_object(build_session_update(cfg)).at("session").as_object().contains("tools"));
}

TEST_CASE("build_function_call_output: the result as the item's string output (docs/protocols.md I1)", "[protocol]") {
  const auto create = parse_object(build_function_call_output("call_\"1", R"({"status":"shipped","note":"a\nb"})"));
  CHECK(create == json::object{{"type", "conversation.item.create"},
                               {"item",
                                {{"type", "function_call_output"},
                                 {"call_id", "call_\"1"},
                                 {"output", R"({"status":"shipped","note":"a\nb"})"}}}});
}

TEST_CASE("realtime_parser: a SIP call's DTMF key on its sideband (docs/protocols.md J4)", "[protocol]") {
  parsed p(R"({"type":"input_audio_buffer.dtmf_event_received","event":"5","received_at":1750287100})");
  REQUIRE_FALSE(p.error);
  CHECK(p.ev.type == realtime_event_type::dtmf_event_received);
  CHECK(p.ev.dtmf_key == "5");
  parsed missing(R"({"type":"input_audio_buffer.dtmf_event_received","received_at":1750287100})");
  CHECK(missing.error);
  parsed stopped(R"({"type":"output_audio_buffer.stopped","response_id":"resp_1"})");
  REQUIRE_FALSE(stopped.error);
  CHECK(stopped.ev.type == realtime_event_type::ignored);
}
