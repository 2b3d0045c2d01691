// The simulator's Gemini Live protocol over real loopback WebSockets: the key header, setup,
// caller audio in and 24 kHz answers out with transcripts and turn markers, being talked over, a
// greeting by clientContent, and goAway with resumption that continues the conversation.

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/base64.hpp"
#include "simulator/audio_pattern.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tests/integration/support/sim_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace sim = mb::simulator;
namespace test = mb::test;
using mb::net::awaitable;
using mb::upstream::provider_kind;

const test::upgrade_headers gemini_key = {{"x-goog-api-key", "AIza-test"}};
const test::upgrade_headers no_key;
const test::upgrade_headers bearer_only = {{"Authorization", "Bearer x"}};

constexpr std::string_view plain_setup = R"({"setup":{"model":"models/gemini-3.8-live",
  "generationConfig":{"responseModalities":["AUDIO"],"speechConfig":{"voiceConfig":{"prebuiltVoiceConfig":{"voiceName":"Kore"}}}},
  "systemInstruction":{"parts":[{"text":"Be brief."}]},
  "inputAudioTranscription":{},"outputAudioTranscription":{},
  "contextWindowCompression":{"slidingWindow":{}},"sessionResumption":{}}})";

std::string setup_resuming(std::string_view handle) {
  return R"({"setup":{"model":"models/gemini-3.8-live","generationConfig":{"responseModalities":["AUDIO"]},)"
         R"("inputAudioTranscription":{},"outputAudioTranscription":{},"sessionResumption":{"handle":")" +
         std::string(handle) + R"("}}})";
}

std::string pcm16k(int ms, bool loud) { return test::pcm16(ms, loud, 16000); }

// Sends `audio` as realtimeInput.audio messages of 20 ms (640 bytes), as the bridge sends a Twilio frame.
awaitable<std::size_t> speak(test::sim_client& c, const std::string& audio) {
  std::size_t messages = 0;
  for (std::size_t at = 0; at < audio.size(); at += 640, ++messages) {
    const std::string text = R"({"realtimeInput":{"audio":{"mimeType":"audio/pcm;rate=16000","data":")" +
                             mb::protocol::base64_encode(std::string_view(audio).substr(at, 640)) + R"("}}})";
    co_await c.send_text(text);
  }
  co_return messages;
}

// The serverContent member `field`, or null.
const json::value* content(const json::object& m, std::string_view field) {
  const auto* sc = m.if_contains("serverContent");
  return sc ? sc->as_object().if_contains(field) : nullptr;
}

// Reads until a message with top-level `key` (or serverContent.`key`) arrives.
awaitable<json::object> until(test::sim_client& c, std::string_view key) {
  for (;;) {
    json::object m = co_await c.next();
    if (m.contains(key) || content(m, key)) co_return m;
  }
}

awaitable<test::sim_client> set_up(const test::running_simulator& rs, std::string_view setup = plain_setup) {
  auto c = co_await test::open_client(rs.gemini_url(), gemini_key);
  co_await c.send_text(setup);
  const auto first = co_await c.next();
  REQUIRE(first.contains("setupComplete"));
  co_return c;
}

// What one reply carried, read up to its turnComplete.
struct reply {
  std::string audio;  // decoded PCM
  std::string transcript;
  bool finished = false;
  bool generation_complete = false;
  bool interrupted = false;
  bool usage = false;
  std::vector<std::string> mime_types;
  std::vector<std::size_t> chunk_bytes;
};

