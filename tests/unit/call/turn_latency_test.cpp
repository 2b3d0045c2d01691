#include "call/turn_latency.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace mb::call;
using namespace std::chrono_literals;
using mb::upstream::event_kind;
using time_point = turn_latency::clock::time_point;

// A fake clock: times are ms since t0. Each step feeds one event and checks the duration returned.

namespace {
const time_point t0 = time_point(std::chrono::hours(1));
}  // namespace

TEST_CASE("turn latency: speech stopped, first relayed audio, first mark echo", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_stopped, false, t0 + 1000ms));
  CHECK(turn.on_upstream(event_kind::assistant_audio, false, t0 + 1450ms) == std::optional(450ms));
  // The answer's later chunks, and events of other kinds, are not a first delta.
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_audio, false, t0 + 1500ms));
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_transcript_delta, false, t0 + 1510ms));
  CHECK(turn.on_mark_echo(t0 + 1900ms) == std::optional(900ms));
  // One echo completes the turn: later ones measure nothing.
  CHECK_FALSE(turn.on_mark_echo(t0 + 2100ms));
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_audio, false, t0 + 2200ms));
}

TEST_CASE("turn latency: nothing is measured before the caller's speech stops", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_audio, false, t0));  // a greeting
  CHECK_FALSE(turn.on_mark_echo(t0 + 300ms));
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_started, false, t0 + 1000ms));
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_audio, false, t0 + 1100ms));
  CHECK_FALSE(turn.on_mark_echo(t0 + 1200ms));
}

TEST_CASE("turn latency: a mark echo before the answer's first audio measures nothing", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_stopped, false, t0));
  CHECK_FALSE(turn.on_mark_echo(t0 + 100ms));  // the echo of audio sent before the caller spoke
  CHECK(turn.on_upstream(event_kind::assistant_audio, false, t0 + 600ms) == std::optional(600ms));
  CHECK(turn.on_mark_echo(t0 + 800ms) == std::optional(800ms));
}

TEST_CASE("turn latency: a late delta of a cut answer is not the first audio", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_audio, true, t0 + 200ms));
  CHECK_FALSE(turn.on_mark_echo(t0 + 250ms));
  CHECK(turn.on_upstream(event_kind::assistant_audio, false, t0 + 700ms) == std::optional(700ms));
}

TEST_CASE("turn latency: the caller speaking again restarts the wait", "[call][turn_latency]") {
  turn_latency turn;
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_stopped, false, t0));
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_started, false, t0 + 300ms));
  CHECK_FALSE(turn.on_upstream(event_kind::assistant_audio, false, t0 + 400ms));
  CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_stopped, false, t0 + 2000ms));
  CHECK(turn.on_upstream(event_kind::assistant_audio, false, t0 + 2500ms) == std::optional(500ms));

  SECTION("also between the first audio and its echo") {
    CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_started, false, t0 + 2600ms));
    CHECK_FALSE(turn.on_mark_echo(t0 + 2700ms));
  }
  SECTION("and a new speech-stopped is measured from its own time") {
    CHECK_FALSE(turn.on_upstream(event_kind::caller_speech_stopped, false, t0 + 3000ms));
    CHECK_FALSE(turn.on_mark_echo(t0 + 3100ms));
    CHECK(turn.on_upstream(event_kind::assistant_audio, false, t0 + 3200ms) == std::optional(200ms));
    CHECK(turn.on_mark_echo(t0 + 3500ms) == std::optional(500ms));
  }
}
