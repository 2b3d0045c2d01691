// The Realtime simulator over real loopback WebSockets: protocol behaviour, audio pattern, hooks.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "simulator/upstream_simulator.hpp"
#include "tests/integration/support/sim_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace sim = mb::simulator;
using mb::net::awaitable;

using mb::test::running_simulator;
using mb::test::run_client;
using mb::test::ulaw;
using mb::test::decode_delta;
using client = mb::test::sim_client;

// A Realtime client, once session.created and conversation.created have arrived.
awaitable<client> connect(const std::string& url, bool with_key = true) {
  auto c = co_await mb::test::open_client(url, with_key);
  const auto created = co_await c.next();
  REQUIRE(created.at("type").as_string() == "session.created");
  co_await c.until("conversation.created");
  co_return c;
}

json::object pcmu_update(json::value turn_detection, bool transcription = true) {
  json::object input{{"format", {{"type", "audio/pcmu"}}}, {"turn_detection", std::move(turn_detection)}};
  if (transcription) input["transcription"] = {{"model", "gpt-4o-mini-transcribe"}};
  return {{"type", "session.update"},
          {"event_id", "cfg-1"},
          {"session",
           {{"type", "realtime"},
            {"instructions", "Be brief."},
            {"audio", {{"input", std::move(input)}, {"output", {{"format", {{"type", "audio/pcmu"}}}, {"voice", "marin"}}}}}}}};
}

json::object server_vad(bool create_response = true) {
  return {{"type", "server_vad"},
          {"threshold", 0.5},
          {"prefix_padding_ms", 300},
          {"silence_duration_ms", 500},
          {"create_response", create_response},
          {"interrupt_response", true}};
}

json::object truncate_event(std::string_view item_id, std::int64_t audio_end_ms) {
  return {{"type", "conversation.item.truncate"}, {"item_id", item_id}, {"content_index", 0}, {"audio_end_ms", audio_end_ms}};
}

}  // namespace

TEST_CASE("realtime sim: session.created, session.update validation and session.updated", "[integration][sim][realtime_sim]") {
  running_simulator rs;
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    const auto& created = c.events.front().at("session").as_object();
    CHECK(created.at("type").as_string() == "realtime");
    CHECK(created.at("id").as_string().starts_with("sess_"));
    CHECK(created.at("expires_at").is_int64());
    CHECK(created.at("model").as_string() == "gpt-realtime");
    CHECK(created.at("audio").at("input").at("format").at("type").as_string() == "audio/pcm");
    CHECK(created.at("audio").at("input").at("format").at("rate").as_int64() == 24000);
    CHECK(created.at("audio").at("input").at("turn_detection").at("type").as_string() == "server_vad");
    CHECK(created.at("audio").at("output").at("voice").as_string() == "alloy");

    co_await c.send_text(R"({"type":"session.update","event_id":"cfg-0","session":{"instructions":"x"}})");
    auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("type").as_string() == "invalid_request_error");
    CHECK(error.at("code").as_string() == "missing_required_parameter");
    CHECK(error.at("param").as_string() == "session.type");
    CHECK(error.at("event_id").as_string() == "cfg-0");

    co_await c.send_text(R"({"type":"session.update","session":{"type":"realtime","voice":"alloy"}})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "unknown_parameter");
    CHECK(error.at("param").as_string() == "session.voice");
    CHECK(error.at("event_id").is_null());

    co_await c.send(pcmu_update(server_vad()));
    const auto updated = (co_await c.until("session.updated")).at("session").as_object();
    const auto& audio = updated.at("audio").as_object();
    CHECK(audio.at("input").at("format").at("type").as_string() == "audio/pcmu");
    CHECK_FALSE(audio.at("input").at("format").as_object().contains("rate"));
    CHECK(audio.at("output").at("format").at("type").as_string() == "audio/pcmu");
    CHECK(audio.at("output").at("voice").as_string() == "marin");
    CHECK(audio.at("input").at("turn_detection").at("silence_duration_ms").as_int64() == 500);
    CHECK(audio.at("input").at("transcription").at("model").as_string() == "gpt-4o-mini-transcribe");
    CHECK(updated.at("instructions").as_string() == "Be brief.");

    // A named argument: g++ 12 frees a braced temporary inside a co_await expression wrongly.
    mb::net::close_reason bye{1000, "bye"};
    co_await c.ws->close(std::move(bye));
  });

  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.model == "gpt-realtime");
  CHECK(s.had_authorization);
  CHECK(s.target == "/v1/realtime?model=gpt-realtime");
  CHECK(s.input_format == "audio/pcmu");
  CHECK(s.output_format == "audio/pcmu");
  CHECK(s.session_updates.size() == 3);
  CHECK(s.received_types == std::vector<std::string>{"session.update", "session.update", "session.update"});
  REQUIRE(s.errors.size() == 2);
  CHECK(s.errors[0].client_event_id == "cfg-0");
  CHECK(s.clean_close);
  CHECK(s.close_code == 1000);
  CHECK_FALSE(s.closed_by_simulator);
}

