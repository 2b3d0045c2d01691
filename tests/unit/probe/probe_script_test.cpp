#include "probe/probe_script.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "probe/utterance.hpp"
#include "protocol/base64.hpp"
#include "tests/unit/support/live_messages.hpp"
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

std::string field(const std::string& message, std::string_view name) {
  return json::value_to<std::string>(json::parse(message).at(name));
}
std::string type_of(const std::string& message) { return field(message, "type"); }

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
  CHECK(field(first[0], "audio") == mb::protocol::base64_encode(std::string(160, '\x10')));
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
  CHECK(field(silence[0], "audio") == mb::protocol::base64_encode(std::string(160, '\xff')));
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

TEST_CASE("probe_script: other tools get an error result, an unasked echo call is answered unmeasured",
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
    a.receive(R"({"type":"error","error":{"type":"invalid_request_error","code":"invalid_api_key",)"
              R"("message":"Incorrect API key provided: sk-abc***xyz"}})",
              10);
    CHECK(a.script.result().error == error_kind::auth);
    CHECK(a.script.result().error_detail == "provider error error: invalid_api_key");  // no part of the key
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

namespace {
namespace live {
const std::string started =
    R"({"type":"session.started","event_id":"e0","session":{"id":"live_1","model":"gpt-live-1",)"
    R"("expires_at":1767225600,"status":"active","audio":{"format":{"type":"audio/pcmu","rate":8000}}}})";
const std::string audio = R"({"type":"session.output_audio.delta","delta":")" + chunk_b64 + R"("})";
const std::string caller_said =
    R"({"type":"session.input_transcript.delta","delta":"Caller","start_ms":0,"end_ms":100})";
}  // namespace live
}  // namespace

TEST_CASE("probe_script: the whole script against GPT-Live, whose turns end by timing", "[probe_script]") {
  driver d(provider_kind::openai_live);
  const auto start = d.connect(0);
  REQUIRE(start.size() == 1);
  CHECK(type_of(start[0]) == "session.start");
  CHECK(start[0].find("probe_echo") != std::string::npos);
  const auto first = d.receive(live::started, 30);
  CHECK(d[stage::session] == 30.0);
  REQUIRE(first.size() == 1);
  CHECK(type_of(first[0]) == "session.input_audio.append");

  // GPT-Live's caller turn begins with its transcript, here during the speech (which ends at 230).
  d.receive(live::caller_said, 100);
  CHECK(d[stage::speech_started] == 70.0);
  CHECK(d[stage::transcript_partial] == 0.0);
  d.tick_until(600);
  // The model's turn opening closes the caller's: its final.
  d.receive(live::audio, 700);
  CHECK(d[stage::first_audio] == 470.0);
  CHECK(d[stage::transcript_final] == 470.0);
  d.receive(live::audio, 720);
  d.receive(live::audio, 760);
  // The adapter closes the turn assistant_gap (500 ms) after its last delta; the text turn follows.
  CHECK(d.script.next_wakeup() == d.at(1260));
  const auto text_turn = d.tick_at_wakeup();
  CHECK(d[stage::audio_span] == 60.0);
  CHECK(d[stage::audio_length] == 60.0);
  REQUIRE(text_turn.size() == 1);
  CHECK(type_of(text_turn[0]) == "session.instructions.append");

  d.receive(live::audio, 1500);
  CHECK(d[stage::text_first_audio] == 240.0);
  CHECK(d.script.next_wakeup() == d.at(2000));
  const auto tool_turn = d.tick_at_wakeup();
  REQUIRE(tool_turn.size() == 1);
  CHECK(tool_turn[0].find("probe_echo") != std::string::npos);

  const auto result = d.receive(mb::test::delegated_call("call_7", "probe_echo", R"({"text":"ping"})"), 2300);
  CHECK(d[stage::tool_call] == 300.0);
  REQUIRE(result.size() == 2);
  CHECK(result[0].find(R"(\"ping\")") != std::string::npos);
  d.receive(live::audio, 2500);
  CHECK(d[stage::tool_answer] == 200.0);
  d.tick_at_wakeup();
  REQUIRE(d.script.finished());
  CHECK(d.script.result().ok());
  CHECK(d[stage::chunk_gap_p50] == 40.0);  // gaps 20 and 40
  CHECK(d[stage::chunk_gap_max] == 40.0);
}

namespace {
namespace gemini {
// `ms` of model audio: PCM16 at 24 kHz, a tone.
std::string model_audio(int ms) {
  std::string pcm(static_cast<std::size_t>(ms) * 48, '\0');
  for (std::size_t i = 0; i < pcm.size(); i += 2) pcm[i + 1] = static_cast<char>((i / 2) % 24 < 12 ? 0x20 : 0xE0);
  return R"({"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":")" +
         mb::protocol::base64_encode(pcm) + R"("}}]}}})";
}
const std::string turn_complete = R"({"serverContent":{"generationComplete":true,"turnComplete":true}})";
const std::string turn_complete_with_transcript =
    R"({"serverContent":{"turnComplete":true,"outputTranscription":{"text":"ping","finished":true}}})";
}  // namespace gemini
}  // namespace

