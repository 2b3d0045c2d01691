#include "upstream/realtime_adapter.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <string_view>
#include <vector>

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

TEST_CASE("realtime_adapter: session.updated reports both formats; known and unknown events", "[realtime_adapter]") {
  harness h;
  auto ev = h.step(R"({"type":"session.updated","session":{"audio":{"input":{"format":{"type":"audio/pcm"}},)"
                   R"("output":{"format":{"type":"audio/pcmu"}}}}})");
  CHECK(ev.kind == event_kind::session_ready);
  CHECK(ev.input_format == "audio/pcm");
  CHECK(ev.output_format == "audio/pcmu");
  CHECK(h.step(R"({"type":"session.created","session":{"type":"realtime"}})").kind == event_kind::ignored);
  CHECK(h.step(R"({"type":"input_audio_buffer.committed","item_id":"c1"})").kind == event_kind::ignored);
  CHECK(h.step(R"({"type":"rate_limits.updated","rate_limits":[]})").kind == event_kind::ignored);
  ev = h.step(R"({"type":"output_audio_buffer.started"})");
  CHECK(ev.kind == event_kind::unknown);
  CHECK(ev.type_name == "output_audio_buffer.started");
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

TEST_CASE("realtime_adapter: commands: session.update then history, greeting, truncate, cancel; no close message",
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