TEST_CASE("realtime sim: a spoken turn gives VAD events, a transcript and byte-exact response audio",
          "[integration][sim][realtime_sim]") {
  sim::simulator_options options;
  options.response_ms = 1000;
  options.speed = 20;
  running_simulator rs(options);
  const std::string turn = ulaw(500, true) + ulaw(700, false);
  std::string received_audio;
  std::string transcript;
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url(), false);
    co_await c.send(pcmu_update(server_vad()));
    co_await c.until("session.updated");
    co_await c.append_audio("input_audio_buffer.append", turn);

    const auto started = co_await c.until("input_audio_buffer.speech_started");
    CHECK(started.at("audio_start_ms").as_int64() == 0);  // 0 ms minus 300 ms prefix, floored
    const auto item_id = started.at("item_id").as_string();
    const auto stopped = co_await c.until("input_audio_buffer.speech_stopped");
    CHECK(stopped.at("audio_end_ms").as_int64() == 1000);  // 500 ms speech + 500 ms silence
    CHECK(stopped.at("item_id").as_string() == item_id);
    const auto committed = co_await c.until("input_audio_buffer.committed");
    CHECK(committed.at("item_id").as_string() == item_id);
    CHECK(committed.at("previous_item_id").is_null());
    const auto added = co_await c.until("conversation.item.added");
    CHECK(added.at("item").at("role").as_string() == "user");
    const auto completed = co_await c.until("conversation.item.input_audio_transcription.completed");
    CHECK(completed.at("item_id").as_string() == item_id);
    CHECK(completed.at("content_index").as_int64() == 0);
    CHECK(completed.at("transcript").as_string() == "Caller utterance 1");
    CHECK(completed.at("usage").at("type").as_string() == "tokens");

    const auto created = co_await c.until("response.created");
    const auto response_id = created.at("response").at("id").as_string();
    CHECK(created.at("response").at("status").as_string() == "in_progress");
    for (;;) {
      const auto e = co_await c.next();
      const auto type = e.at("type").as_string();
      if (type == "response.output_audio.delta") {
        CHECK(e.at("response_id").as_string() == response_id);
        CHECK(e.at("output_index").as_int64() == 0);
        CHECK(e.at("content_index").as_int64() == 0);
        received_audio += decode_delta(e);
      } else if (type == "response.output_audio_transcript.delta") {
        transcript += e.at("delta").as_string();
      } else if (type == "response.done") {
        const auto& r = e.at("response").as_object();
        CHECK(r.at("status").as_string() == "completed");
        CHECK(r.at("output").as_array().size() == 1);
        CHECK(r.at("output").at(0).at("content").at(0).at("transcript").as_string() ==
              "This is simulated reply number 1.");
        CHECK(r.at("usage").at("output_token_details").at("audio_tokens").as_int64() > 0);
        CHECK(r.at("usage").at("input_token_details").as_object().contains("text_tokens"));
        break;
      }
    }
    const auto order = {"input_audio_buffer.speech_stopped", "input_audio_buffer.committed", "conversation.item.added",
                        "conversation.item.input_audio_transcription.delta",
                        "conversation.item.input_audio_transcription.completed", "response.created",
                        "response.output_item.added", "response.content_part.added", "response.output_audio.delta",
                        "response.output_audio.done", "response.output_audio_transcript.done",
                        "response.content_part.done", "response.output_item.done", "response.done"};
    long previous = -1;
    for (const char* type : order) {
      INFO(type);
      CHECK(c.index_of(type) > previous);
      previous = c.index_of(type);
    }
  });

  CHECK(received_audio.size() == 8000);
  CHECK(mb::test::matches_pattern(0, 0, received_audio));
  CHECK(transcript == "This is simulated reply number 1.");
  const auto s = rs.simulator.sessions().at(0);
  CHECK_FALSE(s.had_authorization);
  CHECK(s.input_audio == std::vector<std::uint8_t>(turn.begin(), turn.end()));
  CHECK(s.input_audio_bytes == turn.size());
  REQUIRE(s.speech.size() == 1);
  CHECK(s.speech[0].audio_end_ms == 1000);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].trigger == "vad");
  CHECK(s.responses[0].status == "completed");
  CHECK(s.responses[0].item_bytes == std::vector<std::uint64_t>{8000});
}

