#include "probe/probe_script.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "probe/utterance.hpp"
#include "protocol/base64.hpp"
#include "tests/unit/support/padded.hpp"
#include "upstream/provider.hpp"

using namespace mb::probe;
using mb::upstream::provider_kind;
using namespace std::chrono_literals;
namespace json = boost::json;

// The probe's scripted exchange against each protocol's messages, on a fake clock (docs/latency.md
// "Probe stages", docs/protocols.md K2).

namespace {

using clock = probe_script::clock;

// Ten frames of a loud caller: the utterance ends 200 ms after its first frame.
const std::vector<std::uint8_t> ten_frames(10 * frame_bytes, 0x10);

struct driver {
  clock::time_point t0 = clock::time_point(std::chrono::hours(100));
  probe_script script;
  std::vector<std::string> sent;
  std::string buffer;

  explicit driver(provider_kind p, script_options options = {ten_frames, 20000ms, 5000ms},
                  mb::protocol::session_config config = {})
      : script(mb::upstream::make_adapter(p), std::move(config), options,
               probe_run{std::string(to_string(p)), "default", 1'700'000'000'000, {}, {}, {}}, t0) {}

  clock::time_point at(std::int64_t ms) const { return t0 + std::chrono::milliseconds(ms); }

  // What the script sent in reply to one provider message at `ms`.
  std::vector<std::string> receive(std::string_view message, std::int64_t ms) {
    mb::test::assign_padded(buffer, message);
    sent.clear();
    script.on_message(buffer, buffer.capacity(), at(ms), sent);
    return sent;
  }
  std::vector<std::string> tick(std::int64_t ms) {
    sent.clear();
    script.on_tick(at(ms), sent);
    return sent;
  }
  // Ticks at each wake-up up to `ms` and returns the frames sent on the way.
  std::size_t tick_until(std::int64_t ms) {
    std::size_t messages = 0;
    while (script.next_wakeup() <= at(ms) && !script.finished()) messages += tick_at_wakeup().size();
    return messages;
  }
  std::vector<std::string> tick_at_wakeup() {
    sent.clear();
    script.on_tick(script.next_wakeup(), sent);
    return sent;
  }
  std::vector<std::string> connect(std::int64_t ms) {
    sent.clear();
    script.on_connected({1.0, 2.0, 4.0, 3.0}, at(ms), sent);
    return sent;
  }
  [[nodiscard]] std::optional<double> operator[](stage s) const { return script.result().at(s); }
};

std::string type_of(const std::string& message) { return json::value_to<std::string>(json::parse(message).at("type")); }

const std::string chunk_b64 = mb::protocol::base64_encode(std::string(160, '\xff'));  // 20 ms of μ-law

namespace realtime {
const std::string session_updated =
    R"({"type":"session.updated","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"}},)"
    R"("output":{"format":{"type":"audio/pcmu"}}}}})";
std::string audio(std::string_view response) {
  return R"({"type":"response.output_audio.delta","response_id":")" + std::string(response) +
         R"(","item_id":"item_)" + std::string(response) + R"(","content_index":0,"delta":")" + chunk_b64 + R"("})";
}
std::string created(std::string_view response) {
  return R"({"type":"response.created","response":{"id":")" + std::string(response) + R"(","status":"in_progress"}})";
}
std::string done(std::string_view response) {
  return R"({"type":"response.done","response":{"id":")" + std::string(response) + R"(","status":"completed"}})";
}
std::string audio_done(std::string_view response) {
  return R"({"type":"response.output_audio.done","response_id":")" + std::string(response) + R"(","item_id":"item_)" +
         std::string(response) + R"("})";
}
std::string function_call(std::string_view name, std::string_view arguments) {
  return json::serialize(json::object{
      {"type", "response.output_item.done"},
      {"response_id", "r3"},
      {"item",
       {{"id", "item_fc"}, {"type", "function_call"}, {"status", "completed"}, {"call_id", "call_1"}, {"name", name},
        {"arguments", arguments}}}});
}
}  // namespace realtime

}  // namespace

