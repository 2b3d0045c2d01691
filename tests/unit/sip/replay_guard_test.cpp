#include "sip/replay_guard.hpp"

#include <catch2/catch.hpp>

using mb::sip::replay_guard;

TEST_CASE("replay guard: an id is answered once while it is remembered", "[sip]") {
  replay_guard guard(16, 600);
  CHECK(guard.first_time("wh_1", 1000));
  CHECK_FALSE(guard.first_time("wh_1", 1000));
  CHECK_FALSE(guard.first_time("wh_1", 1599));  // 300 s tolerance either way: kept 600 s
  CHECK(guard.first_time("wh_2", 1599));
  CHECK(guard.first_time("wh_1", 1600));  // forgotten once expired: a delivery that old fails its timestamp
  CHECK(guard.size() == 2);
}

TEST_CASE("replay guard: bounded, the oldest forgotten first", "[sip]") {
  replay_guard guard(3, 600);
  for (const auto* id : {"a", "b", "c"}) CHECK(guard.first_time(id, 10));
  CHECK(guard.first_time("d", 11));
  CHECK(guard.size() == 3);
  CHECK(guard.first_time("a", 12));  // evicted
  CHECK_FALSE(guard.first_time("c", 12));
  CHECK_FALSE(guard.first_time("d", 12));
  CHECK(guard.size() == 3);
}

TEST_CASE("replay guard: expired ids free their room before anything is evicted", "[sip]") {
  replay_guard guard(2, 5);
  CHECK(guard.first_time("a", 0));
  CHECK(guard.first_time("b", 3));
  CHECK(guard.first_time("c", 6));  // a expired at 5
  CHECK_FALSE(guard.first_time("b", 6));
  CHECK_FALSE(guard.first_time("c", 7));
}
