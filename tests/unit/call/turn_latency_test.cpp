#include "call/turn_latency.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <numbers>
#include <string>

#include "codec/g711.hpp"
#include "protocol/base64.hpp"

using namespace mb::call;
using namespace std::chrono_literals;
using mb::upstream::event_kind;
using time_point = turn_latency::clock::time_point;

// A fake clock: times are ms since t0. Each step feeds one event and checks what comes back.

namespace {

const time_point t0 = time_point(std::chrono::hours(1));

mb::upstream::event ev(event_kind kind, std::string_view response_id = {}, std::string_view item_id = {}) {
  mb::upstream::event e;
  e.kind = kind;
  e.response_id = response_id;
  e.turn_id = item_id;
  return e;
}
mb::upstream::event audio(std::string_view response_id, std::string_view item_id) {
  return ev(event_kind::assistant_audio, response_id, item_id);
}
mb::upstream::event text(std::string_view response_id, std::string_view item_id) {
  return ev(event_kind::assistant_transcript_delta, response_id, item_id);
}
const auto stopped = ev(event_kind::caller_speech_stopped);
const auto started = ev(event_kind::caller_speech_started);

// 20 ms of μ-law (160 samples) of a 440 Hz sine at `dbfs` RMS, as base64; -inf: digital silence.
std::string frame(double dbfs) {
  std::string codes(160, static_cast<char>(mb::codec::ulaw_silence));
  if (std::isfinite(dbfs)) {
    const double peak = 32768.0 * std::pow(10.0, dbfs / 20.0) * std::numbers::sqrt2;
    for (std::size_t i = 0; i < codes.size(); ++i)
      codes[i] = static_cast<char>(mb::codec::linear_to_ulaw(
          static_cast<std::int16_t>(std::lround(peak * std::sin(2 * std::numbers::pi * 440.0 * i / 8000.0)))));
  }
  return mb::protocol::base64_encode(codes);
}
const std::string speech = frame(-20);
const std::string silence = frame(-INFINITY);

// The answer's first audio read at `at`, written 1 ms later (neither completes a turn), and Twilio's
// mark echo at `echo_at`: what that echo completes.
std::optional<turn_latency::record> plays(turn_latency& turn, const mb::upstream::event& first_audio, time_point at,
                                          time_point echo_at) {
  CHECK_FALSE(turn.on_upstream(first_audio, false, at));
  CHECK_FALSE(turn.on_twilio_written(at, at + 1ms));
  return turn.on_mark_echo(echo_at);
}

}  // namespace

TEST_CASE("voiced frames: speech is, line noise and silence are not", "[call][turn_latency]") {
  std::string scratch;
  CHECK(voiced_ulaw_b64(speech, scratch));
  CHECK(voiced_ulaw_b64(frame(-35), scratch));
  CHECK_FALSE(voiced_ulaw_b64(frame(-50), scratch));
  CHECK_FALSE(voiced_ulaw_b64(silence, scratch));
  CHECK_FALSE(voiced_ulaw_b64("not base64!", scratch));
  CHECK_FALSE(voiced_ulaw_b64("", scratch));
}