awaitable<reply> read_reply(test::sim_client& c) {
  reply r;
  for (;;) {
    const json::object m = co_await c.next();
    if (const auto* turn = content(m, "modelTurn")) {
      for (const auto& part : turn->at("parts").as_array()) {
        const auto& data = part.at("inlineData").as_object();
        r.mime_types.emplace_back(data.at("mimeType").as_string());
        const auto bytes = mb::protocol::base64_decode(data.at("data").as_string());
        REQUIRE(bytes);
        r.audio += *bytes;
        r.chunk_bytes.push_back(bytes->size());
      }
    } else if (const auto* t = content(m, "outputTranscription")) {
      r.transcript += t->at("text").as_string();
      if (const auto* f = t->as_object().if_contains("finished")) r.finished = f->as_bool();
    } else if (content(m, "generationComplete")) {
      r.generation_complete = true;
    } else if (content(m, "interrupted")) {
      r.interrupted = true;
    } else if (content(m, "turnComplete")) {
      co_return r;
    } else if (m.contains("usageMetadata")) {
      r.usage = true;
    }
  }
}

bool is_reply_audio(std::uint32_t response, const std::string& pcm) {
  return sim::is_assistant_pcm16(response, 0, 24000,
                                 {reinterpret_cast<const std::uint8_t*>(pcm.data()), pcm.size()});
}

}  // namespace

TEST_CASE("gemini sim: the key header is required, setup must come first and ask for audio",
          "[integration][sim][gemini_sim]") {
  test::running_simulator rs;
  CHECK(rs.gemini_url().ends_with("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"));
  CHECK(sim::provider_for_target("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent") ==
        provider_kind::gemini_live);
  test::run_client([&]() -> awaitable<void> {
    // No key, or a key only as a bearer token: refused before the upgrade.
    const int without_key = co_await test::refused_status(rs.gemini_url(), no_key);
    CHECK(without_key == 401);
    const int bearer = co_await test::refused_status(rs.gemini_url(), bearer_only);
    CHECK(bearer == 401);

    auto early = co_await test::open_client(rs.gemini_url(), gemini_key);
    co_await early.send_text(R"({"realtimeInput":{"audioStreamEnd":true}})");
    const auto early_close = co_await early.closed_by_peer();
    CHECK(early_close == 1007);

    auto text_only = co_await test::open_client(rs.gemini_url(), gemini_key);
    co_await text_only.send_text(
        R"({"setup":{"model":"models/gemini-3.8-live","generationConfig":{"responseModalities":["TEXT"]}}})");
    const auto text_close = co_await text_only.closed_by_peer();
    CHECK(text_close == 1007);

    auto c = co_await set_up(rs);
    CHECK(c.events.front().at("setupComplete").at("sessionId").is_string());
    const auto update = co_await c.next();  // a handle right away
    CHECK(update.at("sessionResumptionUpdate").at("resumable").as_bool());
    co_await c.send_text(plain_setup);  // a second setup
    const auto again = co_await c.closed_by_peer();
    CHECK(again == 1007);
  });
  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 3 && s[2].closed; }, 3s));
  const auto s = rs.simulator.sessions();
  CHECK(rs.simulator.stats().refused_upgrades == 2);
  CHECK(rs.simulator.stats().gemini_sessions == 3);
  CHECK_FALSE(s[0].setup_complete);
  CHECK(s[0].simulator_close_code == 1007);
  CHECK(s[1].simulator_close_reason.find("responseModalities") != std::string::npos);
  CHECK(s[2].provider == provider_kind::gemini_live);
  CHECK(s[2].credentials == "x-goog-api-key");
  CHECK_FALSE(s[2].key_in_query);
  CHECK(s[2].model == "gemini-3.8-live");
  CHECK(s[2].setup_complete);
  CHECK(s[2].setups.size() == 1);  // the second was refused before it was read as a setup
  CHECK(s[2].received_types == std::vector<std::string>{"setup", "setup"});
}

