// Calls bridged to GPT-Live end to end: simulated Twilio → mediabridge → the simulator's GPT-Live path,
// over loopback sockets (docs/protocols.md D1–D8).

#include <catch2/catch.hpp>

#include <algorithm>
#include <future>

#include <boost/json.hpp>

#include "simulator/audio_pattern.hpp"
#include "tests/integration/support/call_results.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {

using seg = tools::twilio::audio_segment;
constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;
constexpr auto live = upstream::provider_kind::openai_live;

std::string deltas_of(test::bridge_harness& h, const std::string& item_id) {
  std::string text;
  for (const auto& e : h.events().events())
    if (const auto* d = std::get_if<call::transcript_delta>(&e.event); d && d->item_id == item_id) text += d->text;
  return text;
}

// Quick reconnects, for the tests that end a session mid-call.
test::harness_options reconnecting_harness() {
  return {.provider = live,
          .tweak = [](auto&, auto& b) { b.lifecycle.backoff_base = 50ms; }};
}

// Starts a call that speaks twice and returns once the first answer has been sent in full.
std::future<std::vector<tools::twilio::call_report>> call_after_first_answer(test::bridge_harness& h) {
  auto options = h.call({{speech, 400}, {silence, 2500}, {speech, 400}, {silence, 2500}});
  auto pending = std::async(std::launch::async, [&h, options] { return h.run({options}); });
  REQUIRE(h.simulator().wait_until(
      [](const auto& s) { return s.size() == 1 && !s[0].responses.empty() && s[0].responses[0].status == "completed"; },
      8s));
  return pending;
}

}  // namespace

TEST_CASE("GPT-Live: a whole call relays audio byte-exact both ways and ends with session.close",
          "[integration][live_bridge]") {
  mb::simulator::simulator_options sim;  // the defaults: 2 s answers sent at 4x real time
  sim.session_updated_delay_ms = 400;  // caller audio arrives before session.started
  test::bridge_harness h({.simulator = sim, .provider = live});

  auto reports = h.run({h.call({{speech, 300}, {silence, 3700}})});
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());

  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto session = h.simulator().sessions().at(0);
  CHECK(session.provider == live);
  CHECK(session.had_authorization);
  REQUIRE(session.session_starts.size() == 1);
  const auto start = boost::json::parse(session.session_starts[0]).as_object();
  CHECK(start.at("type").as_string() == "session.start");
  CHECK(start.at("session").at("model").as_string() == "gpt-live-1");
  CHECK(start.at("session").at("audio").at("format").at("type").as_string() == "audio/pcmu");
  CHECK(start.at("session").at("audio").at("format").at("rate").as_int64() == 8000);
  CHECK(session.received_types.at(0) == "session.start");

  // Caller → upstream: every byte, in order, the audio before session.started included.
  REQUIRE(session.input_audio.size() == r.sent_audio.size());
  CHECK(std::equal(session.input_audio.begin(), session.input_audio.end(),
                   reinterpret_cast<const std::uint8_t*>(r.sent_audio.data())));
  // Upstream → caller: the whole answer, byte-exact and in order.
  const auto expected = test::assistant_audio(0, 2000 * 8);
  REQUIRE(r.played_audio.size() >= expected.size());
  CHECK(r.played_audio.substr(0, expected.size()) == expected);
  CHECK(r.clears.empty());

  // Hanging up asks the session to close and waits for its answer.
  CHECK(session.received_types.back() == "session.close");
  CHECK(session.closed_reason == "close_requested");
  CHECK(session.clean_close);
  CHECK(test::ended_reason(h) == call::end_reason::caller_hung_up);
}