TEST_CASE("turn latency: speech stopped, first delta, first audio written, first mark echo", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0 + 1000ms));
  CHECK_FALSE(turn.on_upstream(text("resp_1", "item_1"), false, t0 + 1300ms));
  CHECK_FALSE(turn.provider_turn_first_audio());
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0 + 1450ms));
  // The histogram's measure, as it happens: the speech-stopped to the first audio read.
  CHECK(turn.provider_turn_first_audio() == std::optional<turn_latency::clock::duration>(450ms));
  // An earlier relayed message written now is not the turn's first audio; nor is an echo before it.
  CHECK_FALSE(turn.on_twilio_written(t0 + 1440ms, t0 + 1450ms));
  CHECK_FALSE(turn.on_mark_echo(t0 + 1450ms));
  CHECK_FALSE(turn.on_twilio_written(t0 + 1450ms, t0 + 1451ms));
  // The answer's later chunks measure nothing.
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0 + 1500ms));
  CHECK_FALSE(turn.provider_turn_first_audio());
  CHECK_FALSE(turn.on_twilio_written(t0 + 1500ms, t0 + 1500ms + 200us));

  const auto r = turn.on_mark_echo(t0 + 1900ms);
  REQUIRE(r);
  CHECK(r->turn == 1);
  CHECK(r->item_id == "item_1");
  CHECK(r->stopped_by_provider);
  CHECK(r->stopped_at == t0 + 1000ms);
  CHECK(r->to_first_delta == 300ms);
  CHECK(r->to_first_audio == 451ms);
  CHECK(r->to_heard == std::optional<turn_latency::clock::duration>(900ms));
  CHECK(r->bridge == 1ms);

  // One echo completes the turn: later ones, and more of the answer, measure nothing.
  CHECK_FALSE(turn.on_mark_echo(t0 + 2100ms));
  CHECK_FALSE(plays(turn, audio("resp_1", "item_1"), t0 + 2200ms, t0 + 2300ms));
}

TEST_CASE("turn latency: an answer that starts with audio is its own first delta", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0 + 600ms));
  CHECK_FALSE(turn.on_twilio_written(t0 + 600ms, t0 + 600ms + 300us));
  const auto r = turn.on_mark_echo(t0 + 800ms);
  REQUIRE(r);
  CHECK(r->to_first_delta == 600ms);
  CHECK(r->to_first_audio == 600ms + 300us);
  CHECK(r->bridge == 300us);
}

TEST_CASE("turn latency: several turns are numbered in order", "[call][turn_latency]") {
  turn_latency turn;
  for (int i = 0; i < 3; ++i) {
    const auto base = t0 + std::chrono::seconds(10 * i);
    const auto response = "resp_" + std::to_string(i);
    const auto item = "item_" + std::to_string(i);
    CHECK_FALSE(turn.on_upstream(started, false, base));
    CHECK_FALSE(turn.on_upstream(stopped, false, base + 1000ms));
    CHECK_FALSE(turn.on_upstream(audio(response, item), false, base + 1000ms + (i + 1) * 100ms));
    CHECK_FALSE(turn.on_twilio_written(base + 1000ms + (i + 1) * 100ms, base + 1000ms + (i + 1) * 100ms + 1ms));
    const auto r = turn.on_mark_echo(base + 2000ms);
    REQUIRE(r);
    CHECK(r->turn == i + 1);
    CHECK(r->item_id == item);
    CHECK(r->to_first_delta == (i + 1) * 100ms);
  }
}

TEST_CASE("turn latency: a barge-in before the echo completes the turn unheard", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0 + 500ms));

  SECTION("after its first audio was written") {
    CHECK_FALSE(turn.on_twilio_written(t0 + 500ms, t0 + 501ms));
    const auto r = turn.on_upstream(started, false, t0 + 520ms);
    REQUIRE(r);
    CHECK(r->to_first_audio == 501ms);
    CHECK_FALSE(r->to_heard);
    // The clear's echoes of the cut audio come later: they belong to no turn.
    CHECK_FALSE(turn.on_mark_echo(t0 + 530ms));
  }
  SECTION("while its first audio was being written: complete once written") {
    CHECK_FALSE(turn.on_upstream(started, false, t0 + 500ms));
    const auto r = turn.on_twilio_written(t0 + 500ms, t0 + 502ms);
    REQUIRE(r);
    CHECK(r->to_first_audio == 502ms);
    CHECK(r->bridge == 2ms);
    CHECK_FALSE(r->to_heard);
  }
  SECTION("the caller's next turn is measured from its own speech-stopped") {
    REQUIRE(turn.on_twilio_written(t0 + 500ms, t0 + 501ms) == std::nullopt);
    REQUIRE(turn.on_upstream(started, false, t0 + 520ms));
    CHECK_FALSE(turn.on_upstream(stopped, false, t0 + 2000ms));
    CHECK_FALSE(turn.on_upstream(audio("resp_2", "item_2"), false, t0 + 2200ms));
    CHECK_FALSE(turn.on_twilio_written(t0 + 2200ms, t0 + 2201ms));
    const auto r = turn.on_mark_echo(t0 + 2400ms);
    REQUIRE(r);
    CHECK(r->turn == 2);
    CHECK(r->to_first_delta == 200ms);
    CHECK(r->to_heard == std::optional<turn_latency::clock::duration>(400ms));
  }
}