TEST_CASE("realtime sim: truncate checks the item and the audio generated so far", "[integration][sim][realtime_sim]") {
  sim::simulator_options options;
  options.response_ms = 2000;
  options.speed = 4;
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    co_await c.send(pcmu_update(nullptr, false));
    co_await c.until("session.updated");
    co_await c.send_text(R"({"type":"response.create","response":{"instructions":"Greet."}})");
    const auto item_id = json::string((co_await c.until("response.output_item.added")).at("item").at("id").as_string());
    for (int deltas = 0; deltas < 3;) deltas += (co_await c.next()).at("type").as_string() == "response.output_audio.delta";

    co_await c.send(truncate_event(item_id, 60000));
    auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("type").as_string() == "invalid_request_error");
    const std::string message(error.at("message").as_string());
    CHECK(message.starts_with("Audio content of "));
    CHECK(message.ends_with("ms is already shorter than 60000ms"));

    co_await c.send(truncate_event(item_id, 250));
    const auto truncated = co_await c.until("conversation.item.truncated");
    CHECK(truncated.at("item_id").as_string() == item_id);
    CHECK(truncated.at("audio_end_ms").as_int64() == 250);

    co_await c.send(truncate_event("item_nope", 0));
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("param").as_string() == "item_id");
    const auto done = co_await c.until("response.done");
    CHECK(done.at("response").at("status").as_string() == "completed");
  });

  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.truncates.size() == 3);
  CHECK_FALSE(s.truncates[0].accepted);
  CHECK(s.truncates[0].audio_end_ms == 60000);
  CHECK(s.truncates[0].generated_ms >= 300);
  CHECK(s.truncates[1].accepted);
  CHECK(s.truncates[1].audio_end_ms == 250);
  CHECK(s.truncates[1].generated_ms >= 300);
  CHECK_FALSE(s.truncates[2].accepted);
  CHECK(s.truncates[2].generated_ms == -1);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].instructions == "Greet.");
  CHECK(s.responses[0].trigger == "client");
}

TEST_CASE("realtime sim: truncating an item before its first audio is unsupported_content_type",
          "[integration][sim][realtime_sim]") {
  sim::simulator_options options;
  options.first_audio_delay_ms = 60000;
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    co_await c.send_text(R"({"type":"response.create"})");
    const auto item_id = json::string((co_await c.until("conversation.item.added")).at("item").at("id").as_string());
    co_await c.send(truncate_event(item_id, 0));
    const auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "unsupported_content_type");
    CHECK(error.at("message").as_string() == "Only model output audio messages can be truncated");
    co_await c.send_text(R"({"type":"response.cancel"})");
    const auto done = co_await c.until("response.done");
    CHECK(done.at("response").at("status").as_string() == "cancelled");
    CHECK(c.count("response.output_audio.delta") == 0);
  });
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.truncates.size() == 1);
  CHECK(s.truncates[0].error_code == "unsupported_content_type");
  CHECK(s.truncates[0].generated_ms == 0);
}

