#include "upstream/realtime_adapter.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/tool_calls.hpp"
#include "tests/unit/support/padded.hpp"
#include "upstream/provider.hpp"

using namespace mb::upstream;
namespace json = boost::json;

// The Realtime API's events as neutral events (docs/protocols.md A4), and which errors end what (A8).

namespace {

struct harness {
  realtime_adapter adapter;
  std::string buffer;
  std::vector<event> out;
  std::optional<mb::protocol::parse_error> error;

  explicit harness(provider_lifecycle lifecycle = openai_realtime_lifecycle) : adapter("openai-realtime", lifecycle) {}

  // The single event of one message; its views are valid until the next step.
  const event& step(std::string_view message) {
    mb::test::assign_padded(buffer, message);
    out.clear();
    error = adapter.translate(buffer, buffer.capacity(), 0, out);
    REQUIRE_FALSE(error);
    REQUIRE(out.size() == 1);
    return out.front();
  }

  void configure() {
    step(R"({"type":"session.updated","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"}},)"
         R"("output":{"format":{"type":"audio/pcmu"}}}}})");
  }
};

std::string error_about(std::string_view type, std::string_view code, std::string_view event_id) {
  return R"({"type":"error","error":{"type":")" + std::string(type) + R"(","code":")" + std::string(code) +
         R"(","message":"m","param":null,"event_id":")" + std::string(event_id) + R"("}})";
}

}  // namespace

TEST_CASE("realtime_adapter: capabilities follow the host's lifecycle", "[realtime_adapter]") {
  realtime_adapter openai;
  CHECK(openai.caps().provider == "openai-realtime");
  CHECK(openai.caps().audio_format == "audio/pcmu");
  CHECK(openai.caps().interruption == interruption_model::truncate_exact);
  CHECK(openai.caps().transcripts == transcript_model::items_with_finals);
  CHECK(openai.caps().lifecycle.session_cap == std::chrono::minutes(60));
  CHECK_FALSE(openai.caps().acknowledges_close);
  realtime_adapter azure("azure-realtime", azure_realtime_lifecycle);
  CHECK(azure.caps().lifecycle.session_cap == std::chrono::minutes(30));
  CHECK(make_adapter(provider_kind::openai_realtime)->caps().provider == "openai-realtime");
}

TEST_CASE("realtime_adapter: assistant audio and transcript carry item, response and content index",
          "[realtime_adapter]") {
  harness h;
  auto ev = h.step(R"({"type":"response.output_audio.delta","response_id":"resp_1","item_id":"item_1",)"
                   R"("content_index":1,"delta":"//79"})");
  CHECK(ev.kind == event_kind::assistant_audio);
  CHECK(ev.type_name == "response.output_audio.delta");
  CHECK(ev.turn_id == "item_1");
  CHECK(ev.response_id == "resp_1");
  CHECK(ev.content_index == 1);
  CHECK(ev.audio_b64 == "//79");

  ev = h.step(R"({"type":"response.output_audio_transcript.delta","response_id":"r","item_id":"i","delta":"Hi"})");
  CHECK(ev.kind == event_kind::assistant_transcript_delta);
  CHECK(ev.text == "Hi");
  CHECK(ev.turn_id == "i");

  ev = h.step(R"({"type":"response.output_audio_transcript.done","response_id":"r","item_id":"i",)"
              R"("transcript":"Hi all"})");
  CHECK(ev.kind == event_kind::assistant_transcript_final);
  CHECK(ev.text == "Hi all");

  ev = h.step(R"({"type":"response.output_audio.done","response_id":"r","item_id":"i"})");
  CHECK(ev.kind == event_kind::assistant_audio_done);
  CHECK(ev.turn_id == "i");
  CHECK(ev.response_id == "r");
}

TEST_CASE("realtime_adapter: caller speech and transcripts", "[realtime_adapter]") {
  harness h;
  CHECK(h.step(R"({"type":"input_audio_buffer.speech_started","item_id":"c1","audio_start_ms":10})").kind ==
        event_kind::caller_speech_started);
  CHECK(h.step(R"({"type":"input_audio_buffer.speech_stopped","item_id":"c1","audio_end_ms":900})").kind ==
        event_kind::caller_speech_stopped);
  auto ev = h.step(R"({"type":"conversation.item.input_audio_transcription.delta","item_id":"c1","delta":"Hel"})");
  CHECK(ev.kind == event_kind::caller_transcript_delta);
  CHECK(ev.turn_id == "c1");
  CHECK(ev.text == "Hel");
  ev = h.step(R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"c1",)"
              R"("transcript":"Hello"})");
  CHECK(ev.kind == event_kind::caller_transcript_final);
  CHECK(ev.text == "Hello");
  ev = h.step(R"({"type":"conversation.item.input_audio_transcription.failed","item_id":"c2"})");
  CHECK(ev.kind == event_kind::caller_transcript_failed);
  CHECK(ev.turn_id == "c2");
}

