#include "limits/keyed_rate_limiter.hpp"

#include <string>

#include <catch2/catch.hpp>

using mb::limits::keyed_rate_limiter;
using mb::limits::rate;

TEST_CASE("keyed_rate_limiter: each key has its own bucket", "[limits][keyed_rate_limiter]") {
  keyed_rate_limiter limiter(rate{.burst = 3, .refill_interval_ms = 20000}, 16);
  for (int i = 0; i < 3; ++i) CHECK(limiter.take("203.0.113.7", 1000).allowed);
  const auto refused = limiter.take("203.0.113.7", 1000);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_ms == 20000);
  // Another address is unaffected by the first one's exhaustion.
  for (int i = 0; i < 3; ++i) CHECK(limiter.take("198.51.100.1", 1000).allowed);
  CHECK_FALSE(limiter.take("198.51.100.1", 1000).allowed);
  // The first refills at its own pace.
  CHECK(limiter.take("203.0.113.7", 21000).allowed);
  CHECK_FALSE(limiter.take("203.0.113.7", 21000).allowed);
  CHECK(limiter.size() == 2);
}

TEST_CASE("keyed_rate_limiter: the table is bounded, the least recently used key forgotten first",
          "[limits][keyed_rate_limiter]") {
  keyed_rate_limiter limiter(rate{.burst = 1, .refill_interval_ms = 60000}, 3);
  CHECK(limiter.take("a", 0).allowed);
  CHECK(limiter.take("b", 0).allowed);
  CHECK(limiter.take("c", 0).allowed);
  CHECK_FALSE(limiter.take("a", 1).allowed);  // "a" is now the most recently used
  CHECK(limiter.take("d", 2).allowed);        // room made by forgetting "b"
  CHECK(limiter.size() == 3);
  CHECK_FALSE(limiter.take("a", 3).allowed);  // still remembered: still exhausted
  CHECK_FALSE(limiter.take("c", 3).allowed);
  CHECK(limiter.take("b", 4).allowed);        // forgotten: starts with a full bucket
  for (int i = 0; i < 10000; ++i) (void)limiter.take(std::to_string(i), 5);
  CHECK(limiter.size() == 3);
}
