// The simulator's GPT-Live protocol over real loopback WebSockets: startup, strict configuration,
// caller speech and model turns with their timing, being talked over, greetings, closing and every
// injected fault.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
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
using mb::test::run_client;
using mb::test::running_simulator;
using mb::test::sim_client;
using mb::test::ulaw;
using mb::upstream::provider_kind;

constexpr std::string_view twilio_start = R"({"type":"session.start","event_id":"start-1","session":{
  "model":"gpt-live-1","instructions":"Be brief.",
  "audio":{"format":{"type":"audio/pcmu","rate":8000},"output":{"voice":"marin"}},"delegation":{"type":"client"}}})";

// A GPT-Live client once session.started has arrived for a μ-law session.
awaitable<sim_client> started(const running_simulator& rs) {
  auto c = co_await mb::test::open_client(rs.live_url());
  co_await c.send_text(twilio_start);
  const auto first = co_await c.next();
  REQUIRE(first.at("type").as_string() == "session.started");
  co_return c;
}

awaitable<void> speak(sim_client& c, const std::string& audio) {
  co_await c.append_audio("session.input_audio.append", audio);
}

std::int64_t ms(const json::object& e, std::string_view field) { return e.at(field).as_int64(); }

}  // namespace

TEST_CASE("live sim: session.start is confirmed with session.started, session.close ends with session.closed and 1000",
          "[integration][sim][live_sim]") {
  running_simulator rs;
  CHECK(rs.live_url().ends_with("/v1/live/sessions"));
  CHECK(sim::provider_for_target("/v1/live/sessions") == provider_kind::openai_live);
  CHECK(sim::provider_for_target("/v1/realtime?model=gpt-realtime") == provider_kind::openai_realtime);
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    const json::object session = c.events.front().at("session").as_object();
    CHECK(session.at("id").as_string().starts_with("live_"));
    CHECK(session.at("expires_at").is_int64());
    CHECK(session.at("status").as_string() == "active");
    CHECK(session.at("model").as_string() == "gpt-live-1");
    CHECK(session.at("instructions").as_string() == "Be brief.");
    CHECK(session.at("audio").at("format") == json::parse(R"({"type":"audio/pcmu","rate":8000})"));
    CHECK(session.at("audio").at("output").at("voice").as_string() == "marin");
    CHECK(session.at("delegation").at("type").as_string() == "client");

    // After the start, only the delegation may change; command errors leave the session open.
    co_await c.send_text(R"({"type":"session.update","event_id":"upd-1","session":{"instructions":"x"}})");
    auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "immutable_field_update");
    CHECK(error.at("param").as_string() == "session.instructions");
    CHECK(error.at("client_event_id").as_string() == "upd-1");
    co_await c.send_text(R"({"type":"session.update","session":{"delegation":{"type":"client"}}})");
    const auto updated = co_await c.until("session.updated");
    CHECK(updated.at("session").at("model").as_string() == "gpt-live-1");
    co_await c.send_text(R"({"type":"session.start","session":{"model":"gpt-live-1"}})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "invalid_event");
    CHECK_FALSE(error.contains("client_event_id"));
    co_await c.send_text(R"({"type":"response.cancel"})");
    error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("param").as_string() == "type");

    co_await c.send_text(R"({"type":"session.close","event_id":"bye"})");
    const auto closed = co_await c.until("session.closed");
    CHECK(closed.at("reason").as_string() == "close_requested");
    CHECK(closed.at("usage").at("seconds").is_int64());
    CHECK(closed.at("session").at("id") == session.at("id"));
    const auto c_close = co_await c.closed_by_peer();
    CHECK(c_close == 1000);
  });

  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.provider == provider_kind::openai_live);
  CHECK(s.target == "/v1/live/sessions");
  CHECK(s.had_authorization);
  CHECK(s.session_started);
  CHECK(s.model == "gpt-live-1");
  CHECK(s.input_format == "audio/pcmu");
  CHECK(s.output_format == "audio/pcmu");
  CHECK(s.session_starts.size() == 2);
  CHECK(s.session_updates.size() == 2);
  CHECK(s.errors.size() == 3);
  CHECK(s.closed_reason == "close_requested");
  CHECK(s.clean_close);
  CHECK(s.closed_by_simulator);
  CHECK(rs.simulator.stats().live_sessions == 1);
}