TEST_CASE("gemini sim: caller audio at 16 kHz gets transcripts and a 24 kHz answer, then the turn markers",
          "[integration][sim][gemini_sim]") {
  sim::simulator_options options;
  options.response_ms = 1000;
  options.speed = 20;
  options.gemini_chunk_ms = 120;
  test::running_simulator rs(options);
  std::size_t sent = 0;
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs);
    sent = co_await speak(c, pcm16k(400, true) + pcm16k(600, false));
    const auto heard = co_await until(c, "inputTranscription");
    CHECK(content(heard, "inputTranscription")->at("text").as_string() == "Caller");
    const auto rest = co_await until(c, "inputTranscription");
    CHECK(content(rest, "inputTranscription")->at("text").as_string() == " utterance 1");
    CHECK(content(rest, "inputTranscription")->at("finished").as_bool());

    const reply r = co_await read_reply(c);
    CHECK_FALSE(r.interrupted);
    CHECK(r.generation_complete);
    CHECK(r.finished);
    CHECK(r.transcript == "This is simulated reply number 1.");
    CHECK(r.audio.size() == 48000);  // 1 s at 24 kHz, two bytes a sample
    CHECK(is_reply_audio(0, r.audio));
    for (const auto& m : r.mime_types) CHECK(m == "audio/pcm;rate=24000");
    REQUIRE(r.chunk_bytes.size() == 9);  // 120 ms chunks, the last one shorter
    CHECK(r.chunk_bytes.front() == 5760);
    CHECK(r.chunk_bytes.back() == 48000 - 8 * 5760);
    const auto usage = co_await c.next();
    CHECK(usage.at("usageMetadata").at("totalTokenCount").as_int64() > 0);
    const auto update = co_await c.next();
    CHECK(update.at("sessionResumptionUpdate").at("newHandle").is_string());
  });
  REQUIRE(rs.simulator.wait_until(
      [](const auto& s) { return !s.empty() && !s[0].responses.empty() && s[0].responses[0].status == "completed"; }, 3s));
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.input_audio_bytes == 32000);
  CHECK(s.input_audio_messages == sent);
  REQUIRE(s.speech.size() == 1);
  CHECK(s.speech[0].audio_start_ms == 0);
  CHECK(s.speech[0].audio_end_ms == 900);
  CHECK(s.responses[0].trigger == "vad");
  CHECK(s.responses[0].transcript == "This is simulated reply number 1.");
  CHECK(s.handles_sent.size() == 2);
}

TEST_CASE("gemini sim: talked over, the reply stops with interrupted and turnComplete, no generationComplete",
          "[integration][sim][gemini_sim]") {
  sim::simulator_options options;
  options.response_ms = 5000;
  options.speed = 1;  // real time: the reply is still being sent when the caller speaks
  test::running_simulator rs(options);
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs);
    co_await c.send_text(
        R"({"clientContent":{"turns":[{"role":"user","parts":[{"text":"Greet the caller."}]}],"turnComplete":true}})");
    co_await until(c, "modelTurn");
    co_await speak(c, pcm16k(100, true));
    const reply cut = co_await read_reply(c);
    CHECK(cut.interrupted);
    CHECK_FALSE(cut.generation_complete);
    CHECK_FALSE(cut.usage);
    CHECK(cut.audio.size() < 5 * 48000);
    // After the cut nothing more of that reply: the caller's turn ends, and the next reply has the
    // next number.
    co_await speak(c, pcm16k(600, false));
    for (;;) {
      const json::object m = co_await c.next();
      if (const auto* turn = content(m, "modelTurn")) {
        const auto bytes = mb::protocol::base64_decode(
            turn->at("parts").as_array().at(0).at("inlineData").at("data").as_string());
        REQUIRE(bytes);
        CHECK(is_reply_audio(1, *bytes));
        break;
      }
      CHECK_FALSE(content(m, "generationComplete"));
    }
  });
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.responses.size() == 2);
  CHECK(s.responses[0].trigger == "client_content");
  CHECK(s.responses[0].status == "interrupted");
  CHECK(s.responses[1].index == 1);
  CHECK(s.client_contents.size() == 1);
}

