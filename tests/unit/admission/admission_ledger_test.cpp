#include "admission/admission_ledger.hpp"

#include <catch2/catch.hpp>

using namespace mb::admission;

// Clock values are arbitrary ms; a reservation lives `ttl` ms, as the stream token does.
namespace {
constexpr std::int64_t ttl = 120'000;
const std::string call_a = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string call_b = "CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const std::string call_c = "CAcccccccccccccccccccccccccccccccc";
}  // namespace

TEST_CASE("admission: at limit 1 a second webhook finds the slot reserved by the first", "[admission]") {
  admission_ledger ledger({.calls = 1});
  CHECK(ledger.reserve(call_a, 1000 + ttl, 1000) == reserve_result::reserved);
  CHECK(ledger.full(1000));
  CHECK(ledger.reserve(call_b, 1001 + ttl, 1001) == reserve_result::full);
  // The first call's stream converts its reservation; the slot stays taken while it runs.
  CHECK(ledger.admit(call_a, 2000) == admit_result::admitted);
  CHECK(ledger.occupied(2000) == 1);
  CHECK(ledger.reserve(call_b, 2001 + ttl, 2001) == reserve_result::full);
  // A stream nobody reserved for (another instance's token) finds no free slot either.
  CHECK(ledger.admit(call_b, 2002) == admit_result::full);
  ledger.release(call_a);
  CHECK_FALSE(ledger.full(2003));
  CHECK(ledger.reserve(call_b, 2003 + ttl, 2003) == reserve_result::reserved);
}

TEST_CASE("admission: a reservation expires after the token's lifetime and frees its slot", "[admission]") {
  admission_ledger ledger({.calls = 1});
  REQUIRE(ledger.reserve(call_a, 1000 + ttl, 1000) == reserve_result::reserved);
  CHECK(ledger.reserved(1000 + ttl - 1) == 1);
  CHECK(ledger.reserve(call_b, 1000 + ttl - 1 + ttl, 1000 + ttl - 1) == reserve_result::full);
  CHECK(ledger.reserved(1000 + ttl) == 0);
  CHECK_FALSE(ledger.full(1000 + ttl));
  CHECK(ledger.reserve(call_b, 1000 + 2 * ttl, 1000 + ttl) == reserve_result::reserved);
  // The expired reservation's own stream may still come (a slow start): it needs a free slot now.
  CHECK(ledger.admit(call_a, 1000 + ttl + 1) == admit_result::full);
}

TEST_CASE("admission: a replayed webhook or a second stream for a live CallSid is refused", "[admission]") {
  admission_ledger ledger({.calls = 0});
  REQUIRE(ledger.reserve(call_a, 1000 + ttl, 1000) == reserve_result::reserved);
  REQUIRE(ledger.admit(call_a, 1500) == admit_result::admitted);
  CHECK(ledger.is_live(call_a));
  CHECK(ledger.reserve(call_a, 2500 + ttl, 2500) == reserve_result::already_live);
  CHECK(ledger.admit(call_a, 2600) == admit_result::already_live);
  CHECK(ledger.live() == 1);
  // Once the call has ended, the CallSid is free again.
  ledger.release(call_a);
  CHECK_FALSE(ledger.is_live(call_a));
  CHECK(ledger.admit(call_a, 2700) == admit_result::admitted);
}

TEST_CASE("admission: reserving the same CallSid twice holds one slot until the later expiry", "[admission]") {
  admission_ledger ledger({.calls = 2});
  REQUIRE(ledger.reserve(call_a, 1000 + ttl, 1000) == reserve_result::reserved);
  CHECK(ledger.reserve(call_a, 5000 + ttl, 5000) == reserve_result::reserved);
  CHECK(ledger.occupied(5000) == 1);
  CHECK(ledger.reserve(call_b, 5001 + ttl, 5001) == reserve_result::reserved);
  // Full now, but the CallSid that already holds a slot may still be announced again.
  CHECK(ledger.reserve(call_c, 5002 + ttl, 5002) == reserve_result::full);
  CHECK(ledger.reserve(call_a, 5003 + ttl, 5003) == reserve_result::reserved);
  CHECK(ledger.occupied(5003) == 2);
  // The first expiry has passed, the extended one has not.
  CHECK(ledger.reserved(1000 + ttl) == 2);
  CHECK(ledger.reserved(5001 + ttl) == 1);
  // An earlier expiry never shortens a reservation.
  CHECK(ledger.reserve(call_a, 0, 5001 + ttl) == reserve_result::reserved);
  CHECK(ledger.reserved(5002 + ttl) == 1);
  CHECK(ledger.reserved(5003 + ttl) == 0);
}

TEST_CASE("admission: limit 0 admits any number of calls but still one live stream per CallSid", "[admission]") {
  admission_ledger ledger({});
  for (int i = 0; i < 100; ++i) {
    const auto sid = "CA" + std::to_string(i);
    CHECK(ledger.reserve(sid, 1000 + ttl, 1000) == reserve_result::reserved);
    CHECK(ledger.admit(sid, 1001) == admit_result::admitted);
  }
  CHECK(ledger.admit(call_a, 1002) == admit_result::admitted);
  CHECK_FALSE(ledger.full(1002));
  CHECK(ledger.live() == 101);
  CHECK(ledger.admit(call_a, 1003) == admit_result::already_live);
  CHECK(ledger.reserve(call_a, 1003 + ttl, 1003) == reserve_result::already_live);
}

TEST_CASE("admission: releasing a CallSid that is only reserved leaves its reservation", "[admission]") {
  // Only the reservation's own stream (admit) or its expiry ends it: a refused stream that names the
  // CallSid must not free the slot (nor take it).
  admission_ledger ledger({.calls = 1});
  REQUIRE(ledger.reserve(call_a, 1000 + ttl, 1000) == reserve_result::reserved);
  ledger.release(call_a);
  CHECK(ledger.reserved(1001) == 1);
  CHECK(ledger.admit(call_a, 1002) == admit_result::admitted);
}

TEST_CASE("admission: pending streams are bounded separately and hold no call slot", "[admission]") {
  admission_ledger ledger({.calls = 1, .pending = 2});
  CHECK(ledger.open_pending());
  CHECK(ledger.open_pending());
  CHECK_FALSE(ledger.open_pending());
  CHECK(ledger.pending() == 2);
  CHECK_FALSE(ledger.full(1000));
  CHECK(ledger.reserve(call_a, 1000 + ttl, 1000) == reserve_result::reserved);
  ledger.close_pending();
  CHECK(ledger.open_pending());
  ledger.close_pending();
  ledger.close_pending();
  CHECK(ledger.pending() == 0);

  admission_ledger unbounded({});
  for (int i = 0; i < 1000; ++i) CHECK(unbounded.open_pending());
}