TEST_CASE("live sim: a first event other than session.start, or an unknown field, is a startup error and a 1008 close",
          "[integration][sim][live_sim]") {
  running_simulator rs;
  run_client([&]() -> awaitable<void> {
    auto early = co_await mb::test::open_client(rs.live_url());
    co_await early.append_audio("session.input_audio.append", ulaw(20, false));
    auto error = (co_await early.next()).at("error").as_object();
    CHECK(error.at("code").as_string() == "invalid_event");
    const auto early_close = co_await early.closed_by_peer();
    CHECK(early_close == 1008);

    auto strict = co_await mb::test::open_client(rs.live_url());
    co_await strict.send_text(
        R"({"type":"session.start","event_id":"start-7","session":{"model":"gpt-live-1","voice":"marin"}})");
    const auto e = co_await strict.next();
    REQUIRE(e.at("type").as_string() == "error");
    error = e.at("error").as_object();
    CHECK(error.at("type").as_string() == "invalid_request_error");
    CHECK(error.at("code").as_string() == "unknown_parameter");
    CHECK(error.at("param").as_string() == "session.voice");
    CHECK(error.at("client_event_id").as_string() == "start-7");
    const auto strict_close = co_await strict.closed_by_peer();
    CHECK(strict_close == 1008);
    CHECK(strict.count("session.started") == 0);

    auto extra = co_await mb::test::open_client(rs.live_url());
    co_await extra.send_text(R"({"type":"session.start","session":{"model":"gpt-live-1"},"conversation":"x"})");
    error = (co_await extra.next()).at("error").as_object();
    CHECK(error.at("param").as_string() == "conversation");
    const auto extra_close = co_await extra.closed_by_peer();
    CHECK(extra_close == 1008);
  });
  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 3 && s[0].closed && s[1].closed && s[2].closed; },
                                  3s));
  const auto s = rs.simulator.sessions();
  for (const auto& session : s) CHECK_FALSE(session.session_started);
  CHECK(s[1].errors.at(0).client_event_id == "start-7");
  CHECK(s[1].session_starts.size() == 1);
  CHECK(s[1].model.empty());
}

TEST_CASE("live sim: the caller's speech gets timed transcripts, then a timed answer of pattern audio",
          "[integration][sim][live_sim]") {
  sim::simulator_options options;
  options.response_ms = 1000;
  options.speed = 20;
  options.live_audio_timing = true;
  running_simulator rs(options);
  const std::string turn = ulaw(500, true) + ulaw(700, false);
  std::string audio;
  std::string transcript;
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    co_await speak(c, turn);

    const auto heard = co_await c.until("session.input_transcript.delta");
    CHECK(heard.at("delta").as_string() == "Caller");
    CHECK(ms(heard, "start_ms") == 0);
    CHECK(ms(heard, "end_ms") == 20);  // the first 20 ms window of speech
    const auto rest = co_await c.until("session.input_transcript.delta");
    CHECK(rest.at("delta").as_string() == " utterance 1");
    CHECK(ms(rest, "start_ms") == 20);
    CHECK(ms(rest, "end_ms") == 500);  // the speech, not the silence that ended it

    // The turn starts where the caller's turn ended (1000 ms: 500 ms of speech, 500 ms of silence)
    // and its audio and words tile [1000, 2000) without gaps.
    std::int64_t audio_end = 1000;
    std::int64_t words_end = 1000;
    while (audio.size() < 8000 || transcript != "This is simulated reply number 1.") {
      const auto e = co_await c.next();
      const auto type = e.at("type").as_string();
      if (type == "session.output_audio.delta") {
        CHECK(ms(e, "start_ms") == audio_end);
        audio_end = ms(e, "end_ms");
        audio += mb::test::decode_delta(e);
      } else if (type == "session.output_transcript.delta") {
        CHECK(ms(e, "start_ms") == words_end);
        CHECK(ms(e, "end_ms") >= ms(e, "start_ms"));
        words_end = ms(e, "end_ms");
        transcript += e.at("delta").as_string();
      } else {
        FAIL("unexpected event " << type);
      }
    }
    CHECK(audio_end == 2000);
    CHECK(words_end == 2000);
  });

  CHECK(audio.size() == 8000);
  CHECK(mb::test::matches_pattern(0, 0, audio));
  REQUIRE(rs.simulator.wait_until(
      [](const auto& s) { return !s.empty() && !s[0].responses.empty() && s[0].responses[0].status == "completed"; }, 3s));
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.input_audio == std::vector<std::uint8_t>(turn.begin(), turn.end()));
  REQUIRE(s.speech.size() == 1);
  CHECK(s.speech[0].audio_start_ms == 0);
  CHECK(s.speech[0].audio_end_ms == 1000);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].trigger == "vad");
  CHECK(s.responses[0].item_bytes == std::vector<std::uint64_t>{8000});
}