TEST_CASE("turn latency: an answer cut before any audio records nothing", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(text("resp_1", "item_1"), false, t0 + 300ms));
  CHECK_FALSE(turn.on_upstream(started, false, t0 + 400ms));
  CHECK_FALSE(plays(turn, audio("resp_1", "item_1"), t0 + 500ms, t0 + 700ms));
}

TEST_CASE("turn latency: late deltas of a cut answer are not the next answer", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(text("resp_cut", "item_cut"), true, t0 + 100ms));
  CHECK_FALSE(turn.on_upstream(audio("resp_cut", "item_cut"), true, t0 + 200ms));
  CHECK_FALSE(turn.on_twilio_written(t0 + 200ms, t0 + 201ms));
  CHECK_FALSE(turn.on_mark_echo(t0 + 250ms));
  CHECK_FALSE(turn.on_upstream(text("resp_2", "item_2"), false, t0 + 600ms));
  const auto r = plays(turn, audio("resp_2", "item_2"), t0 + 700ms, t0 + 900ms);
  REQUIRE(r);
  CHECK(r->item_id == "item_2");
  CHECK(r->to_first_delta == 600ms);
  CHECK(r->to_first_audio == 701ms);
}

TEST_CASE("turn latency: the answer under way when the caller stopped is not the reply", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0));  // a greeting, not cut
  CHECK_FALSE(turn.on_upstream(stopped, false, t0 + 1000ms));
  CHECK_FALSE(plays(turn, audio("resp_1", "item_1"), t0 + 1100ms, t0 + 1200ms));
  const auto r = plays(turn, audio("resp_2", "item_2"), t0 + 1500ms, t0 + 1700ms);
  REQUIRE(r);
  CHECK(r->item_id == "item_2");
  CHECK(r->to_first_delta == 500ms);
}