TEST_CASE("gemini sim: goAway, then a resumed connection continues the conversation: no reply repeated, no caller "
          "audio lost",
          "[integration][sim][gemini_sim]") {
  sim::simulator_options options;
  options.response_ms = 400;
  options.speed = 20;
  options.gemini_go_away_after_ms = 1500;
  options.gemini_go_away_time_left_ms = 1000;
  test::running_simulator rs(options);
  const std::string turn = pcm16k(300, true) + pcm16k(600, false);
  std::size_t sent = 0;
  test::run_client([&]() -> awaitable<void> {
    auto first = co_await set_up(rs);
    sent += co_await speak(first, turn);
    const reply one = co_await read_reply(first);
    CHECK(is_reply_audio(0, one.audio));
    // The newest handle before goAway resumes the conversation.
    std::string handle;
    for (;;) {
      const json::object m = co_await first.next();
      if (const auto* u = m.if_contains("sessionResumptionUpdate")) handle = u->at("newHandle").as_string();
      if (const auto* g = m.if_contains("goAway")) {
        CHECK(g->at("timeLeft").as_string() == "1s");
        break;
      }
    }
    REQUIRE_FALSE(handle.empty());
    // A handle never issued is refused.
    auto unknown = co_await test::open_client(rs.gemini_url(), gemini_key);
    co_await unknown.send_text(setup_resuming("h_conv_999_1"));
    const auto unknown_close = co_await unknown.closed_by_peer();
    CHECK(unknown_close == 1008);

    auto second = co_await set_up(rs, setup_resuming(handle));
    // Audio sent on the old connection during its timeLeft still counts; then it closes.
    sent += co_await speak(first, pcm16k(100, false));
    const auto old_close = co_await first.closed_by_peer();
    CHECK(old_close == 1000);
    sent += co_await speak(second, turn);
    const auto rest = co_await until(second, "inputTranscription");
    CHECK(content(rest, "inputTranscription")->at("text").as_string() == "Caller");
    const reply two = co_await read_reply(second);
    CHECK(two.transcript == "This is simulated reply number 2.");
    CHECK(is_reply_audio(1, two.audio));
  });
  REQUIRE(rs.simulator.wait_until([](const auto& s) { return s.size() == 3 && s[0].closed; }, 3s));
  const auto s = rs.simulator.sessions();
  CHECK(s[0].go_away_sent);
  CHECK(s[0].simulator_close_code == 1000);
  CHECK(s[1].simulator_close_code == 1008);
  CHECK(s[1].conversation.empty());
  CHECK(s[2].conversation == s[0].conversation);
  CHECK(s[2].resumed_with == s[0].handles_sent.back());
  // Every caller message reached the conversation, across both connections.
  CHECK(s[0].input_audio_messages + s[2].input_audio_messages == sent);
  CHECK(s[0].input_audio_bytes + s[2].input_audio_bytes == 2 * turn.size() + 3200);
  // Reply numbers continue: nothing was said twice.
  std::vector<std::uint32_t> indices;
  for (const auto* session : {&s[0], &s[2]})
    for (const auto& r : session->responses) indices.push_back(r.index);
  CHECK(indices == std::vector<std::uint32_t>{0, 1});
}

TEST_CASE("gemini sim: the newest handle and the one before it resume, an older one is refused",
          "[integration][sim][gemini_sim]") {
  // A dropped connection can lose the update carrying the newest handle while it is in flight, so
  // the client may hold only the one before.
  test::running_simulator rs;
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs);
    const auto next_handle = [&c]() -> awaitable<std::string> {
      const auto update = co_await until(c, "sessionResumptionUpdate");
      co_return std::string(update.at("sessionResumptionUpdate").at("newHandle").as_string());
    };
    // One handle after the setup, then one after each reply.
    std::vector<std::string> handles;
    handles.push_back(co_await next_handle());
    for (int turn = 0; turn < 2; ++turn) {
      co_await speak(c, pcm16k(300, true) + pcm16k(600, false));
      const reply answer = co_await read_reply(c);
      CHECK(answer.finished);
      handles.push_back(co_await next_handle());
    }
    REQUIRE(handles.size() == 3);
    auto oldest = co_await test::open_client(rs.gemini_url(), gemini_key);
    co_await oldest.send_text(setup_resuming(handles[0]));
    const auto oldest_close = co_await oldest.closed_by_peer();
    CHECK(oldest_close == 1008);
    auto resumed = co_await set_up(rs, setup_resuming(handles[1]));  // requires setupComplete
  });
  const auto s = rs.simulator.sessions();
  REQUIRE(s.size() == 3);
  CHECK(s[2].conversation == s[0].conversation);
  CHECK(!s[2].resumed_with.empty());
}

