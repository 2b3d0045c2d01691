#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "probe/probe_schedule.hpp"

using namespace mb::probe;
using namespace std::chrono_literals;
using clock_type = probe_schedule::clock;

namespace {

const std::vector<std::string> profiles{"default", "sales", "support"};

std::vector<std::size_t> due_at(probe_schedule& s, clock_type::time_point now) {
  std::vector<std::size_t> out;
  s.take_due(now, out);
  return out;
}

}  // namespace

TEST_CASE("PROBE_AGENTS selects no profile, every profile, or the ones it names", "[probe]") {
  std::string error;
  CHECK(select_probed("", profiles, error)->empty());
  CHECK(select_probed("  ", profiles, error)->empty());
  CHECK(*select_probed("*", profiles, error) == profiles);
  // In the catalogue's order, each once, blanks around names ignored.
  CHECK(*select_probed("support, default ,support", profiles, error) == std::vector<std::string>{"default", "support"});
  CHECK(error.empty());
}

TEST_CASE("PROBE_AGENTS naming an unknown profile or an empty name is refused", "[probe]") {
  std::string error;
  CHECK_FALSE(select_probed("default,billing", profiles, error).has_value());
  CHECK(error == "no agent profile is named 'billing'");
  CHECK_FALSE(select_probed("default,,sales", profiles, error).has_value());
  CHECK(error == "an empty profile name in the list");
  CHECK_FALSE(select_probed("a\x01" "b", profiles, error).has_value());
  CHECK(error.find('\x01') == std::string::npos);
}

TEST_CASE("probe runs start soon after start, staggered, then once per interval", "[probe]") {
  const auto t0 = clock_type::time_point{} + 1h;
  probe_schedule s(3, {.interval = 60s, .first_delay = 2s, .max_stagger = 10s}, t0);
  CHECK(s.next_wakeup() == t0 + 2s);
  CHECK(due_at(s, t0 + 1s).empty());
  CHECK(due_at(s, t0 + 2s) == std::vector<std::size_t>{0});
  // interval / 3 = 20 s is more than max_stagger: 10 s apart.
  CHECK(s.next_wakeup() == t0 + 12s);
  CHECK(due_at(s, t0 + 12s) == std::vector<std::size_t>{1});
  CHECK(due_at(s, t0 + 22s) == std::vector<std::size_t>{2});
  s.finished(0);
  s.finished(1);
  s.finished(2);
  CHECK(s.next_wakeup() == t0 + 62s);
  CHECK(due_at(s, t0 + 62s) == std::vector<std::size_t>{0});
  CHECK(s.skipped() == 0);
}

TEST_CASE("many probed profiles are spread over the interval", "[probe]") {
  const auto t0 = clock_type::time_point{} + 1h;
  probe_schedule s(4, {.interval = 8s, .first_delay = 0s, .max_stagger = 10s}, t0);
  CHECK(due_at(s, t0) == std::vector<std::size_t>{0});
  CHECK(s.next_wakeup() == t0 + 2s);
}

TEST_CASE("a profile whose run is still going skips its turn", "[probe]") {
  const auto t0 = clock_type::time_point{} + 1h;
  probe_schedule s(1, {.interval = 5s, .first_delay = 0s, .max_stagger = 10s}, t0);
  CHECK(due_at(s, t0) == std::vector<std::size_t>{0});
  CHECK(s.running(0));
  CHECK(due_at(s, t0 + 5s).empty());
  CHECK(s.skipped() == 1);
  s.finished(0);
  CHECK_FALSE(s.running(0));
  CHECK(due_at(s, t0 + 9s).empty());
  CHECK(due_at(s, t0 + 10s) == std::vector<std::size_t>{0});
}

TEST_CASE("a late wake-up runs an overdue profile once and keeps its phase", "[probe]") {
  const auto t0 = clock_type::time_point{} + 1h;
  probe_schedule s(1, {.interval = 5s, .first_delay = 1s, .max_stagger = 10s}, t0);
  CHECK(due_at(s, t0 + 33s) == std::vector<std::size_t>{0});
  s.finished(0);
  CHECK(due_at(s, t0 + 33s).empty());
  CHECK(s.next_wakeup() == t0 + 36s);
}

TEST_CASE("a schedule without profiles never wakes", "[probe]") {
  probe_schedule s(0, {}, clock_type::now());
  CHECK(s.next_wakeup() == clock_type::time_point::max());
}
