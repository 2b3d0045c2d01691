// Upstream recovery, rollover and timeouts: the phone leg survives what the upstream does.

#include <catch2/catch.hpp>

#include <future>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {
constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;

mb::simulator::simulator_options quick_simulator() {
  mb::simulator::simulator_options o;
  o.response_ms = 600;
  o.speed = 4.0;
  return o;
}

std::size_t count_type(const mb::simulator::session_snapshot& s, std::string_view type) {
  return static_cast<std::size_t>(std::count(s.received_types.begin(), s.received_types.end(), type));
}
}  // namespace

TEST_CASE("with reconnects disabled, an upstream that drops mid-call ends the call with a log line",
          "[integration][resilience]") {
  test::bridge_harness h({.simulator = quick_simulator(),
                          .tweak = [](auto&, auto& b) { b.lifecycle.reconnect_attempts = 0; }});
  auto options = h.call({{speech, 200}, {silence, 10000}});
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].input_audio_bytes > 1600; },
                                    std::chrono::seconds(5)));
  h.simulator().drop_all();
  auto reports = pending.get();
  const auto& r = reports.at(0);
  CHECK(r.outcome == call_outcome::bridge_closed);
  CHECK(r.close_code == 1011);
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::upstream_error);
  CHECK(ended[0].second.duration < std::chrono::seconds(5));
  CHECK(h.logs().contains("upstream lost"));
}

TEST_CASE("an upstream drop mid-call reconnects, replays the conversation and the call goes on",
          "[integration][resilience]") {
  test::bridge_harness h({.simulator = quick_simulator(),
                          .tweak = [](auto&, auto& b) { b.lifecycle.backoff_base = 50ms; }});
  // One exchange, then the upstream drops during the silence; then the caller speaks again.
  auto options = h.call({{speech, 400}, {silence, 2500}, {speech, 400}, {silence, 2500}});
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });
  // Wait until the first answer's transcript is final (so there is something to replay).
  REQUIRE(h.simulator().wait_until(
      [](const auto& s) { return s.size() == 1 && !s[0].responses.empty() && s[0].responses[0].status == "completed"; },
      std::chrono::seconds(8)));
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s[0].input_audio_bytes > 8 * 2000; }, std::chrono::seconds(8)));
  h.simulator().drop_all();
  auto reports = pending.get();
  const auto& r = reports.at(0);
  INFO(r.failure);
  CHECK(r.outcome == call_outcome::completed);  // the caller hung up; the bridge never did

  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 2);
  const auto& second = sessions[1];
  CHECK(second.session_updates.size() == 1);
  CHECK(second.input_format == "audio/pcmu");
  // The conversation so far came back as text items, before any new audio.
  CHECK(count_type(second, "conversation.item.create") >= 2);
  CHECK(second.received_types.at(1) == "conversation.item.create");
  // The caller's second utterance reached the new session and was answered.
  CHECK(second.input_audio_bytes > 8 * 400);
  CHECK(!second.responses.empty());
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::caller_hung_up);
}

TEST_CASE("after a barge-in and an upstream drop, the new session is told only what the caller heard",
          "[integration][resilience]") {
  auto sim = quick_simulator();
  sim.response_ms = 3000;
  sim.late_deltas_after_cancel = 3;
  test::bridge_harness h({.simulator = sim, .tweak = [](auto&, auto& b) { b.lifecycle.backoff_base = 50ms; }});
  // Speak, interrupt the answer about 1.3 s in, and let the second answer start playing.
  auto options = h.call({{speech, 400}, {silence, 2000}, {speech, 600}, {silence, 6000}});
  options.call_sid = test::test_call_sid(41);
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });
  // The simulator has sent all of the second answer (faster than real time): the bridge is playing it.
  REQUIRE(h.simulator().wait_until(
      [](const auto& s) { return s.size() == 1 && s[0].responses.size() >= 2 && s[0].responses[1].status == "completed"; },
      std::chrono::seconds(10)));
  h.simulator().drop_all();
  const auto reports = pending.get();
  INFO(reports.at(0).failure);
  REQUIRE(reports.at(0).outcome == call_outcome::completed);
  REQUIRE(reports.at(0).clears.size() >= 1);

  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 2);
  REQUIRE(sessions[0].truncates.size() >= 1);
  CHECK(sessions[0].truncates[0].accepted);
  const auto finals = test::published_finals(h, options.call_sid);
  const auto first_answer = std::find_if(finals.begin(), finals.end(), [](const auto& l) { return l.role == "assistant"; });
  REQUIRE(first_answer != finals.end());
  INFO(*first_answer);
  // The barge-in cut the first answer after part of it: some of its words were heard, not all.
  REQUIRE(first_answer->interrupted);
  CHECK(first_answer->heard_ms == sessions[0].truncates[0].audio_end_ms);
  CHECK(first_answer->heard_text_estimated);
  CHECK_FALSE(first_answer->heard_text.empty());
  CHECK(first_answer->heard_text.size() < first_answer->text.size());
  CHECK(first_answer->text.starts_with(first_answer->heard_text));

  // The new session got the conversation as the caller heard it: cut turns only up to where they were cut.
  std::vector<std::string> expected;
  for (const auto& l : finals) {
    const auto& heard = l.interrupted ? l.heard_text : l.text;
    if (!heard.empty()) expected.push_back((l.role == "caller" ? "user: " : "assistant: ") + heard);
  }
  std::vector<std::string> replayed;
  for (const auto& raw : sessions[1].item_creates) {
    const auto item = boost::json::parse(raw).at("item").as_object();
    replayed.push_back(std::string(item.at("role").as_string()) + ": " +
                       std::string(item.at("content").at(0).at("text").as_string()));
  }
  CHECK(replayed == expected);
  CHECK(std::find(replayed.begin(), replayed.end(), "assistant: " + first_answer->text) == replayed.end());
}

