// One call end to end: simulated Twilio → mediabridge → Realtime simulator, over loopback sockets.

#include <catch2/catch.hpp>

#include <future>
#include <memory>

#include "tests/integration/support/bridge_harness.hpp"
#include "simulator/audio_pattern.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {

using seg = tools::twilio::audio_segment;
constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;

mb::simulator::simulator_options fast_simulator() {
  mb::simulator::simulator_options o;
  o.response_ms = 2000;
  o.speed = 4.0;
  return o;
}

// The prefix of `played` that is response `index`'s audio.
std::size_t matching_prefix(std::string_view played, std::uint32_t index) {
  std::size_t n = 0;
  while (n < played.size() && static_cast<std::uint8_t>(played[n]) == mb::simulator::assistant_audio_byte(index, n)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a whole call relays audio byte-exact both ways, including audio sent before the upstream was ready",
          "[integration][bridge]") {
  auto sim = fast_simulator();
  sim.session_updated_delay_ms = 400;  // caller audio arrives while the upstream is not ready
  test::bridge_harness h({.simulator = sim});

  auto reports = h.run({h.call({{speech, 300}, {silence, 3700}})});
  REQUIRE(reports.size() == 1);
  const auto& r = reports[0];
  INFO(r.failure);
  REQUIRE(r.ok());

  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, std::chrono::seconds(3)));
  const auto session = h.simulator().sessions().at(0);
  // Caller → upstream: every byte, in order, the first 400 ms included.
  REQUIRE(session.input_audio.size() == r.sent_audio.size());
  CHECK(std::equal(session.input_audio.begin(), session.input_audio.end(),
                   reinterpret_cast<const std::uint8_t*>(r.sent_audio.data())));
  CHECK(session.input_format == "audio/pcmu");
  CHECK(session.output_format == "audio/pcmu");
  CHECK(session.had_authorization);
  CHECK(session.model == "gpt-realtime");

  // Upstream → caller: the whole first response, byte-exact and in order.
  REQUIRE(!session.responses.empty());
  const auto expected = test::assistant_audio(0, 2000 * 8);
  REQUIRE(r.played_audio.size() >= expected.size());
  CHECK(r.played_audio.substr(0, expected.size()) == expected);
  CHECK(r.clears.empty());
}

TEST_CASE("barge-in clears Twilio, truncates at what the caller heard and drops late deltas", "[integration][bridge]") {
  auto sim = fast_simulator();
  sim.response_ms = 3000;
  sim.late_deltas_after_cancel = 3;  // the service keeps sending a little after it cancels
  test::bridge_harness h({.simulator = sim});

  // Speak, wait ~1.3 s into the answer, interrupt, listen to the second answer, hang up.
  auto reports = h.run({h.call({{speech, 400}, {silence, 2000}, {speech, 600}, {silence, 4000}})});
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());
  REQUIRE(r.clears.size() == 1);

  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, std::chrono::seconds(3)));
  const auto session = h.simulator().sessions().at(0);
  REQUIRE(session.truncates.size() >= 1);
  const auto& truncate = session.truncates.front();
  CHECK(truncate.accepted);
  CHECK(truncate.item_id == session.responses.at(0).item_ids.at(0));
  // What the simulated caller really played of the first answer before the clear.
  const double played_ms = r.clears.front().played_ms;
  CHECK(std::abs(static_cast<double>(truncate.audio_end_ms) - played_ms) <= 40.0);
  CHECK(played_ms > 500.0);
  CHECK(played_ms < 3000.0);

  // Nothing of the cut answer after the clear: the played audio is a prefix of answer 0, then answer 1.
  // The longest prefix matching answer 0 may run a byte or two into answer 1 where their bytes happen
  // to agree: the cut is the latest split point after which everything matches answer 1.
  const std::string_view played = r.played_audio;
  std::size_t cut = matching_prefix(played, 0);
  const std::size_t longest = cut;
  while (cut > 0 && longest - cut < 16 && matching_prefix(played.substr(cut), 1) != played.size() - cut) --cut;
  const std::string_view after_clear = played.substr(cut);
  REQUIRE(session.responses.size() >= 2);
  CHECK(matching_prefix(after_clear, 1) == after_clear.size());
  CHECK(std::abs(static_cast<double>(cut) / 8.0 - played_ms) <= 20.0);
  CHECK(after_clear.size() > 1000);

  // The cut assistant turn is reported as interrupted, with what was heard.
  bool saw_interrupted = false;
  for (const auto& e : h.events().events())
    if (const auto* f = std::get_if<call::transcript_final>(&e.event); f && f->interrupted) {
      saw_interrupted = true;
      CHECK(f->heard_ms == truncate.audio_end_ms);
    }
  CHECK(saw_interrupted);
}