TEST_CASE("live sim: output audio carries no timing fields unless asked, as on the primary WebSocket",
          "[integration][sim][live_sim]") {
  sim::simulator_options options;
  options.response_ms = 200;
  options.speed = 20;
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    co_await speak(c, ulaw(300, true) + ulaw(520, false));
    const auto delta = co_await c.until("session.output_audio.delta");
    CHECK_FALSE(delta.contains("start_ms"));
    CHECK_FALSE(delta.contains("end_ms"));
    CHECK(delta.at("delta").is_string());
  });
}

TEST_CASE("live sim: talked over, the model stops its audio on its own after the caller's transcript",
          "[integration][sim][live_sim]") {
  sim::simulator_options options;
  options.response_ms = 5000;
  options.speed = 1;  // 100 ms per delta: the turn is still playing when the caller speaks
  options.late_deltas_after_cancel = 2;
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    co_await c.send_text(R"({"type":"session.instructions.append","content":"Greet the caller.","delegation_id":null})");
    co_await c.until("session.output_audio.delta");
    co_await speak(c, ulaw(100, true));
    REQUIRE(rs.simulator.wait_until(
        [](const auto& s) { return !s.empty() && !s[0].responses.empty() && s[0].responses[0].status != "in_progress"; },
        3s));
    // Answered only after the turn ended, so everything the turn sent is before it.
    co_await c.send_text(R"({"type":"session.input_audio.mute"})");
    co_await c.until("session.input_audio.muted");

    const long caller = c.index_of("session.input_transcript.delta");
    REQUIRE(caller > 0);
    std::size_t deltas_after = 0;
    std::set<std::string> types;
    for (std::size_t i = 0; i < c.events.size(); ++i) {
      const std::string type(c.events[i].at("type").as_string());
      types.insert(type);
      if (static_cast<long>(i) > caller && type == "session.output_audio.delta") ++deltas_after;
    }
    CHECK(deltas_after == 2);
    // Nothing announces the interruption: no cancel, done or speech event of any kind.
    CHECK(types == std::set<std::string>{"session.started", "session.instructions.appended",
                                         "session.output_audio.delta", "session.output_transcript.delta",
                                         "session.input_transcript.delta", "session.input_audio.muted"});
  });
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].status == "interrupted");
  CHECK(s.responses[0].item_bytes.at(0) < 5000 * 8);
  REQUIRE(s.speech.size() == 1);
}

TEST_CASE("live sim: instructions.append is acknowledged and spoken, thinking.append only acknowledged",
          "[integration][sim][live_sim]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  running_simulator rs(options);
  std::string audio;
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    co_await c.send_text(R"({"type":"session.instructions.append","event_id":"greet-1","content":"Greet the caller."})");
    auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("code").as_string() == "missing_required_parameter");
    CHECK(error.at("param").as_string() == "delegation_id");
    CHECK(error.at("client_event_id").as_string() == "greet-1");

    co_await c.send_text(
        R"({"type":"session.instructions.append","event_id":"greet-2","content":"Greet the caller.","delegation_id":null})");
    const auto appended = co_await c.until("session.instructions.appended");
    CHECK(appended.at("client_event_id").as_string() == "greet-2");
    CHECK(appended.at("start_ms").is_int64());
    CHECK(appended.at("end_ms").is_int64());
    while (audio.size() < 300 * 8) audio += mb::test::decode_delta(co_await c.until("session.output_audio.delta"));

    co_await c.send_text(R"({"type":"session.thinking.append","content":"The caller is a VIP.","delegation_id":"del_1"})");
    const auto thought = co_await c.until("session.thinking.appended");
    CHECK(thought.at("client_event_id").is_null());
  });
  CHECK(mb::test::matches_pattern(0, 0, audio));
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.appends.size() == 2);
  CHECK(s.appends[0].kind == "instructions");
  CHECK(s.appends[0].content == "Greet the caller.");
  CHECK_FALSE(s.appends[0].delegation_id);
  CHECK(s.appends[1].kind == "thinking");
  CHECK(s.appends[1].delegation_id == std::optional<std::string>("del_1"));
  REQUIRE(s.responses.size() == 1);  // thinking is silent
  CHECK(s.responses[0].trigger == "instructions");
  CHECK(s.responses[0].instructions == "Greet the caller.");
}

