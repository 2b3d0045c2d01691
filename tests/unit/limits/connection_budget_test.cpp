#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "limits/connection_budget.hpp"

using namespace mb::limits;

TEST_CASE("the socket budget leaves a spare of descriptors below the open file limit", "[limits]") {
  // Debian's default soft limit with 20 descriptors open at start: 32 spare.
  CHECK(socket_budget(1024, 20) == 1024 - 20 - 32);
  // Large limits keep 1/32 spare.
  CHECK(socket_budget(65536, 40) == 65536 - 40 - 2048);
  // Small limits keep at least half of what is left for sockets.
  CHECK(socket_budget(64, 24) == 20);
  CHECK(socket_budget(24, 24) == 0);
  CHECK(socket_budget(10, 24) == 0);
  // RLIM_INFINITY
  CHECK(socket_budget(std::numeric_limits<std::uint64_t>::max(), 30) > std::numeric_limits<std::uint32_t>::max());
}

TEST_CASE("connections over the budget get health checks only while a reserve slot is free", "[limits]") {
  CHECK(admit(1, 100, 4) == admission::serve);
  CHECK(admit(100, 100, 0) == admission::serve);
  CHECK(admit(101, 100, 4) == admission::health_only);
  CHECK(admit(101, 100, 1) == admission::health_only);
  CHECK(admit(101, 100, 0) == admission::shed);
  CHECK(admit(1, 0, 0) == admission::shed);
}