TEST_CASE("turn latency: without a speech-stopped, the last voiced caller frame is the estimate",
          "[call][turn_latency]") {
  turn_latency turn;
  // Silence, then 400 ms of speech whose last frame arrives at 600 ms, then silence again.
  for (int ms = 0; ms < 200; ms += 20) turn.on_caller_audio(silence, t0 + std::chrono::milliseconds(ms));
  for (int ms = 200; ms <= 600; ms += 20) turn.on_caller_audio(speech, t0 + std::chrono::milliseconds(ms));
  for (int ms = 620; ms < 1500; ms += 20) turn.on_caller_audio(silence, t0 + std::chrono::milliseconds(ms));
  CHECK_FALSE(turn.on_upstream(text("turn_a1", "turn_a1"), false, t0 + 1500ms));
  CHECK_FALSE(turn.on_upstream(audio("turn_a1", "turn_a1"), false, t0 + 1600ms));
  CHECK_FALSE(turn.provider_turn_first_audio());  // estimates stay out of the histograms
  CHECK_FALSE(turn.on_twilio_written(t0 + 1600ms, t0 + 1601ms));
  const auto r = turn.on_mark_echo(t0 + 1800ms);
  REQUIRE(r);
  CHECK_FALSE(r->stopped_by_provider);
  CHECK(r->stopped_at == t0 + 600ms);
  CHECK(r->to_first_delta == 900ms);
  CHECK(r->to_first_audio == 1001ms);
  CHECK(r->to_heard == std::optional<turn_latency::clock::duration>(1200ms));

  SECTION("more of the same answer after a voiced frame is no new turn") {
    turn.on_caller_audio(speech, t0 + 1900ms);
    CHECK_FALSE(turn.on_upstream(audio("turn_a1", "turn_a1"), false, t0 + 2000ms));
    CHECK_FALSE(turn.on_twilio_written(t0 + 2000ms, t0 + 2001ms));
    CHECK_FALSE(turn.on_mark_echo(t0 + 2100ms));
  }
  SECTION("the next answer is timed from the speech since this one began") {
    turn.on_caller_audio(speech, t0 + 3000ms);
    turn.on_caller_audio(silence, t0 + 3020ms);
    CHECK_FALSE(turn.on_upstream(audio("turn_a2", "turn_a2"), false, t0 + 3500ms));
    CHECK_FALSE(turn.on_twilio_written(t0 + 3500ms, t0 + 3501ms));
    const auto next = turn.on_mark_echo(t0 + 3700ms);
    REQUIRE(next);
    CHECK(next->turn == 2);
    CHECK(next->stopped_at == t0 + 3000ms);
    CHECK(next->to_first_delta == 500ms);
  }
  SECTION("an answer without caller speech since the last one began is not a turn") {
    CHECK_FALSE(turn.on_upstream(audio("turn_a2", "turn_a2"), false, t0 + 3500ms));
    CHECK_FALSE(turn.on_twilio_written(t0 + 3500ms, t0 + 3501ms));
    CHECK_FALSE(turn.on_mark_echo(t0 + 3700ms));
  }
}

TEST_CASE("turn latency: a greeting to a silent line is not a turn", "[call][turn_latency]") {
  turn_latency turn;
  for (int ms = 0; ms < 400; ms += 20) turn.on_caller_audio(silence, t0 + std::chrono::milliseconds(ms));
  CHECK_FALSE(plays(turn, audio("resp_0", "item_0"), t0 + 400ms, t0 + 600ms));
}

TEST_CASE("turn latency: once the provider signals speech-stopped, answers without one are not estimated",
          "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0 + 500ms));
  CHECK_FALSE(turn.on_twilio_written(t0 + 500ms, t0 + 501ms));
  REQUIRE(turn.on_mark_echo(t0 + 700ms));
  turn.on_caller_audio(speech, t0 + 1000ms);  // heard by the provider's VAD as no turn
  CHECK_FALSE(turn.on_upstream(audio("resp_2", "item_2"), false, t0 + 1500ms));  // e.g. a tool's follow-up
  CHECK_FALSE(turn.on_twilio_written(t0 + 1500ms, t0 + 1501ms));
  CHECK_FALSE(turn.on_mark_echo(t0 + 1700ms));
}

TEST_CASE("turn latency: the event places the caller's end of speech in wall-clock time", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(text("resp_1", "item_1"), false, t0 + 250ms));
  CHECK_FALSE(turn.on_upstream(audio("resp_1", "item_1"), false, t0 + 400ms));
  CHECK_FALSE(turn.on_twilio_written(t0 + 400ms, t0 + 400ms + 250us));
  const auto r = turn.on_upstream(started, false, t0 + 450ms);
  REQUIRE(r);
  const auto e = waterfall_event(*r, t0 + 460ms, 1738326896789);
  CHECK(e.turn == 1);
  CHECK(e.item_id == "item_1");
  CHECK(e.stopped_by_provider);
  CHECK(e.stopped_unix_ms == 1738326896789 - 460);
  CHECK(e.to_first_delta_ms == 250.0);
  CHECK(e.to_first_audio_ms == 400.25);
  CHECK_FALSE(e.to_heard_ms);
  CHECK(e.bridge_ms == 0.25);
}