TEST_CASE("live sim: session.close lets the playing turn finish first", "[integration][sim][live_sim]") {
  sim::simulator_options options;
  options.response_ms = 500;
  options.speed = 2;  // 50 ms per delta: the turn is still playing when session.close arrives
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    co_await c.send_text(R"({"type":"session.commentary.append","content":"One moment.","delegation_id":null})");
    co_await c.until("session.output_audio.delta");
    co_await c.send_text(R"({"type":"session.close"})");
    co_await c.until("session.closed");
    const auto c_close = co_await c.closed_by_peer();
    CHECK(c_close == 1000);
    std::size_t bytes = 0;
    for (const auto& e : c.events)
      if (e.at("type").as_string() == "session.output_audio.delta") bytes += mb::test::decode_delta(e).size();
    CHECK(bytes == 500 * 8);
  });
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].trigger == "commentary");
  CHECK(s.responses[0].status == "completed");
  CHECK(s.closed_reason == "close_requested");
}

TEST_CASE("live sim: every session.closed reason can be injected, Realtime sessions are left alone",
          "[integration][sim][live_sim]") {
  running_simulator rs;
  const std::vector<std::string> reasons = {"expired", "content", "remote_hangup", "connection_lost", "close_requested"};
  run_client([&]() -> awaitable<void> {
    auto realtime = co_await mb::test::open_client(rs.realtime_url());
    co_await realtime.until("conversation.created");
    for (const auto& reason : reasons) {
      auto c = co_await started(rs);
      rs.simulator.end_live_sessions(reason);
      const auto closed = co_await c.until("session.closed");
      CHECK(closed.at("reason").as_string() == reason);
      CHECK(closed.at("usage").at("seconds").is_int64());
      const auto c_close = co_await c.closed_by_peer();
      CHECK(c_close == 1000);
    }
    co_await realtime.send_text(R"({"type":"input_audio_buffer.clear"})");
    co_await realtime.until("input_audio_buffer.cleared");
  });
  const auto s = rs.simulator.sessions();
  REQUIRE(s.size() == reasons.size() + 1);
  CHECK(s[0].provider == provider_kind::openai_realtime);
  CHECK(s[0].closed_reason.empty());
  for (std::size_t i = 0; i < reasons.size(); ++i) CHECK(s[i + 1].closed_reason == reasons[i]);
}

TEST_CASE("live sim: injected errors, a wrong confirmed format and a dropped connection",
          "[integration][sim][live_sim]") {
  sim::simulator_options options;
  options.force_output_format = "audio/pcm";
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    const json::value format = c.events.front().at("session").at("audio").at("format");
    CHECK(format == json::parse(R"({"type":"audio/pcm","rate":24000})"));

    rs.simulator.error_all("server_error", "server_error", "The server had an error.");
    const auto error = (co_await c.until("error")).at("error").as_object();
    CHECK(error.at("type").as_string() == "server_error");
    CHECK(error.at("message").as_string() == "The server had an error.");
    CHECK_FALSE(error.contains("client_event_id"));
    co_await c.send_text(R"({"type":"session.input_audio.unmute"})");
    co_await c.until("session.input_audio.unmuted");

    rs.simulator.drop_all();
    const auto r = co_await c.ws->read(c.buffer, 0);
    CHECK(r.status != mb::net::read_status::message);
    CHECK(c.ws->peer_close_reason().code == 0);
  });
  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.output_format == "audio/pcm");
  REQUIRE(s.errors.size() == 1);
  CHECK(s.errors[0].code == "server_error");
  CHECK(s.closed_by_simulator);
  CHECK_FALSE(s.clean_close);
  CHECK(s.closed_reason.empty());
}

namespace {

constexpr std::string_view responses_start = R"({"type":"session.start","session":{
  "model":"gpt-live-1","instructions":"Be brief.",
  "audio":{"format":{"type":"audio/pcmu","rate":8000},"output":{"voice":"marin"}},
  "delegation":{"type":"responses","responses":{"tools":[
    {"type":"function","name":"lookup_order","description":"Finds an order.","parameters":{"type":"object","properties":{"order_id":{"type":"string"}}}},
    {"type":"function","name":"end_call","description":"Hangs up.","parameters":{"type":"object","properties":{"reason":{"type":"string"}}}}]}}}})";