TEST_CASE("GPT-Live: the greeting is appended as instructions after session.started and spoken first",
          "[integration][live_bridge]") {
  test::bridge_harness h({.provider = live,
                          .tweak = [](auto&, auto& b) { b.call.greeting = "Greet the caller warmly."; }});
  auto reports = h.run({h.call({{silence, 2500}})});
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto session = h.simulator().sessions().at(0);
  REQUIRE(session.appends.size() == 1);
  CHECK(session.appends[0].kind == "instructions");
  CHECK(session.appends[0].content == "Greet the caller warmly.");
  CHECK_FALSE(session.appends[0].delegation_id.has_value());  // null: not an answer to a delegation
  REQUIRE(!session.responses.empty());
  CHECK(session.responses[0].trigger == "instructions");
  // The caller never spoke, yet heard the greeting.
  CHECK(r.played_audio.size() >= 8 * 1000);
}

TEST_CASE("GPT-Live: timed transcript deltas become one final per turn, for listeners and the history",
          "[integration][live_bridge]") {
  test::bridge_harness h({.provider = live});
  auto reports = h.run({h.call({{speech, 400}, {silence, 3500}})});
  REQUIRE(reports.at(0).ok());
  REQUIRE(test::ended_reason(h) == call::end_reason::caller_hung_up);

  const auto all = test::transcript_finals(h);
  REQUIRE(all.size() == 2);
  const auto& caller = all[0];
  const auto& assistant = all[1];
  CHECK(caller.speaker == call::role::caller);
  CHECK(caller.item_id.starts_with("live_c"));
  CHECK(caller.text == "Caller utterance 1");
  CHECK(caller.text == deltas_of(h, caller.item_id));
  CHECK(assistant.speaker == call::role::assistant);
  CHECK(assistant.item_id.starts_with("live_a"));
  CHECK(!assistant.text.empty());
  CHECK(assistant.text == deltas_of(h, assistant.item_id));
  CHECK_FALSE(assistant.interrupted);
}

TEST_CASE("GPT-Live: a caller who talks over the answer hears it stop, the turn is cut at what was heard",
          "[integration][live_bridge]") {
  // A model that sends its audio ahead of real time leaves most of it queued in the bridge when it
  // stops: the bridge clears it. One that talks in real time leaves only the pacing lead.
  const double speed = GENERATE(4.0, 1.0);
  // OpenAI's GPT-Live, and Azure's (docs/protocols.md G2): the same rule on either host.
  const auto provider = GENERATE(upstream::provider_kind::openai_live, upstream::provider_kind::azure_live);
  INFO("model audio at " << speed << "x real time on " << upstream::to_string(provider));
  mb::simulator::simulator_options sim;  // the defaults: 2 s answers sent at 4x real time
  sim.response_ms = 3000;
  sim.speed = speed;
  sim.late_deltas_after_cancel = 2;  // the model does not stop at once
  test::bridge_harness h({.simulator = sim, .provider = provider});

  auto reports = h.run({h.call({{speech, 400}, {silence, 1500}, {speech, 600}, {silence, 4000}})});
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto session = h.simulator().sessions().at(0);
  REQUIRE(session.responses.size() >= 2);
  if (speed > 1.0) {
    CHECK(session.responses[0].status == "completed");  // all sent before the caller spoke
    CHECK(r.clears.size() == 1);                          // so the bridge had to throw it away
  } else {
    CHECK(session.responses[0].status == "interrupted");  // the model stopped by itself
  }

  // The caller heard little of the first answer after starting to speak (docs/protocols.md D5).
  REQUIRE(!r.stale_audio_ms.empty());
  INFO("stale audio after the caller spoke: " << r.stale_audio_ms[0] << " ms");
  CHECK(r.stale_audio_ms[0] < 500.0);

  REQUIRE(test::ended_reason(h) == call::end_reason::caller_hung_up);
  const auto all = test::transcript_finals(h);
  const auto cut = std::find_if(all.begin(), all.end(), [](const auto& f) { return f.interrupted; });
  REQUIRE(cut != all.end());
  CHECK(cut->speaker == call::role::assistant);
  CHECK(cut->heard_ms > 0);
  CHECK(cut->heard_ms < 3000);
  // The second answer was heard in full.
  CHECK(std::any_of(all.begin(), all.end(), [&](const auto& f) {
    return f.speaker == call::role::assistant && !f.interrupted && f.item_id != cut->item_id;
  }));
}