TEST_CASE("realtime sim: cancel, late deltas and one active response at a time", "[integration][sim][realtime_sim]") {
  sim::simulator_options options;
  options.response_ms = 5000;
  options.speed = 1;  // 100 ms per delta: the response is still running when the cancel arrives
  options.late_deltas_after_cancel = 2;
  running_simulator rs(options);
  std::string audio;
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    co_await c.send_text(R"({"type":"response.cancel","event_id":"c-1"})");
    auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "response_cancel_not_active");
    CHECK(error.at("event_id").as_string() == "c-1");

    co_await c.send_text(R"({"type":"response.create"})");
    co_await c.send_text(R"({"type":"response.create"})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "conversation_already_has_active_response");

    audio += decode_delta(co_await c.until("response.output_audio.delta"));
    co_await c.send_text(R"({"type":"response.cancel"})");
    std::size_t late = 0;
    for (;;) {
      const auto e = co_await c.next();
      const auto type = e.at("type").as_string();
      if (type == "response.output_audio.delta") {
        audio += decode_delta(e);
        ++late;
      } else if (type == "response.output_audio.done") {
        break;
      }
    }
    CHECK(late >= 2);
    const auto item_done = co_await c.until("response.output_item.done");
    CHECK(item_done.at("item").at("status").as_string() == "incomplete");
    const auto done = (co_await c.until("response.done")).at("response").as_object();
    CHECK(done.at("status").as_string() == "cancelled");
    CHECK(done.at("status_details").at("type").as_string() == "cancelled");
    CHECK(done.at("status_details").at("reason").as_string() == "client_cancelled");

    co_await c.send_text(R"({"type":"response.cancel"})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "response_cancel_not_active");
  });
  CHECK(mb::test::matches_pattern(0, 0, audio));
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].status == "cancelled");
  CHECK(s.responses[0].cancel_reason == "client_cancelled");
  CHECK(s.responses[0].item_bytes.at(0) == audio.size());
}

TEST_CASE("realtime sim: speech during a response announces the turn, then cancels it", "[integration][sim][realtime_sim]") {
  sim::simulator_options options;
  options.response_ms = 5000;
  options.speed = 1;
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    co_await c.send(pcmu_update(server_vad(false), false));
    co_await c.until("session.updated");
    co_await c.send_text(R"({"type":"response.create"})");
    co_await c.until("response.output_audio.delta");
    co_await c.append_audio("input_audio_buffer.append", ulaw(100, true));
    const auto done = (co_await c.until("response.done")).at("response").as_object();
    CHECK(done.at("status").as_string() == "cancelled");
    CHECK(done.at("status_details").at("reason").as_string() == "turn_detected");
    CHECK(c.index_of("input_audio_buffer.speech_started") >= 0);
    CHECK(c.index_of("input_audio_buffer.speech_started") < c.index_of("response.output_audio.done"));
  });
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].cancel_reason == "turn_detected");
}

TEST_CASE("realtime sim: malformed events get invalid_event and the socket stays open", "[integration][sim][realtime_sim]") {
  running_simulator rs;
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    co_await c.send_text(R"({"type":"input_audio_buffer.append","event_id":"a-1","audio":"not base64!"})");
    auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "invalid_event");
    CHECK(error.at("event_id").as_string() == "a-1");

    co_await c.send_text("{\"type\": \"session.update\", ");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "invalid_event");

    co_await c.send_text(R"({"type":"response.dance"})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "invalid_event");
    CHECK(error.at("param").as_string() == "type");

    co_await c.send_text(R"({"type":"input_audio_buffer.commit"})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "input_audio_buffer_commit_empty");

    co_await c.send_text(
        R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"hi \"there\""}]}})");
    const auto added = co_await c.until("conversation.item.added");
    CHECK(added.at("item").at("content").at(0).at("text").as_string() == "hi \"there\"");
    co_await c.until("conversation.item.done");

    co_await c.send_text(R"({"type":"input_audio_buffer.clear"})");
    co_await c.until("input_audio_buffer.cleared");
  });
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.errors.size() == 4);
  CHECK(s.received_types.at(1).empty());  // the unparsable event
}

TEST_CASE("realtime sim: delayed session.updated with a forced output format", "[integration][sim][realtime_sim]") {
  sim::simulator_options options;
  options.session_updated_delay_ms = 300;
  options.force_output_format = "audio/pcm";
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    const auto sent = std::chrono::steady_clock::now();
    co_await c.send(pcmu_update(server_vad()));
    const auto updated = co_await c.until("session.updated");
    CHECK(std::chrono::steady_clock::now() - sent >= 300ms);
    CHECK(updated.at("session").at("audio").at("output").at("format").at("type").as_string() == "audio/pcm");
    CHECK(updated.at("session").at("audio").at("input").at("format").at("type").as_string() == "audio/pcmu");
  });
  CHECK(rs.simulator.sessions().at(0).output_format == "audio/pcm");
}