TEST_CASE("probe_script: the whole script against the Realtime API, every stage from the fake clock",
          "[probe_script]") {
  driver d(provider_kind::openai_realtime);
  CHECK(d.script.next_wakeup() == d.at(20000));

  const auto config = d.connect(10);
  REQUIRE(config.size() == 1);
  const auto update = json::parse(config[0]);
  CHECK(update.at("type") == "session.update");
  const auto& tools = update.at("session").at("tools").as_array();
  REQUIRE(tools.size() == 1);
  CHECK(tools[0].at("name") == "probe_echo");
  CHECK(update.at("session").at("audio").at("input").at("turn_detection").at("type") == "server_vad");
  CHECK(d[stage::dns] == 1.0);
  CHECK(d[stage::tcp] == 2.0);
  CHECK(d[stage::tls] == 3.0);
  CHECK(d[stage::upgrade] == 4.0);
  CHECK(d[stage::connect] == 10.0);

  // Confirmed at 40: the first frame goes out at once, then one every 20 ms.
  const auto first = d.receive(realtime::session_updated, 40);
  CHECK(d[stage::session] == 30.0);
  REQUIRE(first.size() == 1);
  CHECK(type_of(first[0]) == "input_audio_buffer.append");
  CHECK(json::value_to<std::string>(json::parse(first[0]).at("audio")) == mb::protocol::base64_encode(std::string(160, '\x10')));
  for (int frame = 1; frame < 10; ++frame) {
    CHECK(d.script.next_wakeup() == d.at(40 + 20 * frame));
    CHECK(d.tick(39 + 20 * frame).empty());  // not yet due
    CHECK(d.tick(40 + 20 * frame).size() == 1);
  }
  CHECK(d.receive(R"({"type":"input_audio_buffer.speech_started","item_id":"c1","audio_start_ms":0})", 100).empty());
  CHECK(d[stage::speech_started] == 60.0);

  // Then silence, from the end of the utterance (240) until the answer.
  const auto silence = d.tick(240);
  REQUIRE(silence.size() == 1);
  CHECK(json::value_to<std::string>(json::parse(silence[0]).at("audio")) == mb::protocol::base64_encode(std::string(160, '\xff')));
  CHECK(d.tick(700).size() == 23);  // a late tick sends every frame due: 260..700
  d.receive(R"({"type":"conversation.item.input_audio_transcription.delta","item_id":"c1","delta":"Hel"})", 750);
  d.receive(realtime::created("r1"), 760);
  d.receive(R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"c1",)"
            R"("transcript":"Hello"})",
            800);
  CHECK(d[stage::transcript_partial] == 510.0);
  CHECK(d[stage::transcript_final] == 560.0);

  CHECK(d.receive(realtime::audio("r1"), 900).empty());
  CHECK(d[stage::first_audio] == 660.0);
  CHECK(d.tick(960).empty());  // no more silence once the answer speaks
  d.receive(realtime::audio("r1"), 1000);
  d.receive(realtime::audio("r1"), 1150);
  CHECK(d.receive(realtime::audio_done("r1"), 1160).empty());

  // The answer's end sends the text turn.
  const auto text_turn = d.receive(realtime::done("r1"), 1200);
  CHECK(d[stage::audio_span] == 250.0);
  CHECK(d[stage::audio_length] == 60.0);  // 3 × 160 bytes of μ-law
  REQUIRE(text_turn.size() == 2);
  CHECK(type_of(text_turn[0]) == "conversation.item.create");
  CHECK(type_of(text_turn[1]) == "response.create");
  d.receive(realtime::created("r2"), 1250);
  d.receive(realtime::audio("r2"), 1500);
  CHECK(d[stage::text_first_audio] == 300.0);
  d.receive(realtime::audio("r2"), 1520);

  const auto tool_turn = d.receive(realtime::done("r2"), 1600);
  REQUIRE(tool_turn.size() == 2);
  CHECK(json::serialize(json::parse(tool_turn[0]).at("item")).find("probe_echo") != std::string::npos);
  const auto result = d.receive(realtime::function_call("probe_echo", R"({"text":"ping"})"), 2000);
  CHECK(d[stage::tool_call] == 400.0);
  REQUIRE(result.size() == 2);
  const auto output = json::parse(result[0]).at("item");
  CHECK(output.at("call_id") == "call_1");
  CHECK(json::parse(json::value_to<std::string>(output.at("output"))) == json::parse(R"({"text":"ping"})"));
  CHECK(type_of(result[1]) == "response.create");

  d.receive(realtime::created("r4"), 2100);
  d.receive(realtime::audio("r4"), 2300);
  CHECK(d[stage::tool_answer] == 300.0);
  d.receive(realtime::audio("r4"), 2340);
  CHECK_FALSE(d.script.finished());
  d.receive(realtime::done("r4"), 2400);
  REQUIRE(d.script.finished());
  CHECK(d.script.result().ok());
  CHECK(d.script.result().error_detail.empty());
  // Gaps 100, 150, 20, 40: the upper median and the largest.
  CHECK(d[stage::chunk_gap_p50] == 100.0);
  CHECK(d[stage::chunk_gap_max] == 150.0);
  CHECK(d.script.result().provider == "openai-realtime");
  CHECK(d.script.next_wakeup() == clock::time_point::max());
}