TEST_CASE("probe_script: the whole script against Gemini Live, which transcodes its audio", "[probe_script]") {
  driver d(provider_kind::gemini_live);
  const auto setup = d.connect(0);
  REQUIRE(setup.size() == 1);
  CHECK(json::parse(setup[0]).as_object().contains("setup"));
  CHECK(setup[0].find("probe_echo") != std::string::npos);
  auto inputs = d.receive(R"({"setupComplete":{}})", 50);
  CHECK(d[stage::session] == 50.0);
  while (d.script.next_wakeup() <= d.at(600)) {
    const auto more = d.tick_at_wakeup();
    inputs.insert(inputs.end(), more.begin(), more.end());
  }
  // The adapter gathers the 20 ms frames into blocks of its own.
  CHECK_FALSE(inputs.empty());
  CHECK(inputs.size() < 28);
  for (const auto& input : inputs) CHECK(json::parse(input).as_object().contains("realtimeInput"));

  // The utterance ended at 250.
  d.receive(R"({"serverContent":{"inputTranscription":{"text":"Hello","finished":false}}})", 400);
  CHECK(d[stage::transcript_partial] == 150.0);
  d.receive(gemini::model_audio(100), 600);
  CHECK(d[stage::first_audio] == 350.0);
  CHECK(d[stage::transcript_final] == 350.0);  // the model's turn closes the caller's
  CHECK_FALSE(d[stage::speech_started]);       // Gemini says nothing when speech starts
  d.receive(gemini::model_audio(100), 650);
  d.receive(gemini::turn_complete, 700);
  // The turn's end waits for its late transcript, late_transcript_gap (1 s).
  CHECK(d.script.next_wakeup() == d.at(1700));
  const auto text_turn = d.tick_at_wakeup();
  CHECK(d[stage::audio_span] == 100.0);
  CHECK(d[stage::audio_length].value_or(0) == Approx(200.0).margin(10.0));
  REQUIRE(text_turn.size() == 1);
  CHECK(json::parse(text_turn[0]).at("clientContent").at("turnComplete") == true);

  d.receive(gemini::model_audio(100), 2000);
  CHECK(d[stage::text_first_audio] == 300.0);
  d.receive(gemini::turn_complete, 2050);
  const auto tool_turn = d.tick_at_wakeup();
  REQUIRE(tool_turn.size() == 1);
  CHECK(tool_turn[0].find("probe_echo") != std::string::npos);

  const auto result =
      d.receive(R"({"toolCall":{"functionCalls":[{"id":"fc1","name":"probe_echo","args":{"text":"ping"}}]}})", 3300);
  CHECK(d[stage::tool_call] == 250.0);
  REQUIRE(result.size() == 1);  // Gemini goes on by itself
  CHECK(json::parse(result[0]).at("toolResponse").at("functionResponses").at(0).at("response").at("output") ==
        json::parse(R"({"text":"ping"})"));
  d.receive(gemini::model_audio(100), 3500);
  CHECK(d[stage::tool_answer] == 200.0);
  d.receive(gemini::turn_complete_with_transcript, 3550);
  REQUIRE(d.script.finished());
  CHECK(d.script.result().ok());
  CHECK(d[stage::chunk_gap_max] == 50.0);
}
