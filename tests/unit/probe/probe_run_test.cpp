#include <catch2/catch.hpp>

#include "probe/probe_run.hpp"

using namespace mb::probe;

TEST_CASE("every probe stage and error kind reads back from its name", "[probe]") {
  for (std::size_t i = 0; i < stage_count; ++i) {
    const auto s = static_cast<stage>(i);
    REQUIRE(stage_from_string(to_string(s)) == s);
  }
  CHECK_FALSE(stage_from_string("first-audio").has_value());
  for (const auto e : {error_kind::none, error_kind::connect, error_kind::auth, error_kind::timeout, error_kind::protocol})
    CHECK(error_kind_from_string(to_string(e)) == e);
  CHECK_FALSE(error_kind_from_string("").has_value());
}
