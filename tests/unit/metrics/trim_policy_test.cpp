#include "metrics/trim_policy.hpp"

#include <catch2/catch.hpp>

using mb::metrics::trim_policy;

namespace {
constexpr std::size_t mib = std::size_t{1} << 20;
constexpr std::size_t threshold = 32 * mib;
}  // namespace

TEST_CASE("trim_policy: a quiet process is never trimmed", "[metrics][trim_policy]") {
  trim_policy p(threshold);
  for (int i = 0; i < 100; ++i)
    CHECK_FALSE(p.should_trim(14 * mib + static_cast<std::size_t>(i % 3) * mib, 3 * mib));
  // Growth that is all live memory (more calls) is no slack.
  for (std::size_t calls = 0; calls < 500; calls += 50)
    CHECK_FALSE(p.should_trim(14 * mib + calls * mib, 3 * mib + calls * mib));
}

TEST_CASE("trim_policy: once after a burst, then not again while nothing changes", "[metrics][trim_policy]") {
  trim_policy p(threshold);
  CHECK_FALSE(p.should_trim(14 * mib, 3 * mib));
  CHECK_FALSE(p.should_trim(180 * mib, 170 * mib));  // during the burst: live
  CHECK(p.should_trim(180 * mib, 3 * mib));          // after it: 166 MiB resident and free
  p.trimmed(33 * mib, 3 * mib);                      // what stayed (pages pinned by live objects) is the new floor
  for (int i = 0; i < 10; ++i) CHECK_FALSE(p.should_trim(33 * mib, 3 * mib));
}

TEST_CASE("trim_policy: a burst between two samples is still seen", "[metrics][trim_policy]") {
  trim_policy p(threshold);
  CHECK_FALSE(p.should_trim(33 * mib, 3 * mib));
  CHECK(p.should_trim(181 * mib, 3 * mib));  // the second burst reused the given-back pages, then freed them
}

TEST_CASE("trim_policy: the floor follows the slack down, so a rise from there counts", "[metrics][trim_policy]") {
  trim_policy p(threshold);
  CHECK_FALSE(p.should_trim(100 * mib, 3 * mib));  // starts with 97 MiB of slack
  CHECK_FALSE(p.should_trim(100 * mib, 90 * mib));  // load moved into it: 10 MiB
  CHECK_FALSE(p.should_trim(100 * mib, 59 * mib));  // 41: 31 MiB above the floor
  CHECK(p.should_trim(100 * mib, 58 * mib));         // 42: 32 above
  p.trimmed(60 * mib, 58 * mib);
  CHECK_FALSE(p.should_trim(60 * mib + threshold - 1, 58 * mib));
  CHECK(p.should_trim(60 * mib + threshold, 58 * mib));
}

TEST_CASE("trim_policy: resident below in use (sampled apart) counts as no slack", "[metrics][trim_policy]") {
  trim_policy p(threshold);
  CHECK_FALSE(p.should_trim(10 * mib, 12 * mib));
  CHECK(p.should_trim(10 * mib + threshold, 0));
}