TEST_CASE("gemini sim: a resumption handle expires", "[integration][sim][gemini_sim]") {
  sim::simulator_options options;
  options.gemini_handle_lifetime_ms = 1;
  test::running_simulator rs(options);
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs);
    const auto update = co_await c.next();
    const std::string handle(update.at("sessionResumptionUpdate").at("newHandle").as_string());
    // 1 ms lifetime: by the time the next connection's setup is read the handle has expired.
    rs.simulator.go_away_all(10ms);
    const auto go_away = co_await c.next();
    CHECK(go_away.at("goAway").at("timeLeft").as_string() == "0.010s");
    const auto closed = co_await c.closed_by_peer();
    CHECK(closed == 1000);
    auto late = co_await test::open_client(rs.gemini_url(), gemini_key);
    co_await late.send_text(setup_resuming(handle));
    const auto late_close = co_await late.closed_by_peer();
    CHECK(late_close == 1008);
  });
  const auto s = rs.simulator.sessions();
  REQUIRE(s.size() == 2);
  CHECK(s[1].simulator_close_reason.find("expired") != std::string::npos);
}

TEST_CASE("gemini sim: a simulator told to lose sessions refuses every handle, an injected error closes with 1011",
          "[integration][sim][gemini_sim]") {
  sim::simulator_options options;
  options.gemini_refuse_resumption = true;
  test::running_simulator rs(options);
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs);
    const auto update = co_await c.next();
    const std::string handle(update.at("sessionResumptionUpdate").at("newHandle").as_string());
    auto resumed = co_await test::open_client(rs.gemini_url(), gemini_key);
    co_await resumed.send_text(setup_resuming(handle));
    const auto resumed_close = co_await resumed.closed_by_peer();
    CHECK(resumed_close == 1008);
    rs.simulator.error_all("server_error", "internal", "The service is unavailable.");
    const auto failed = co_await c.closed_by_peer();
    CHECK(failed == 1011);
    CHECK(c.ws->peer_close_reason().reason == "The service is unavailable.");
  });
  const auto s = rs.simulator.sessions();
  REQUIRE(s.size() == 2);
  REQUIRE(s[0].errors.size() == 1);
  CHECK(s[0].errors[0].code == "1011");
  CHECK(s[1].resumed_with.empty());
}

namespace {

constexpr std::string_view tools_setup = R"({"setup":{"model":"models/gemini-3.8-live",
  "generationConfig":{"responseModalities":["AUDIO"]},
  "systemInstruction":{"parts":[{"text":"Be brief."}]},
  "tools":[{"functionDeclarations":[
    {"name":"lookup_order","description":"Finds an order.","parameters":{"type":"OBJECT","properties":{"order_id":{"type":"STRING"}}}},
    {"name":"end_call","description":"Hangs up."}]}],
  "inputAudioTranscription":{},"outputAudioTranscription":{}}})";

std::string caller_turn() { return pcm16k(300, true) + pcm16k(600, false); }

}  // namespace