TEST_CASE("hanging up closes the upstream cleanly within a second", "[integration][bridge]") {
  test::bridge_harness h({.simulator = fast_simulator()});
  auto reports = h.run({h.call({{speech, 200}, {silence, 300}})});
  REQUIRE(reports.at(0).outcome == call_outcome::completed);
  const auto hung_up = std::chrono::steady_clock::now();
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, std::chrono::seconds(1)));
  CHECK(std::chrono::steady_clock::now() - hung_up < std::chrono::seconds(1));
  const auto session = h.simulator().sessions().at(0);
  CHECK(session.clean_close);
  CHECK(session.close_code == 1000);
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::caller_hung_up);
}

TEST_CASE("a session.updated with the wrong audio format ends the call before any audio is relayed",
          "[integration][bridge]") {
  auto sim = fast_simulator();
  sim.force_output_format = "audio/pcm";
  test::bridge_harness h({.simulator = sim});
  auto reports = h.run({h.call({{speech, 300}, {silence, 3000}})});
  const auto& r = reports.at(0);
  CHECK(r.outcome == call_outcome::bridge_closed);
  CHECK(r.close_code == 1011);
  CHECK(r.played_audio.empty());
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::format_mismatch);
}

TEST_CASE("50 concurrent calls all complete with byte-exact audio both ways", "[integration][bridge]") {
  auto sim = fast_simulator();
  sim.response_ms = 1000;
  test::bridge_harness h({.simulator = sim});
  std::vector<tools::twilio::call_options> calls;
  for (int i = 0; i < 50; ++i) {
    // Distinct caller audio per call: a call's bytes can only match its own upstream session.
    // 400 ms of speech, then 4 s of silence: the 1 s answer starts about 0.5 s after the speech
    // (server VAD), and the caller stays on the line long after it ends even when 50 calls on a slow
    // (sanitizer) build run late; with 2 s the answer was sometimes cut by the hang-up.
    auto audio = std::make_shared<std::string>(std::string(8 * 4400, static_cast<char>(0xFF)));
    for (std::size_t k = 0; k < 8 * 400; ++k) (*audio)[k] = tools::twilio::speech_frame()[k % 160];
    for (std::size_t k = 8 * 400; k < audio->size(); k += 160) (*audio)[k] = static_cast<char>(0xF0 + i % 15);
    (*audio)[8 * 400 + 1] = static_cast<char>(0x80 + i);
    auto o = h.call({});
    o.script.clear();
    o.ulaw_audio = audio;
    calls.push_back(std::move(o));
  }
  auto reports = h.run(std::move(calls), 60000);
  REQUIRE(reports.size() == 50);
  REQUIRE(h.simulator().wait_until(
      [](const auto& s) {
        return s.size() == 50 && std::all_of(s.begin(), s.end(), [](const auto& x) { return x.closed; });
      },
      std::chrono::seconds(5)));
  const auto sessions = h.simulator().sessions();
  const auto expected_answer = test::assistant_audio(0, 1000 * 8);
  for (const auto& r : reports) {
    INFO(r.call_sid << ": " << r.failure);
    CHECK(r.ok());
    const auto carries_this_call = [&](const auto& s) {
      return s.input_audio.size() == r.sent_audio.size() &&
             std::equal(s.input_audio.begin(), s.input_audio.end(),
                        reinterpret_cast<const std::uint8_t*>(r.sent_audio.data()));
    };
    CHECK(std::count_if(sessions.begin(), sessions.end(), carries_this_call) == 1);
    const auto session = std::find_if(sessions.begin(), sessions.end(), carries_this_call);
    REQUIRE(session != sessions.end());
    INFO("played " << r.played_audio.size() << " bytes, " << r.clears.size() << " clears, max send lag "
                   << r.max_send_lag_ms << " ms; upstream: " << session->speech.size() << " speech turns, "
                   << session->responses.size() << " responses, " << session->truncates.size() << " truncates");
    CHECK(matching_prefix(r.played_audio, 0) >= expected_answer.size());
  }
  // Every call gives its slot back; the last ones may still be closing when the callers' reports are in.
  auto idle = std::make_shared<std::promise<void>>();
  h.registry().on_idle([idle] { idle->set_value(); });
  CHECK(idle->get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(h.registry().active() == 0);
}