TEST_CASE("probe_script: turns the provider does not answer leave their stages empty", "[probe_script]") {
  driver d(provider_kind::azure_realtime);
  d.connect(0);
  d.receive(realtime::session_updated, 10);
  d.tick_until(400);
  d.receive(realtime::audio("r1"), 500);
  // No response.done: the answer is over when it has been quiet for step_wait.
  CHECK(d.script.next_wakeup() == d.at(5500));
  const auto text_turn = d.tick(5500);
  CHECK(d[stage::audio_span] == 0.0);
  REQUIRE(text_turn.size() == 2);
  // The text turn's response ends without audio: on to the tool turn at once.
  d.receive(realtime::created("r2"), 5600);
  CHECK(d.receive(realtime::done("r2"), 5700).size() == 2);
  CHECK_FALSE(d[stage::text_first_audio]);
  // No tool call within step_wait: the run ends, successfully, without the tool stages.
  CHECK(d.script.next_wakeup() == d.at(10700));
  d.tick(10699);
  CHECK_FALSE(d.script.finished());
  d.tick(10700);
  REQUIRE(d.script.finished());
  CHECK(d.script.result().ok());
  CHECK_FALSE(d[stage::tool_call]);
  CHECK_FALSE(d[stage::tool_answer]);
  CHECK_FALSE(d[stage::speech_started]);
  CHECK_FALSE(d[stage::chunk_gap_p50]);
}

TEST_CASE("probe_script: other tools get an error result; an unasked echo call is answered unmeasured",
          "[probe_script]") {
  mb::protocol::session_config profile;
  profile.tools.push_back({"end_call", "Ends the call.", R"({"type":"object"})"});
  driver d(provider_kind::openai_realtime, {ten_frames, 20000ms, 5000ms}, profile);
  const auto config = d.connect(0);
  CHECK(json::parse(config[0]).at("session").at("tools").as_array().size() == 2);
  d.receive(realtime::session_updated, 10);
  const auto refused = d.receive(realtime::function_call("end_call", "{}"), 100);
  REQUIRE(refused.size() == 1);  // no response.create: the probe's own turns go on
  CHECK(json::value_to<std::string>(json::parse(refused[0]).at("item").at("output")).find("error") !=
        std::string::npos);
  const auto unasked = d.receive(realtime::function_call("probe_echo", R"({"text":"x"})"), 120);
  REQUIRE(unasked.size() == 2);
  CHECK(json::parse(json::value_to<std::string>(json::parse(unasked[0]).at("item").at("output"))) ==
        json::parse(R"({"text":"x"})"));
  CHECK_FALSE(d[stage::tool_call]);
  // Arguments that are not an object with a text echo an empty text.
  d.receive(realtime::audio("r1"), 300);
  d.receive(realtime::done("r1"), 320);
  d.receive(realtime::created("r2"), 330);
  d.receive(realtime::done("r2"), 340);
  const auto result = d.receive(realtime::function_call("probe_echo", "[1,2"), 400);
  CHECK(d[stage::tool_call] == 60.0);
  CHECK(json::parse(json::value_to<std::string>(json::parse(result[0]).at("item").at("output"))) ==
        json::parse(R"({"text":""})"));
}