TEST_CASE("GPT-Live: a session that expires or loses its connection continues in a new one, told the conversation",
          "[integration][live_bridge]") {
  const std::string reason = GENERATE("expired", "connection_lost");
  // OpenAI's GPT-Live, and Azure's (docs/protocols.md G2).
  const auto provider = GENERATE(upstream::provider_kind::openai_live, upstream::provider_kind::azure_live);
  INFO(reason << " on " << upstream::to_string(provider));
  auto options = reconnecting_harness();
  options.provider = provider;
  test::bridge_harness h(options);
  auto pending = call_after_first_answer(h);
  // The adapter closes the answer's turn after its gap: let its final be published before the end.
  REQUIRE(h.events().wait_for_final(call::role::assistant, 3s));
  h.simulator().end_live_sessions(reason);
  auto reports = pending.get();
  const auto& r = reports.at(0);
  INFO(r.failure);
  CHECK(r.outcome == call_outcome::completed);

  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].closed_reason == reason);
  const auto& second = sessions[1];
  REQUIRE(second.session_starts.size() == 1);
  // The conversation so far travels in the new session's start.
  const auto start = boost::json::parse(second.session_starts[0]).as_object();
  const auto& input = start.at("session").at("input").as_array();
  CHECK(input.size() >= 2);
  CHECK(second.input_audio_bytes > 8 * 400);
  CHECK(!second.responses.empty());
  CHECK(test::ended_reason(h) == call::end_reason::caller_hung_up);
}

TEST_CASE("GPT-Live: a session closed for its content or by the remote party ends the call",
          "[integration][live_bridge]") {
  const std::string reason = GENERATE("content", "remote_hangup");
  INFO(reason);
  test::bridge_harness h({.provider = live});
  auto options = h.call({{speech, 400}, {silence, 5000}});
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].session_started; }, 5s));
  h.simulator().end_live_sessions(reason);
  auto reports = pending.get();
  const auto& r = reports.at(0);
  CHECK(r.outcome == call_outcome::bridge_closed);
  CHECK(r.close_code == 1000);
  CHECK(test::ended_reason(h) == call::end_reason::upstream_closed);
  CHECK(h.logs().contains("the provider ended the session (" + reason + ")"));
  CHECK(h.simulator().sessions().size() == 1);  // no new session
}

TEST_CASE("GPT-Live: an upstream that drops mid-call is reconnected and the call goes on", "[integration][live_bridge]") {
  test::bridge_harness h(reconnecting_harness());
  auto pending = call_after_first_answer(h);
  h.simulator().drop_all();
  auto reports = pending.get();
  INFO(reports.at(0).failure);
  CHECK(reports.at(0).outcome == call_outcome::completed);
  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[1].session_started);
  CHECK(!sessions[1].responses.empty());
  CHECK(test::ended_reason(h) == call::end_reason::caller_hung_up);
}

TEST_CASE("GPT-Live: a session.started with another audio format ends the call before any audio is relayed",
          "[integration][live_bridge]") {
  mb::simulator::simulator_options sim;  // the defaults: 2 s answers sent at 4x real time
  sim.force_output_format = "audio/pcma";  // PCM16 at 24 kHz would be transcoded (docs/protocols.md G2)
  test::bridge_harness h({.simulator = sim, .provider = live});
  auto reports = h.run({h.call({{speech, 300}, {silence, 3000}})});
  const auto& r = reports.at(0);
  CHECK(r.outcome == call_outcome::bridge_closed);
  CHECK(r.close_code == 1011);
  CHECK(r.played_audio.empty());
  CHECK(test::ended_reason(h) == call::end_reason::format_mismatch);
  CHECK(h.logs().contains("session.started confirmed input 'audio/pcma@8000'"));
}