TEST_CASE("an upstream that cannot be reached again is given up after the configured attempts",
          "[integration][resilience]") {
  test::bridge_harness h({.simulator = quick_simulator(), .tweak = [](auto&, auto& b) {
                            b.lifecycle.reconnect_attempts = 2;
                            b.lifecycle.backoff_base = 50ms;
                          }});
  auto options = h.call({{speech, 200}, {silence, 10000}});
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].input_audio_bytes > 1600; },
                                    std::chrono::seconds(5)));
  h.simulator().stop();  // closes the session with 1001 and stops accepting
  auto reports = pending.get();
  CHECK(reports.at(0).outcome == call_outcome::bridge_closed);
  CHECK(reports.at(0).close_code == 1011);
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::upstream_error);
  CHECK(ended[0].second.detail.find("2 reconnect attempt(s) failed") != std::string::npos);
}

TEST_CASE("an upstream session never confirmed is aborted at the session-ready deadline, retried, then given up",
          "[integration][resilience]") {
  auto sim = quick_simulator();
  sim.session_updated_delay_ms = 5000;
  test::bridge_harness h({.simulator = sim, .tweak = [](auto&, auto& b) {
                            b.lifecycle.session_ready_timeout = 300ms;
                            b.lifecycle.reconnect_attempts = 1;
                            b.lifecycle.backoff_base = 50ms;
                          }});
  auto reports = h.run({h.call({{speech, 200}, {silence, 5000}})});
  CHECK(reports.at(0).outcome == call_outcome::bridge_closed);
  CHECK(reports.at(0).close_code == 1011);
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::upstream_connect_failed);
  CHECK(ended[0].second.detail ==
        "no upstream session became ready in 2 attempt(s); last: upstream session not ready within 300 ms");
  // Both sessions were dropped without a close handshake: they had done nothing a close could finish.
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 2 && s[0].closed && s[1].closed; },
                                    std::chrono::seconds(5)));
  for (const auto& session : h.simulator().sessions()) CHECK_FALSE(session.clean_close);
}

TEST_CASE("the upstream session rolls over before its cap without the caller noticing", "[integration][resilience]") {
  // The same Realtime API at OpenAI and at Azure (whose cap is 30 minutes: docs/protocols.md G1).
  const auto provider = GENERATE(upstream::provider_kind::openai_realtime, upstream::provider_kind::azure_realtime);
  INFO(upstream::to_string(provider));
  test::bridge_harness h({.simulator = quick_simulator(),
                          .provider = provider,
                          .tweak = [](auto&, auto& b) { b.lifecycle.rollover_after = 1s; }});
  auto reports = h.run({h.call({{speech, 300}, {silence, 2700}})});
  const auto& r = reports.at(0);
  INFO(r.failure);
  CHECK(r.outcome == call_outcome::completed);
  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() >= 2);
  CHECK(sessions[1].provider == provider);
  CHECK(sessions[0].clean_close);
  CHECK(sessions[0].close_code == 1000);
  // The rollover waited for the answer to finish: it was never cut.
  CHECK(r.clears.empty());
  CHECK(r.played_audio.size() == 600 * 8);
}

TEST_CASE("a Twilio stream that stops sending media is ended", "[integration][resilience]") {
  test::bridge_harness h(
      {.simulator = quick_simulator(), .tweak = [](auto&, auto& b) { b.lifecycle.media_timeout = 300ms; }});
  const std::string call_sid = "CA00000000000000000000000000000001";
  test::raw_stream twilio(h.port());
  REQUIRE(twilio.connected());
  REQUIRE(twilio.send(test::raw_stream::connected_message()));
  REQUIRE(twilio.send(test::raw_stream::start_message(
      call_sid, "MZ01", {{std::string(protocol::stream_token_parameter), h.context().tokens.issue(call_sid)}})));
  CHECK(twilio.wait_closed(std::chrono::seconds(3)) == 1011);
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::timeout);
}