TEST_CASE("realtime sim: fault hooks inject, close and drop", "[integration][sim][realtime_sim]") {
  running_simulator rs;
  run_client([&]() -> awaitable<void> {
    auto a = co_await connect(rs.realtime_url());
    auto b = co_await connect(rs.realtime_url());
    REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 2; }, 2s));

    rs.simulator.send_to_all("garbage{");
    const auto garbage_a = co_await a.next_text();
    const auto garbage_b = co_await b.next_text();
    CHECK(garbage_a == "garbage{");
    CHECK(garbage_b == "garbage{");

    rs.simulator.close_all(4000, "test close");
    for (auto* c : {&a, &b}) {
      const auto r = co_await c->ws->read(c->buffer, 0);
      CHECK(r.status == mb::net::read_status::closed);
      CHECK(c->ws->peer_close_reason().code == 4000);
      CHECK(c->ws->peer_close_reason().reason == "test close");
    }

    auto d = co_await connect(rs.realtime_url());
    rs.simulator.drop_all();
    const auto r = co_await d.ws->read(d.buffer, 0);
    CHECK(r.status != mb::net::read_status::message);
    CHECK(d.ws->peer_close_reason().code == 0);
  });
  REQUIRE(rs.simulator.wait_until(
      [](const auto& s) { return s.size() == 3 && s[0].closed && s[1].closed && s[2].closed; }, 3s));
  const auto s = rs.simulator.sessions();
  CHECK(s[0].closed_by_simulator);
  CHECK(s[0].clean_close);
  CHECK(s[2].closed_by_simulator);
  CHECK_FALSE(s[2].clean_close);
  CHECK(rs.simulator.stats().sessions_accepted == 3);
}

namespace {

constexpr std::string_view lookup_parameters =
    R"({"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]})";

json::object function_tool(std::string_view name) {
  return {{"type", "function"}, {"name", name}, {"description", "A test tool."}, {"parameters", json::parse(lookup_parameters)}};
}

// A pcmu session.update with server VAD that declares these tools and has these instructions.
json::object update_with_tools(std::vector<std::string_view> tools, std::string_view instructions = "Be brief.") {
  json::object update = pcmu_update(server_vad());
  json::array declared;
  for (const auto name : tools) declared.push_back(function_tool(name));
  update["session"].as_object()["tools"] = std::move(declared);
  update["session"].as_object()["instructions"] = instructions;
  return update;
}

std::string function_call_output(std::string_view call_id, std::string_view output) {
  return json::serialize(json::object{
      {"type", "conversation.item.create"},
      {"item", {{"type", "function_call_output"}, {"call_id", call_id}, {"output", output}}}});
}

}  // namespace

