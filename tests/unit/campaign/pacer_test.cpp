#include <catch2/catch.hpp>

#include "campaign/pacer.hpp"

using namespace mb::campaign;
using namespace std::chrono_literals;
using actions = std::vector<pacer_action>;

namespace {

const clock::time_point t0{std::chrono::seconds(1000)};

pacer_action place(std::size_t row) { return pace::place_call{row}; }
pacer_action arm(clock::duration after_t0) { return pace::arm_timer{t0 + after_t0}; }

}  // namespace

TEST_CASE("pacer: calls are spaced by 1/calls_per_second, the timer armed for the next", "[campaign]") {
  pacer p(3, {.calls_per_second = 2, .max_active = 10});
  CHECK(p.on_timer(t0, true) == actions{place(0), arm(500ms)});
  // An early wake (another event) places nothing and keeps the armed timer.
  CHECK(p.on_timer(t0 + 200ms, true) == actions{});
  CHECK(p.on_timer(t0 + 500ms, true) == actions{place(1), arm(1000ms)});
  CHECK(p.on_timer(t0 + 1000ms, true) == actions{place(2)});  // the last row: nothing more to time
  CHECK(p.state() == campaign_state::running);
  CHECK(p.active() == 3);
}

TEST_CASE("pacer: a fractional rate spaces calls by more than a second", "[campaign]") {
  pacer p(2, {.calls_per_second = 0.4, .max_active = 10});
  CHECK(p.on_timer(t0, true) == actions{place(0), arm(2500ms)});
  CHECK(p.on_timer(t0 + 2499ms, true) == actions{});
  CHECK(p.on_timer(t0 + 2500ms, true) == actions{place(1)});
}

TEST_CASE("pacer: max_active holds dialling until a final status frees a place", "[campaign]") {
  pacer p(3, {.calls_per_second = 10, .max_active = 2});
  CHECK(p.on_timer(t0, true) == actions{place(0), arm(100ms)});
  CHECK(p.on_timer(t0 + 100ms, true) == actions{place(1)});  // full: no timer, a status wakes it
  CHECK(p.on_timer(t0 + 200ms, true) == actions{});
  CHECK(p.on_status(0, call_status::ringing, t0 + 300ms, true) == actions{});
  CHECK(p.on_status(0, call_status::in_progress, t0 + 400ms, true) == actions{});
  CHECK(p.active() == 2);
  CHECK(p.on_status(1, call_status::busy, t0 + 500ms, true) == actions{place(2)});
  CHECK(p.active() == 2);
  CHECK(p.on_status(0, call_status::completed, t0 + 600ms, true) == actions{});
  CHECK(p.on_status(2, call_status::no_answer, t0 + 700ms, true) == actions{});
  CHECK(p.state() == campaign_state::done);
  CHECK(p.status(0) == call_status::completed);
  CHECK(p.status(1) == call_status::busy);
  CHECK(p.status(2) == call_status::no_answer);
}

TEST_CASE("pacer: without room in the server it looks again later", "[campaign]") {
  pacer p(1, {.calls_per_second = 1, .max_active = 5, .room_retry = 500ms});
  CHECK(p.on_timer(t0, false) == actions{arm(500ms)});
  CHECK(p.on_timer(t0 + 500ms, false) == actions{arm(1000ms)});
  CHECK(p.on_timer(t0 + 1000ms, true) == actions{place(0)});
}

TEST_CASE("pacer: statuses only move forward, a final one is kept, unplaced rows ignore them", "[campaign]") {
  pacer p(2, {.calls_per_second = 1, .max_active = 1});
  CHECK(p.on_timer(t0, true) == actions{place(0)});
  CHECK(p.on_status(1, call_status::completed, t0, true) == actions{});  // row 1 was never placed
  CHECK(p.status(1) == call_status::pending);
  CHECK(p.on_status(0, call_status::in_progress, t0 + 100ms, true) == actions{});
  CHECK(p.on_status(0, call_status::ringing, t0 + 200ms, true) == actions{});  // late, out of order
  CHECK(p.status(0) == call_status::in_progress);
  // Freed, but the interval has not passed: the timer, not a call.
  CHECK(p.on_status(0, call_status::completed, t0 + 300ms, true) == actions{arm(1s)});
  CHECK(p.on_status(0, call_status::failed, t0 + 400ms, true) == actions{});
  CHECK(p.status(0) == call_status::completed);
  CHECK(p.active() == 0);
}

TEST_CASE("pacer: a failed placement frees the place and the row is failed", "[campaign]") {
  pacer p(2, {.calls_per_second = 100, .max_active = 1});
  CHECK(p.on_timer(t0, true) == actions{place(0)});
  CHECK(p.on_place_failed(0, t0 + 50ms, true) == actions{place(1)});
  CHECK(p.status(0) == call_status::failed);
  CHECK(p.active() == 1);
}

TEST_CASE("pacer: cancel stops dialling, placed calls finish, pending rows become canceled", "[campaign]") {
  pacer p(3, {.calls_per_second = 1, .max_active = 5});
  CHECK(p.on_timer(t0, true) == actions{place(0), arm(1s)});
  p.cancel();
  CHECK(p.state() == campaign_state::cancelled);
  CHECK(p.on_timer(t0 + 1s, true) == actions{});
  CHECK(p.status(1) == call_status::canceled);
  CHECK(p.status(2) == call_status::canceled);
  CHECK(p.status(0) == call_status::queued);
  CHECK(p.on_status(0, call_status::completed, t0 + 2s, true) == actions{});
  CHECK(p.status(0) == call_status::completed);
  CHECK(p.active() == 0);
}

TEST_CASE("call statuses: Twilio's names, initiated is queued, unknown ones refused", "[campaign]") {
  CHECK(parse_call_status("initiated") == call_status::queued);
  CHECK(parse_call_status("in-progress") == call_status::in_progress);
  CHECK(parse_call_status("no-answer") == call_status::no_answer);
  CHECK(parse_call_status("canceled") == call_status::canceled);
  CHECK_FALSE(parse_call_status("pending"));
  CHECK_FALSE(parse_call_status("answered"));
  CHECK(status_name(call_status::in_progress) == "in-progress");
  CHECK(is_final(call_status::busy));
  CHECK_FALSE(is_final(call_status::ringing));
  CHECK(is_active(call_status::queued));
  CHECK_FALSE(is_active(call_status::pending));
}