TEST_CASE("probe_script: errors end the run with their kind and a bounded, escaped detail", "[probe_script]") {
  SECTION("connect and auth failures as the shell reports them") {
    driver d(provider_kind::openai_realtime);
    d.script.on_connect_failed(error_kind::auth, "HTTP 401\r\nUnauthorized", d.at(5));
    REQUIRE(d.script.finished());
    CHECK(d.script.result().error == error_kind::auth);
    CHECK(d.script.result().error_detail == "HTTP 401\\r\\nUnauthorized");
    driver c(provider_kind::openai_realtime);
    c.script.on_connect_failed(error_kind::connect, std::string(1000, 'x'), c.at(5));
    CHECK(c.script.result().error == error_kind::connect);
    CHECK(c.script.result().error_detail.size() <= 200);
  }
  SECTION("an unreadable message") {
    driver d(provider_kind::openai_realtime);
    d.connect(0);
    d.receive("{not json", 10);
    REQUIRE(d.script.finished());
    CHECK(d.script.result().error == error_kind::protocol);
    CHECK(d.script.result().error_detail.rfind("unreadable message", 0) == 0);
  }
  SECTION("a provider error event; an authentication error is auth") {
    driver d(provider_kind::openai_realtime);
    d.connect(0);
    d.receive(R"({"type":"error","error":{"type":"invalid_request_error","code":"bad\u0001thing","message":")" +
                  std::string(500, 'm') + R"("}})",
              10);
    CHECK(d.script.result().error == error_kind::protocol);
    CHECK(d.script.result().error_detail.size() <= 200);
    CHECK(d.script.result().error_detail.find("bad\\x01thing") != std::string::npos);
    CHECK(d[stage::connect] == 10.0);  // what it measured stays
    driver a(provider_kind::openai_realtime);
    a.connect(0);
    a.receive(R"({"type":"error","error":{"type":"invalid_request_error","code":"invalid_api_key","message":"no"}})",
              10);
    CHECK(a.script.result().error == error_kind::auth);
  }
  SECTION("the connection closes early; after the deadline it is the timeout") {
    driver d(provider_kind::openai_realtime);
    d.connect(0);
    d.script.on_closed("1006", d.at(50));
    CHECK(d.script.result().error == error_kind::protocol);
    CHECK(d.script.result().error_detail == "the connection closed: 1006");
    driver t(provider_kind::openai_realtime);
    t.connect(0);
    t.script.on_closed("1006", t.at(20000));
    CHECK(t.script.result().error == error_kind::timeout);
  }
  SECTION("the timeout, from construction") {
    driver d(provider_kind::openai_realtime);
    d.connect(0);
    d.receive(realtime::session_updated, 10);
    CHECK(d.tick_until(19999) == 999);  // frames 2..1000 of utterance and silence, each 20 ms apart
    CHECK_FALSE(d.script.finished());
    CHECK(d.script.next_wakeup() == d.at(20000));
    d.tick(20000);
    REQUIRE(d.script.finished());
    CHECK(d.script.result().error == error_kind::timeout);
    CHECK(d.script.result().error_detail == "timed out waiting for the answer to the caller's speech");
    CHECK(d.tick(20020).empty());  // nothing after the end
  }
}

TEST_CASE("probe_script: chunk gaps are bounded", "[probe_script]") {
  driver d(provider_kind::openai_realtime, {ten_frames, 1000000ms, 5000ms});
  d.connect(0);
  d.receive(realtime::session_updated, 0);
  // The first max_chunk_gaps gaps are 2 ms, the later ones 3 ms: only the first are kept.
  constexpr auto kept = static_cast<std::int64_t>(max_chunk_gaps);
  for (std::int64_t i = 0; i < 2 * kept; ++i)
    d.receive(realtime::audio("r1"), 1000 + (i <= kept ? 2 * i : 2 * kept + 3 * (i - kept)));
  d.receive(realtime::done("r1"), 30000);
  d.tick(40000);
  d.tick(50000);
  REQUIRE(d.script.finished());
  CHECK(d[stage::chunk_gap_max] == 2.0);
  CHECK(d[stage::chunk_gap_p50] == 2.0);
}

TEST_CASE("probe_script: the embedded utterance is real speech, paced in whole frames", "[probe_script]") {
  const auto speech = utterance();
  CHECK(speech.size() > 8 * 1000);   // over a second
  CHECK(speech.size() < 20 * 1024);
  std::size_t silent = 0;
  for (const auto b : speech) silent += b == 0xFF || b == 0x7F;
  CHECK(silent < speech.size() / 4);
  driver d(provider_kind::openai_realtime, {speech, 20000ms, 5000ms});
  d.connect(0);
  d.receive(realtime::session_updated, 0);
  const auto frames = (speech.size() + frame_bytes - 1) / frame_bytes;
  CHECK(d.tick_until(static_cast<std::int64_t>(frames - 1) * 20) == frames - 1);
}
