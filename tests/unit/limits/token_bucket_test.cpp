#include "limits/token_bucket.hpp"

#include <catch2/catch.hpp>

using mb::limits::rate;
using mb::limits::token_bucket;

namespace {

// How many of `n` events at `now_ms` the bucket lets through.
int allowed(token_bucket& b, std::int64_t now_ms, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) ok += b.take(now_ms) ? 1 : 0;
  return ok;
}

}  // namespace

TEST_CASE("token_bucket: a burst, then the sustained rate", "[limits][token_bucket]") {
  token_bucket b(rate{.burst = 20, .refill_interval_ms = 100});
  CHECK(allowed(b, 1000, 100) == 20);  // starts full
  CHECK(allowed(b, 1000, 1) == 0);
  CHECK(allowed(b, 1099, 1) == 0);     // 99 ms: 0.99 of a token
  CHECK(allowed(b, 1100, 5) == 1);     // 100 ms at 10/s: one
  CHECK(allowed(b, 2100, 100) == 10);  // a second: ten
  // Over a long flood the rate holds: 10 per second, whatever is offered.
  int total = 0;
  for (std::int64_t t = 2100; t < 12100; t += 7) total += allowed(b, t, 3);
  CHECK(total >= 99);
  CHECK(total <= 101);
}

TEST_CASE("token_bucket: a pause refills up to the burst, not beyond", "[limits][token_bucket]") {
  token_bucket b(rate{.burst = 20, .refill_interval_ms = 100});
  CHECK(allowed(b, 0, 20) == 20);
  CHECK(allowed(b, 3'600'000, 100) == 20);                     // an hour later
  CHECK(allowed(b, std::int64_t{1} << 60, 100) == 20);         // no overflow on a huge gap
}

TEST_CASE("token_bucket: time going backwards refills nothing", "[limits][token_bucket]") {
  token_bucket b(rate{.burst = 2, .refill_interval_ms = 100});
  CHECK(allowed(b, 5000, 3) == 2);
  CHECK(allowed(b, 1000, 3) == 0);
  CHECK(allowed(b, 5100, 3) == 1);  // measured from the latest time seen
}

TEST_CASE("token_bucket: no refill interval allows the burst only", "[limits][token_bucket]") {
  token_bucket b(rate{.burst = 3, .refill_interval_ms = 0});
  CHECK(allowed(b, 0, 10) == 3);
  CHECK(allowed(b, 1'000'000, 10) == 0);
}

TEST_CASE("token_bucket: a full bucket banks no time", "[limits][token_bucket]") {
  token_bucket b(rate{.burst = 2, .refill_interval_ms = 1000});
  CHECK(b.take(0));
  CHECK(b.take(999));  // refilling began at 0, when the bucket stopped being full
  CHECK_FALSE(b.take(999));
  CHECK(b.take(1000));
  CHECK_FALSE(b.take(1999));
}

TEST_CASE("token_bucket: wait_ms says when the next event is allowed, spending nothing", "[limits][token_bucket]") {
  token_bucket b(rate{.burst = 2, .refill_interval_ms = 30000});
  CHECK(b.wait_ms(0) == 0);
  CHECK(allowed(b, 0, 2) == 2);
  CHECK(b.wait_ms(0) == 30000);
  CHECK(b.wait_ms(10000) == 20000);
  CHECK(b.wait_ms(10000) == 20000);  // asking spends nothing
  CHECK(b.wait_ms(30000) == 0);
  CHECK(allowed(b, 29999, 1) == 0);
  CHECK(allowed(b, 30000, 1) == 1);
  token_bucket once(rate{.burst = 1, .refill_interval_ms = 0});
  CHECK(once.take(0));
  CHECK(once.wait_ms(1000000) == -1);  // never refilled
}