TEST_CASE("gemini sim: a scripted toolCall is answered by toolResponse, then spoken about, context texts recorded",
          "[integration][sim][gemini_sim][tools]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  options.tool_call_script = {{1, "lookup_order", R"({"order_id":"A-17"})"}};
  test::running_simulator rs(options);
  std::string call_id;
  std::string answer;
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs, tools_setup);
    co_await c.send_text(
        R"({"clientContent":{"turns":[{"role":"user","parts":[{"text":"Caller pressed 7"}]}],"turnComplete":false}})");
    co_await c.send_text(R"({"realtimeInput":{"text":"Operator: be polite"}})");
    const std::string turn = caller_turn();
    co_await speak(c, turn);
    const auto call = co_await until(c, "toolCall");
    const auto& calls = call.at("toolCall").at("functionCalls").as_array();
    REQUIRE(calls.size() == 1);
    CHECK(calls.at(0).at("name").as_string() == "lookup_order");
    CHECK(calls.at(0).at("args").at("order_id").as_string() == "A-17");
    call_id = calls.at(0).at("id").as_string();
    const std::string response =
        R"({"toolResponse":{"functionResponses":[{"id":")" + call_id +
        R"(","name":"lookup_order","response":{"output":{"status":"shipped"}}}]}})";
    co_await c.send_text(response);
    answer = (co_await read_reply(c)).transcript;
  });
  const std::string expected = R"(The tool answered: {"output":{"status":"shipped"}})";
  CHECK(answer == expected);
  REQUIRE(rs.simulator.wait_until(
      [](const auto& s) { return !s.empty() && !s[0].responses.empty() && s[0].responses[0].status == "completed"; }, 3s));
  const auto s = rs.simulator.sessions().at(0);
  REQUIRE(s.declared_tools.size() == 2);
  CHECK(s.declared_tools[0].name == "lookup_order");
  CHECK(s.declared_tools[1].name == "end_call");
  CHECK(s.declared_tools[1].parameters_json.empty());
  REQUIRE(s.tool_calls.size() == 1);
  CHECK(s.tool_calls[0].call_id == call_id);
  REQUIRE(s.tool_results.size() == 1);
  CHECK(s.tool_results[0].call_id == call_id);
  CHECK(json::parse(s.tool_results[0].output) == json::parse(R"({"output":{"status":"shipped"}})"));
  CHECK(s.context_texts == std::vector<std::string>{"Caller pressed 7", "Operator: be polite"});
  REQUIRE(s.responses.size() == 1);
  CHECK(s.responses[0].trigger == "tool_response");
  CHECK(s.responses[0].transcript == expected);
}

TEST_CASE("gemini sim: caller speech cancels an unanswered call when asked to, end_call follows a goodbye",
          "[integration][sim][gemini_sim][tools]") {
  sim::simulator_options options;
  options.response_ms = 300;
  options.speed = 20;
  options.gemini_cancel_tool_calls_on_barge_in = true;
  options.tool_call_script = {{1, "lookup_order", "{}"}, {2, "end_call", "{}"}};
  test::running_simulator rs(options);
  std::string call_id;
  std::string goodbye;
  test::run_client([&]() -> awaitable<void> {
    auto c = co_await set_up(rs, tools_setup);
    const std::string turn = caller_turn();
    co_await speak(c, turn);
    call_id = (co_await until(c, "toolCall")).at("toolCall").at("functionCalls").at(0).at("id").as_string();
    co_await speak(c, turn);
    const auto cancellation = co_await until(c, "toolCallCancellation");
    const auto& ids = cancellation.at("toolCallCancellation").at("ids").as_array();
    REQUIRE(ids.size() == 1);
    CHECK(ids.at(0).as_string() == call_id);
    goodbye = (co_await read_reply(c)).transcript;
    const auto end = co_await until(c, "toolCall");
    CHECK(end.at("toolCall").at("functionCalls").at(0).at("name").as_string() == "end_call");
  });
  CHECK(goodbye == sim::goodbye_text);
  const auto s = rs.simulator.sessions().at(0);
  CHECK(s.tool_cancellations == std::vector<std::string>{call_id});
  REQUIRE(s.tool_calls.size() == 2);
  CHECK(s.tool_calls[1].name == "end_call");
  CHECK(s.tool_calls[1].turn == 2);
  CHECK(s.tool_results.empty());
}
