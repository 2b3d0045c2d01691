#include "call/latency_summary.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace mb::call;

TEST_CASE("latency summary: p50 by nearest rank and max", "[call][waterfall]") {
  CHECK_FALSE(summarize_span({}));
  const auto one = summarize_span({7.5});
  REQUIRE(one);
  CHECK(one->p50 == 7.5);
  CHECK(one->max == 7.5);
  const auto odd = summarize_span({30, 10, 20});
  REQUIRE(odd);
  CHECK(odd->p50 == 20);
  CHECK(odd->max == 30);
  const auto even = summarize_span({40, 10, 30, 20});  // the 2nd of 4: always a measured value
  REQUIRE(even);
  CHECK(even->p50 == 20);
  CHECK(even->max == 40);
}

TEST_CASE("latency summary: per span over a call's turns, unheard turns left out of to_heard", "[call][waterfall]") {
  CHECK(summarize_turns({}).turns == 0);
  CHECK_FALSE(summarize_turns({}).to_first_delta_ms);
  CHECK_FALSE(summarize_turns({}).bridge_ms);

  const std::vector<turn_waterfall> turns{
      {1, "item_1", true, 0, 300, 450, 700.0, 0.2},
      {2, "item_2", true, 0, 500, 650, std::nullopt, 0.4},
      {3, "item_3", false, 0, 400, 800, 900.0, 0.3},
  };
  const auto s = summarize_turns(turns);
  CHECK(s.turns == 3);
  REQUIRE(s.to_first_delta_ms);
  CHECK(s.to_first_delta_ms->p50 == 400);
  CHECK(s.to_first_delta_ms->max == 500);
  REQUIRE(s.to_first_audio_ms);
  CHECK(s.to_first_audio_ms->p50 == 650);
  CHECK(s.to_first_audio_ms->max == 800);
  REQUIRE(s.to_heard_ms);
  CHECK(s.to_heard_ms->p50 == 700);
  CHECK(s.to_heard_ms->max == 900);
  REQUIRE(s.bridge_ms);
  CHECK(s.bridge_ms->p50 == 0.3);
  CHECK(s.bridge_ms->max == 0.4);

  const std::vector<turn_waterfall> unheard{{1, "item_1", true, 0, 300, 450, std::nullopt, 0.2}};
  CHECK_FALSE(summarize_turns(unheard).to_heard_ms);
  CHECK(summarize_turns(unheard).to_first_audio_ms);
}