TEST_CASE("realtime sim: a scripted tool call is a function_call item on its turn, its output is spoken about",
          "[integration][sim][realtime_sim][tools]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  options.tool_call_script = {{1, "not_declared", "{}"}, {2, "lookup_order", R"({"order_id":"A-17"})"}};
  running_simulator rs(options);
  const std::string turn = ulaw(300, true) + ulaw(600, false);
  constexpr std::string_view output = R"({"status":"shipped"})";
  std::string call_id;
  std::string answer;
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    const json::object update = update_with_tools({"lookup_order"});
    co_await c.send(update);
    co_await c.until("session.updated");
    // Turn 1: the scripted tool was not declared, so the model just answers.
    co_await c.append_audio("input_audio_buffer.append", turn);
    const auto first = co_await c.until("response.done");
    CHECK(first.at("response").at("output").at(0).at("type").as_string() == "message");

    co_await c.append_audio("input_audio_buffer.append", turn);
    const auto created = co_await c.until("response.created");
    const auto response_id = created.at("response").at("id").as_string();
    const auto added = co_await c.until("response.output_item.added");
    const auto& item = added.at("item").as_object();
    CHECK(item.at("type").as_string() == "function_call");
    CHECK(item.at("status").as_string() == "in_progress");
    CHECK(item.at("name").as_string() == "lookup_order");
    call_id = item.at("call_id").as_string();
    std::string arguments;
    for (;;) {
      const auto e = co_await c.next();
      const auto type = e.at("type").as_string();
      if (type == "response.function_call_arguments.delta") {
        CHECK(e.at("call_id").as_string() == call_id);
        CHECK(e.at("item_id").as_string() == item.at("id").as_string());
        arguments += e.at("delta").as_string();
      } else if (type == "response.function_call_arguments.done") {
        CHECK(e.at("name").as_string() == "lookup_order");
        CHECK(e.at("arguments").as_string() == arguments);
        break;
      }
      CHECK(type != "response.output_audio.delta");
    }
    CHECK(json::parse(arguments) == json::parse(R"({"order_id":"A-17"})"));
    const auto item_done = co_await c.until("response.output_item.done");
    CHECK(item_done.at("item").at("status").as_string() == "completed");
    CHECK(item_done.at("item").at("arguments").as_string() == arguments);
    const auto done = co_await c.until("response.done");
    CHECK(done.at("response").at("id").as_string() == response_id);
    CHECK(done.at("response").at("status").as_string() == "completed");
    REQUIRE(done.at("response").at("output").as_array().size() == 1);
    CHECK(done.at("response").at("output").at(0).at("call_id").as_string() == call_id);

    const std::string result = function_call_output(call_id, output);
    co_await c.send_text(result);
    co_await c.until("conversation.item.done");
    co_await c.send_text(R"({"type":"response.create"})");
    for (;;) {
      const auto e = co_await c.next();
      const auto type = e.at("type").as_string();
      if (type == "response.output_audio_transcript.delta") answer += e.at("delta").as_string();
      if (type == "response.done") break;
    }
  });
  CHECK(answer == R"(The tool answered: {"status":"shipped"})");
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.declared_tools.size() == 1);
  CHECK(s.declared_tools[0].name == "lookup_order");
  CHECK(json::parse(s.declared_tools[0].parameters_json) == json::parse(lookup_parameters));
  REQUIRE(s.tool_calls.size() == 1);
  CHECK(s.tool_calls[0].call_id == call_id);
  CHECK(s.tool_calls[0].name == "lookup_order");
  CHECK(s.tool_calls[0].turn == 2);
  REQUIRE(s.tool_results.size() == 1);
  CHECK(s.tool_results[0].call_id == call_id);
  CHECK(s.tool_results[0].output == output);
  REQUIRE(s.responses.size() == 3);
  CHECK(s.responses[1].trigger == "tool_call");
  CHECK(s.responses[2].trigger == "client");
  CHECK(s.responses[2].transcript == answer);
}

TEST_CASE("realtime sim: end_call scripted in the instructions is said goodbye to, then called in the same response",
          "[integration][sim][realtime_sim][tools]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  options.tool_call_script = {{1, "lookup_order", "{}"}};  // replaced by the session's own script
  running_simulator rs(options);
  std::string goodbye;
  run_client([&]() -> awaitable<void> {
    auto c = co_await connect(rs.realtime_url());
    const json::object update =
        update_with_tools({"lookup_order", "end_call"}, "Be brief.\n  sim-tool-call: 1:end_call:{\"reason\":\"done\"}\n");
    co_await c.send(update);
    co_await c.until("session.updated");
    co_await c.send_text(
        R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"The caller pressed 1234#"}]}})");
    co_await c.until("conversation.item.done");
    co_await c.append_audio("input_audio_buffer.append", ulaw(300, true) + ulaw(600, false));
    for (;;) {
      const auto e = co_await c.next();
      const auto type = e.at("type").as_string();
      if (type == "response.output_audio_transcript.delta") goodbye += e.at("delta").as_string();
      if (type == "response.function_call_arguments.done") CHECK(c.index_of("response.output_audio.done") >= 0);
      if (type != "response.done") continue;
      const auto& output = e.at("response").at("output").as_array();
      REQUIRE(output.size() == 2);
      CHECK(output.at(0).at("type").as_string() == "message");
      CHECK(output.at(1).at("type").as_string() == "function_call");
      CHECK(output.at(1).at("name").as_string() == "end_call");
      CHECK(json::parse(output.at(1).at("arguments").as_string()) == json::parse(R"({"reason":"done"})"));
      break;
    }
  });
  CHECK(goodbye == sim::goodbye_text);
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.tool_calls.size() == 1);
  CHECK(s.tool_calls[0].name == "end_call");
  CHECK(s.context_texts == std::vector<std::string>{"The caller pressed 1234#"});
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].trigger == "end_call");
}
