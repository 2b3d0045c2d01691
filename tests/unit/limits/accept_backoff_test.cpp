#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <string>

#include "limits/accept_backoff.hpp"
#include "limits/interval_log.hpp"

using namespace mb::limits;
using namespace std::chrono_literals;

namespace {
// A fake clock: tests move time by hand.
const accept_backoff::time_point t0{std::chrono::hours(1)};
const std::string emfile_text = "Too many open files";
}  // namespace

TEST_CASE("EMFILE and ENFILE are descriptor exhaustion, other errors are not", "[limits]") {
  CHECK(classify_accept_error(EMFILE) == accept_failure::fd_exhausted);
  CHECK(classify_accept_error(ENFILE) == accept_failure::fd_exhausted);
  CHECK(classify_accept_error(ENOBUFS) == accept_failure::other);
  CHECK(classify_accept_error(EPROTO) == accept_failure::other);
  CHECK(label(accept_failure::fd_exhausted) == "fd_exhausted");
  CHECK(label(accept_failure::other) == "other");
}

TEST_CASE("the wait after a failed accept doubles up to the maximum and starts over after a success", "[limits]") {
  accept_backoff backoff({.first_wait = 10ms, .max_wait = 500ms, .log_interval = 5s});
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 8; ++i) {
    backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0);
    waits.push_back(backoff.next_wait());
  }
  CHECK(waits == std::vector<std::chrono::milliseconds>{10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 500ms, 500ms});
  backoff.record_success(t0);
  backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0);
  CHECK(backoff.next_wait() == 10ms);
}

TEST_CASE("accept failures are logged at most once per interval, with their count", "[limits]") {
  accept_backoff backoff({.first_wait = 10ms, .max_wait = 500ms, .log_interval = 5s});
  const auto first = backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0);
  REQUIRE(first);
  CHECK(*first == "accept failed (out of file descriptors): Too many open files; retrying with backoff up to 500 ms, "
                  "at most one line per 5.0 s");

  // A million failures within the interval: no line. (At 500 ms per retry there would be ten; this is
  // the bound if something retried far faster.)
  int lines = 0;
  for (int i = 1; i <= 1'000'000; ++i)
    if (backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0 + 1ms + std::chrono::microseconds(i * 4)))
      ++lines;
  CHECK(lines == 0);
  backoff.record_failure(accept_failure::other, "Protocol error", t0 + 4900ms);

  const auto summary = backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0 + 5s);
  REQUIRE(summary);
  CHECK(*summary == "accept failed 1000002 times in 5.0 s (1000001 out of file descriptors, 1 other errors; last: "
                    "Too many open files); retrying with backoff up to 500 ms, at most one line per 5.0 s");
  CHECK_FALSE(backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0 + 6s));
}

TEST_CASE("failures not yet logged are reported once accepting works again, after the interval", "[limits]") {
  accept_backoff backoff({.first_wait = 10ms, .max_wait = 500ms, .log_interval = 5s});
  REQUIRE(backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0));
  backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0 + 1s);
  backoff.record_failure(accept_failure::fd_exhausted, emfile_text, t0 + 2s);
  CHECK_FALSE(backoff.record_success(t0 + 3s));  // within the interval: held back
  const auto late = backoff.record_success(t0 + 5s);
  REQUIRE(late);
  CHECK(*late == "accept failed 2 times in 4.0 s (2 out of file descriptors, 0 other errors; last: Too many open "
                 "files); accepting again");
  CHECK_FALSE(backoff.record_success(t0 + 20s));  // nothing left to report
}

TEST_CASE("a failure after a quiet interval is logged at once", "[limits]") {
  accept_backoff backoff;
  REQUIRE(backoff.record_failure(accept_failure::other, "Protocol error", t0));
  CHECK_FALSE(backoff.record_success(t0 + 10s));
  const auto again = backoff.record_failure(accept_failure::other, "Protocol error", t0 + 10s);
  REQUIRE(again);
  CHECK(again->rfind("accept failed (other errors): Protocol error;", 0) == 0);
}

TEST_CASE("interval_log reports the first occurrence at once and the rest once per interval", "[limits]") {
  interval_log log(1s);
  const auto first = log.note(t0);
  REQUIRE(first);
  CHECK(first->occurrences == 1);
  CHECK(first->span == 0ms);
  CHECK_FALSE(log.note(t0 + 200ms));
  CHECK_FALSE(log.note(t0 + 900ms));
  CHECK_FALSE(log.flush(t0 + 999ms));
  const auto second = log.note(t0 + 1500ms);
  REQUIRE(second);
  CHECK(second->occurrences == 3);
  CHECK(second->span == 1300ms);
  CHECK_FALSE(log.flush(t0 + 10s));
}
