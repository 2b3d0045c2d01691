// A call's per-turn waterfall (turn.latency) through a real call: the simulated caller speaks twice, the
// simulator answers each turn after first_audio_delay_ms, and the turns reach a listener and the history,
// which sums them up.

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using events_t = test::listener_client::events_t;

namespace {

constexpr std::uint32_t first_audio_delay_ms = 250;

double ms(const boost::json::object& event, std::string_view key) { return event.at(key).to_number<double>(); }

// The p50 (nearest rank) and max the history must report for `key` over `turns`.
std::pair<double, double> expected_summary(const events_t& turns, std::string_view key) {
  std::vector<double> values;
  for (const auto& t : turns) values.push_back(ms(t, key));
  std::sort(values.begin(), values.end());
  return {values[(values.size() + 1) / 2 - 1], values.back()};
}

}  // namespace

TEST_CASE("waterfall: two caller turns give two turn.latency events, at a listener and in the history",
          "[integration][waterfall]") {
  mb::simulator::simulator_options sim;
  sim.response_ms = 400;
  sim.speed = 4.0;
  sim.first_audio_delay_ms = first_audio_delay_ms;
  test::bridge_harness h({.simulator = sim, .listeners = true});
  test::listener_client listener({.port = h.port(), .target = "/v1/events"});
  REQUIRE(listener.wait_connected());

  // Each answer (400 ms of audio) is sent, played and echoed well within the caller's silence after it.
  auto options = h.call({{audio_kind::speech, 600},
                         {audio_kind::silence, 2000},
                         {audio_kind::speech, 600},
                         {audio_kind::silence, 2000}});
  options.call_sid = test::test_call_sid(18);
  REQUIRE(h.run({options}).at(0).ok());
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.ended", options.call_sid); }));

  const auto turns = test::of_type(listener.events(), "turn.latency", options.call_sid);
  INFO(boost::json::serialize(boost::json::value_from(turns)));
  REQUIRE(turns.size() == 2);
  for (std::size_t i = 0; i < turns.size(); ++i) {
    const auto& t = turns[i];
    CHECK(t.at("turn").as_int64() == static_cast<std::int64_t>(i + 1));
    CHECK(t.at("stopped_by").as_string() == "provider");
    CHECK_FALSE(t.at("item_id").as_string().empty());
    CHECK(t.at("at").as_int64() > 0);
    REQUIRE(t.at("to_heard_ms").is_number());
    CHECK(ms(t, "to_first_delta_ms") <= ms(t, "to_first_audio_ms"));
    CHECK(ms(t, "to_first_audio_ms") <= ms(t, "to_heard_ms"));
    CHECK(ms(t, "to_first_audio_ms") >= first_audio_delay_ms);
    CHECK(ms(t, "bridge_ms") >= 0);
    CHECK(ms(t, "bridge_ms") < 100);
  }
  CHECK(turns[0].at("item_id") != turns[1].at("item_id"));
  CHECK(turns[0].at("at").as_int64() < turns[1].at("at").as_int64());

  // The history keeps them as listeners got them, and sums them up.
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  const auto r = test::http("GET", base + "/v1/calls/" + options.call_sid);
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto detail = boost::json::parse(r.body).as_object();
  events_t stored;
  for (const auto& e : detail.at("events").as_array())
    if (e.at("type") == "turn.latency") stored.push_back(e.as_object());
  REQUIRE(stored.size() == 2);
  for (std::size_t i = 0; i < stored.size(); ++i) {
    auto live = turns[i];
    live.erase("call_sid");
    CHECK(stored[i] == live);
  }
  const auto& latency = detail.at("latency").as_object();
  CHECK(latency.at("turns").as_int64() == 2);
  for (const auto* key : {"to_first_delta_ms", "to_first_audio_ms", "to_heard_ms", "bridge_ms"}) {
    INFO(key);
    const auto [p50, max] = expected_summary(turns, key);
    CHECK(latency.at(key).at("p50").to_number<double>() == p50);
    CHECK(latency.at(key).at("max").to_number<double>() == max);
  }
}

TEST_CASE("waterfall: a call without caller turns has an empty latency summary", "[integration][waterfall]") {
  test::bridge_harness h({.listeners = true});
  test::listener_client listener({.port = h.port(), .target = "/v1/events"});
  REQUIRE(listener.wait_connected());
  auto options = h.call({{audio_kind::silence, 600}});
  options.call_sid = test::test_call_sid(19);
  REQUIRE(h.run({options}).at(0).ok());
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.ended", options.call_sid); }));
  CHECK_FALSE(test::has_event(listener.events(), "turn.latency", options.call_sid));

  const auto r = test::http("GET", "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/calls/" + options.call_sid);
  REQUIRE(r.status == 200);
  const auto latency = boost::json::parse(r.body).at("latency").as_object();
  CHECK(latency.at("turns").as_int64() == 0);
  for (const auto* key : {"to_first_delta_ms", "to_first_audio_ms", "to_heard_ms", "bridge_ms"}) CHECK(latency.at(key).is_null());
}