TEST_CASE("realtime_adapter: responses, usage and truncation", "[realtime_adapter]") {
  harness h;
  auto ev = h.step(R"({"type":"response.created","response":{"id":"resp_1","status":"in_progress"}})");
  CHECK(ev.kind == event_kind::response_started);
  CHECK(ev.response_id == "resp_1");
  ev = h.step(R"({"type":"response.done","response":{"id":"resp_1","status":"completed",)"
              R"("usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}})");
  CHECK(ev.kind == event_kind::response_done);
  CHECK(ev.response_id == "resp_1");
  CHECK(ev.used.input_tokens == 10);
  CHECK(ev.used.output_tokens == 20);
  CHECK(ev.used.total_tokens == 30);
  CHECK(ev.used.seconds == 0);
  ev = h.step(R"({"type":"conversation.item.truncated","item_id":"item_1","content_index":0,"audio_end_ms":1500})");
  CHECK(ev.kind == event_kind::heard_report_accepted);
  CHECK(ev.turn_id == "item_1");
  CHECK(ev.audio_end_ms == 1500);
}

TEST_CASE("realtime_adapter: session.updated reports both formats, known and unknown events", "[realtime_adapter]") {
  harness h;
  auto ev = h.step(R"({"type":"session.updated","session":{"audio":{"input":{"format":{"type":"audio/pcm"}},)"
                   R"("output":{"format":{"type":"audio/pcmu"}}}}})");
  CHECK(ev.kind == event_kind::session_ready);
  CHECK(ev.input_format == "audio/pcm");
  CHECK(ev.output_format == "audio/pcmu");
  CHECK(h.step(R"({"type":"session.created","session":{"type":"realtime"}})").kind == event_kind::ignored);
  CHECK(h.step(R"({"type":"input_audio_buffer.committed","item_id":"c1"})").kind == event_kind::ignored);
  CHECK(h.step(R"({"type":"rate_limits.updated","rate_limits":[]})").kind == event_kind::ignored);
  ev = h.step(R"({"type":"response.audio.delta"})");
  CHECK(ev.kind == event_kind::unknown);
  CHECK(ev.type_name == "response.audio.delta");
}

TEST_CASE("realtime_adapter: error scopes (protocols.md A8)", "[realtime_adapter]") {
  harness h;
  // Before session.updated, any error dooms the session's configuration.
  CHECK(h.step(error_about("invalid_request_error", "unknown_parameter", "")).error.scope == error_scope::session);
  // The cap and server faults end the session, not the call, before and after configuration.
  CHECK(h.step(error_about("invalid_request_error", "session_expired", "")).error.scope == error_scope::session_lost);
  CHECK(h.step(error_about("server_error", "x", "")).error.scope == error_scope::session_lost);

  h.configure();
  const auto& ev = h.step(error_about("invalid_request_error", "response_cancel_not_active", "ev9"));
  CHECK(ev.kind == event_kind::error);
  CHECK(ev.error.scope == error_scope::command);
  CHECK(ev.error.type == "invalid_request_error");
  CHECK(ev.error.code == "response_cancel_not_active");
  CHECK(ev.error.message == "m");
  CHECK(ev.error.client_event_id == "ev9");
  CHECK(h.step(error_about("invalid_request_error", "x", "mb_session_update")).error.scope == error_scope::session);
  CHECK(h.step(error_about("invalid_request_error", "x", "mb_truncate")).error.scope == error_scope::heard_report);
  CHECK(h.step(error_about("server_error", "x", "mb_truncate")).error.scope == error_scope::session_lost);

  // A new session is unconfigured again.
  std::vector<std::string> commands;
  h.adapter.open_session({}, {}, commands);
  CHECK(h.step(error_about("invalid_request_error", "x", "ev10")).error.scope == error_scope::session);
}

