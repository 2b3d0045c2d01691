// Tool calls and results in the stored history: kept as their events, shown by GET /v1/calls/{sid} in
// order, erased with the call.

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;

TEST_CASE("a call's tool calls and results are stored and shown with the call", "[integration][history][tool_calls]") {
  test::bridge_harness h({.listeners = true});
  REQUIRE(h.history() != nullptr);
  const std::string sid = test::test_call_sid(61);
  const call::event_context context{sid, "MZ1", "+15550000001", "+15005550001", 1765000000000};
  auto& store = *h.history();
  REQUIRE(store.record(context, call::call_started{"MZ1", {}, "sales"}));
  auto at = context;
  at.unix_ms += 100;
  REQUIRE(store.record(at, call::tool_call{"call_1", "lookup_order", R"({"order_id":"42"})"}));
  at.unix_ms += 300;
  REQUIRE(store.record(at, call::tool_result{"call_1", "lookup_order", true, R"({"status":"shipped"})", {}, 300}));
  at.unix_ms += 100;
  REQUIRE(store.record(at, call::tool_result{"call_2", "lookup_order", false, "", "the webhook answered HTTP 500", 90}));
  // Deltas are for live listeners only.
  REQUIRE(store.record(at, call::transcript_delta{call::role::caller, "item_1", "hel"}));

  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  const auto response = test::http("GET", base + "/v1/calls/" + sid);
  INFO(response.failure << " " << response.body);
  REQUIRE(response.status == 200);
  const auto detail = boost::json::parse(response.body).as_object();
  const auto& events = detail.at("events").as_array();
  REQUIRE(events.size() == 3);
  CHECK(events[0] == boost::json::parse(R"({"type":"tool.call","time":"2025-12-06T05:46:40.100Z",
      "tool_call_id":"call_1","name":"lookup_order","arguments":"{\"order_id\":\"42\"}"})"));
  CHECK(events[1] == boost::json::parse(R"({"type":"tool.result","time":"2025-12-06T05:46:40.400Z",
      "tool_call_id":"call_1","name":"lookup_order","ok":true,"output":"{\"status\":\"shipped\"}","latency_ms":300})"));
  CHECK(events[2].at("ok") == false);
  CHECK(events[2].at("error") == "the webhook answered HTTP 500");

  CHECK(test::http("DELETE", base + "/v1/calls/" + sid).status == 204);
  store.record(context, call::call_started{"MZ1", {}, "sales"});  // the same SID again: nothing of the old call
  const auto again = boost::json::parse(test::http("GET", base + "/v1/calls/" + sid).body).as_object();
  CHECK(again.at("events").as_array().empty());
}