// Reads a delegated function call: session.delegation.created, then its response.event.
awaitable<json::object> delegated_call(sim_client& c) {
  const auto created = co_await c.until("session.delegation.created");
  const auto& delegation = created.at("delegation").as_object();
  CHECK(delegation.at("type").as_string() == "delegation");
  CHECK(delegation.at("target").as_string() == "responses");
  CHECK(delegation.at("response_id").is_string());
  const auto wrapped = co_await c.until("response.event");
  CHECK(wrapped.at("delegation_id") == delegation.at("id"));
  const auto& event = wrapped.at("event").as_object();
  CHECK(event.at("type").as_string() == "response.output_item.done");
  const auto& item = event.at("item").as_object();
  CHECK(item.at("type").as_string() == "function_call");
  co_return item;
}

// The transcript of the next model turn, read until it is as long as `expected`.
awaitable<std::string> spoken(sim_client& c, std::string_view expected) {
  std::string text;
  while (text.size() < expected.size()) text += (co_await c.until("session.output_transcript.delta")).at("delta").as_string();
  co_return text;
}

}  // namespace

TEST_CASE("live sim: with Responses delegation a scripted call is delegated, its result spoken about, and end_call "
          "follows a goodbye",
          "[integration][sim][live_sim][tools]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  options.tool_call_script = {{1, "lookup_order", R"({"order_id":"A-17"})"}, {2, "end_call", R"({"reason":"done"})"}};
  running_simulator rs(options);
  const std::string turn = ulaw(300, true) + ulaw(600, false);
  const std::string expected_answer = R"(The tool answered: {"status":"shipped"})";
  std::string call_id;
  std::string answer;
  std::string goodbye;
  run_client([&]() -> awaitable<void> {
    auto c = co_await mb::test::open_client(rs.live_url());
    co_await c.send_text(responses_start);
    const auto first = co_await c.next();
    INFO(json::serialize(first));
    REQUIRE(first.at("type").as_string() == "session.started");
    co_await c.send_text(R"({"type":"session.thinking.append","content":"Caller pressed 42#","delegation_id":null})");
    co_await c.until("session.thinking.appended");

    co_await speak(c, turn);
    const auto item = co_await delegated_call(c);
    CHECK(item.at("name").as_string() == "lookup_order");
    CHECK(json::parse(item.at("arguments").as_string()) == json::parse(R"({"order_id":"A-17"})"));
    call_id = item.at("call_id").as_string();
    const std::string result = R"({"type":"response.item.create","item":{"type":"function_call_output","call_id":")" +
                               call_id + R"(","output":"{\"status\":\"shipped\"}"}})";
    co_await c.send_text(result);
    co_await c.send_text(R"({"type":"response.create"})");
    answer = co_await spoken(c, expected_answer);

    co_await speak(c, turn);
    goodbye = co_await spoken(c, sim::goodbye_text);
    const auto end = co_await delegated_call(c);
    CHECK(end.at("name").as_string() == "end_call");
  });
  CHECK(answer == expected_answer);
  CHECK(goodbye == sim::goodbye_text);
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.declared_tools.size() == 2);
  CHECK(s.declared_tools[0].name == "lookup_order");
  CHECK(json::parse(s.declared_tools[0].parameters_json).at("type").as_string() == "object");
  REQUIRE(s.tool_calls.size() == 2);
  CHECK(s.tool_calls[0].call_id == call_id);
  CHECK(s.tool_calls[0].turn == 1);
  CHECK(s.tool_calls[1].name == "end_call");
  CHECK(s.tool_calls[1].turn == 2);
  REQUIRE(s.tool_results.size() == 1);
  CHECK(s.tool_results[0].call_id == call_id);
  CHECK(s.tool_results[0].output == R"({"status":"shipped"})");
  CHECK(s.context_texts == std::vector<std::string>{"Caller pressed 42#"});
  REQUIRE(s.responses.size() == 2);
  CHECK(s.responses[0].trigger == "tool");
  CHECK(s.responses[0].transcript == expected_answer);
  CHECK(s.responses[1].trigger == "end_call");
}

TEST_CASE("live sim: with client delegation no call is made", "[integration][sim][live_sim][tools]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  options.tool_call_script = {{1, "lookup_order", "{}"}};
  running_simulator rs(options);
  run_client([&]() -> awaitable<void> {
    auto c = co_await started(rs);
    co_await speak(c, ulaw(300, true) + ulaw(600, false));
    co_await c.until("session.output_audio.delta");
    CHECK(c.count("session.delegation.created") == 0);
  });
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.declared_tools.empty());
  CHECK(s.tool_calls.empty());
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].trigger == "vad");
}