TEST_CASE("realtime_adapter: a malformed message yields an error and no event", "[realtime_adapter]") {
  realtime_adapter a;
  std::string buffer = R"({"type":"response.output_audio.delta","item_id":"i"})";
  std::vector<event> out;
  const auto error = a.translate(buffer, buffer.size(), 0, out);
  REQUIRE(error);
  CHECK(error->what == "response_id is missing");
  CHECK(out.empty());
}

TEST_CASE("realtime_adapter: commands: session.update then history, greeting, truncate, cancel, no close message",
          "[realtime_adapter]") {
  realtime_adapter a;
  mb::protocol::session_config config;
  config.instructions = "Be brief.";
  const context_turn history[] = {{speaker::caller, "Hi"}, {speaker::assistant, "Hello!"}};
  std::vector<std::string> out;
  a.open_session(config, history, out);
  REQUIRE(out.size() == 3);
  CHECK(json::parse(out[0]).at("type") == "session.update");
  const auto user = json::parse(out[1]);
  CHECK(user.at("type") == "conversation.item.create");
  CHECK(user.at("item").at("role") == "user");
  CHECK(user.at("item").at("content").at(0).at("text") == "Hi");
  CHECK(json::parse(out[2]).at("item").at("role") == "assistant");

  out.clear();
  a.greet("Say hello.", out);
  a.report_heard("item_1", 0, 1234, out);
  a.cancel_response(out);
  a.close_session(out);
  REQUIRE(out.size() == 3);
  CHECK(json::parse(out[0]).at("response").at("instructions") == "Say hello.");
  const auto truncate = json::parse(out[1]);
  CHECK(truncate.at("type") == "conversation.item.truncate");
  CHECK(truncate.at("item_id") == "item_1");
  CHECK(truncate.at("audio_end_ms") == 1234);
  CHECK(json::parse(out[2]).at("type") == "response.cancel");

  std::string frame;
  a.append_caller_audio(frame, "//79");
  CHECK(frame == R"({"type":"input_audio_buffer.append","audio":"//79"})");
}

namespace {

std::string function_call_done(std::string_view call_id, std::string_view name, std::string_view arguments_json) {
  return json::serialize(json::object{
      {"type", "response.output_item.done"},
      {"response_id", "resp_1"},
      {"item",
       {{"id", "item_5"}, {"type", "function_call"}, {"status", "completed"}, {"call_id", call_id}, {"name", name},
        {"arguments", arguments_json}}}});
}

}  // namespace

TEST_CASE("realtime_adapter: a function call is one tool_call event (docs/protocols.md I1)", "[realtime_adapter]") {
  harness h;
  h.configure();
  const auto& call = h.step(function_call_done("call_1", "lookup_order", R"({"order":"42"})"));
  CHECK(call.kind == event_kind::tool_call);
  CHECK(call.type_name == "response.output_item.done");
  CHECK(call.tool_call_id == "call_1");
  CHECK(call.tool_name == "lookup_order");
  CHECK(call.tool_arguments == R"({"order":"42"})");
  CHECK(call.response_id == "resp_1");  // its turn: the results are answered once it is done
  // The arguments' own done event does not count a second time.
  CHECK(h.step(R"({"type":"response.function_call_arguments.done","response_id":"resp_1","item_id":"item_5",)"
               R"("call_id":"call_1","name":"lookup_order","arguments":"{}"})")
            .kind == event_kind::ignored);
}

TEST_CASE("realtime_adapter: a tool call beyond a bound is an error of the command, not a call (docs/protocols.md I5)",
          "[realtime_adapter]") {
  harness h;
  h.configure();
  const std::string at_bound = R"({"a":")" + std::string(mb::protocol::max_tool_arguments_bytes - 8, 'x') + R"("})";
  REQUIRE(at_bound.size() == mb::protocol::max_tool_arguments_bytes);
  CHECK(h.step(function_call_done("c", "f", at_bound)).kind == event_kind::tool_call);

  struct rejected {
    std::string call_id, name, arguments;
    std::string_view code;
  };
  const rejected cases[] = {
      {"c", "f", at_bound + " ", "tool_arguments_too_large"},
      {"", "f", "{}", "invalid_tool_call_id"},
      {std::string(mb::protocol::max_tool_call_id_bytes + 1, 'c'), "f", "{}", "invalid_tool_call_id"},
      {"c", "", "{}", "invalid_tool_name"},
      {"c", std::string(mb::protocol::max_tool_name_bytes + 1, 'f'), "{}", "invalid_tool_name"},
      {"c", "drop table", "{}", "invalid_tool_name"},
      {"c", "na\nme", "{}", "invalid_tool_name"},
  };
  for (const auto& r : cases) {
    INFO(r.code);
    const auto& ev = h.step(function_call_done(r.call_id, r.name, r.arguments));
    CHECK(ev.kind == event_kind::error);
    CHECK(ev.error.scope == error_scope::command);
    CHECK(ev.error.type == "invalid_tool_call");
    CHECK(ev.error.code == r.code);
    CHECK(ev.tool_call_id.empty());
  }
  CHECK(h.step(function_call_done("c", std::string(mb::protocol::max_tool_name_bytes, 'f'), "{}")).kind ==
        event_kind::tool_call);
}

TEST_CASE("realtime_adapter: tool results and context text (docs/protocols.md I1, I4)", "[realtime_adapter]") {
  realtime_adapter a;
  std::vector<std::string> out;
  a.send_tool_result("call_1", "lookup_order", R"({"status":"shipped"})", false, out);
  REQUIRE(out.size() == 1);
  CHECK(json::parse(out[0]) == json::parse(R"({"type":"conversation.item.create","item":{"type":"function_call_output",)"
                                           R"("call_id":"call_1","output":"{\"status\":\"shipped\"}"}})"));
  out.clear();
  a.send_tool_result("call_2", "lookup_order", R"({"error":"timeout"})", true, out);
  REQUIRE(out.size() == 2);
  CHECK(json::parse(out[0]).at("item").at("call_id") == "call_2");
  CHECK(json::parse(out[1]) == json::parse(R"({"type":"response.create"})"));

  out.clear();
  a.add_context_text("The caller pressed 1 2 \"#\".", false, out);
  REQUIRE(out.size() == 1);
  const auto item = json::parse(out[0]).at("item");
  CHECK(item.at("type") == "message");
  CHECK(item.at("role") == "user");
  CHECK(item.at("content") ==
        json::array{json::object{{"type", "input_text"}, {"text", "The caller pressed 1 2 \"#\"."}}});
  out.clear();
  a.add_context_text("An operator says: hold on.", true, out);
  REQUIRE(out.size() == 2);
  CHECK(json::parse(out[1]).at("type") == "response.create");
}

TEST_CASE("realtime_adapter: a SIP call's sideband: DTMF keys, transcripts without audio (docs/protocols.md J3, J4)",
          "[realtime_adapter]") {
  harness h;
  // The call's accept configured the session: nothing is sent, and errors concern single commands.
  h.adapter.attach_sideband();
  CHECK(h.step(error_about("invalid_request_error", "x", "ev1")).error.scope == error_scope::command);

  const auto& key = h.step(R"({"type":"input_audio_buffer.dtmf_event_received","event":"#","received_at":1750287100})");
  CHECK(key.kind == event_kind::caller_dtmf);
  CHECK(key.text == "#");
  for (const auto* symbol : {"0", "9", "*", "A", "D"})
    CHECK(h.step(R"({"type":"input_audio_buffer.dtmf_event_received","event":")" + std::string(symbol) + R"("})")
              .kind == event_kind::caller_dtmf);
  // Only the 16 DTMF symbols are keys; the key is required.
  for (const auto* other : {"E", "12", "", "a", "\\n"})
    CHECK(h.step(R"({"type":"input_audio_buffer.dtmf_event_received","event":")" + std::string(other) + R"("})")
              .kind == event_kind::ignored);
  mb::test::assign_padded(h.buffer, R"({"type":"input_audio_buffer.dtmf_event_received"})");
  h.out.clear();
  CHECK(h.adapter.translate(h.buffer, h.buffer.capacity(), 0, h.out));
  CHECK(h.out.empty());

  // SIP plays the audio at OpenAI: the transcripts come without audio deltas, the playout's events are known.
  const auto& delta = h.step(
      R"({"type":"response.output_audio_transcript.delta","response_id":"resp_1","item_id":"item_1","content_index":0,"delta":"Hello"})");
  CHECK(delta.kind == event_kind::assistant_transcript_delta);
  CHECK(delta.turn_id == "item_1");
  CHECK(h.step(R"({"type":"response.output_audio_transcript.done","response_id":"resp_1","item_id":"item_1","transcript":"Hello there"})")
            .kind == event_kind::assistant_transcript_final);
  for (const auto* type : {"output_audio_buffer.started", "output_audio_buffer.stopped", "output_audio_buffer.cleared"})
    CHECK(h.step(R"({"type":")" + std::string(type) + R"(","response_id":"resp_1"})").kind == event_kind::ignored);
}
