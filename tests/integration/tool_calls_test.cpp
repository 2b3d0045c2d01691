// A tool round trip through the real server: the Realtime simulator's model calls a profile's tools,
// mediabridge POSTs each to a webhook (a second simulator's endpoint), signed, and hands the answer back,
// or an error result for a timeout and an error status; each call and result is a call event.

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "protocol/webhook_signature.hpp"
#include "tests/integration/support/call_results.hpp"
#include "tests/integration/support/sim_client.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;
namespace json = boost::json;

namespace {

constexpr std::string_view secret = "whsec-integration-secret";

simulator::simulator_options webhooks() {
  simulator::simulator_options o;
  o.tool_webhook_secret = secret;
  o.tool_replies["slow_lookup"] = {.kind = simulator::tool_reply_kind::echo, .delay = 3000ms};
  o.tool_replies["broken_lookup"] = {.kind = simulator::tool_reply_kind::fixed, .body = R"({"detail":"down"})",
                                     .status = 500};
  return o;
}

simulator::simulator_options model_calling_tools() {
  simulator::simulator_options o;
  o.response_ms = 1000;
  o.speed = 4.0;
  o.tool_call_script = {{1, "lookup_order", R"({"order_id":"42"})"},
                        {2, "slow_lookup", R"({"order_id":"43"})"},
                        {3, "broken_lookup", R"({"order_id":"44"})"}};
  return o;
}

std::string profiles(const test::running_simulator& hooks) {
  auto tool = [&](std::string_view name, int timeout_ms) {
    return R"({"name":")" + std::string(name) + R"(","description":"Finds an order.",)" +
           R"("parameters":{"type":"object","properties":{"order_id":{"type":"string"}}},)" + R"("url":")" +
           hooks.simulator.tool_url(name) + R"(","timeout_ms":)" + std::to_string(timeout_ms) + "}";
  };
  return R"({"agents":{"default":{"tools":[)" + tool("lookup_order", 5000) + "," + tool("slow_lookup", 300) + "," +
         tool("broken_lookup", 5000) + "]}}}";
}

}  // namespace

TEST_CASE("tool calls round trip through a signed webhook, a timeout and an error status become error results",
          "[integration][tool_calls]") {
  test::running_simulator hooks(webhooks());
  const test::temp_dir dir;
  const auto agents_file = dir.write("agents.json", profiles(hooks));
  test::bridge_harness h({.simulator = model_calling_tools(),
                          .tweak = [&](config::settings& s, bridge::bridge_context& b) {
                            s.agents_file = agents_file;
                            b.tool_webhook_secret = secret;
                          }});
  auto options = h.call({{audio_kind::speech, 400}, {audio_kind::silence, 2500}, {audio_kind::speech, 400},
                         {audio_kind::silence, 2500}, {audio_kind::speech, 400}, {audio_kind::silence, 2500}});
  const auto report = h.run({options}).at(0);
  INFO(report.failure);
  REQUIRE(report.ok());  // no tool ends the call
  REQUIRE(h.events().wait_ended(1));
  const std::string call_sid = h.events().events().at(0).call.call_sid;

  // The webhooks got one signed request per call, naming the call, the agent and the arguments.
  REQUIRE(hooks.simulator.wait_for_tool_requests([](const auto& r) { return r.size() == 3; }, 5s));
  const auto requests = hooks.simulator.tool_requests();
  const std::vector<std::string> tools_called{"lookup_order", "slow_lookup", "broken_lookup"};
  for (std::size_t i = 0; i < requests.size(); ++i) {
    INFO(requests[i].body);
    CHECK(requests[i].tool == tools_called[i]);
    REQUIRE(requests[i].signature_check);
    CHECK(*requests[i].signature_check == protocol::webhook_check::valid);
    const auto body = json::parse(requests[i].body).as_object();
    CHECK(body.at("call_sid").as_string() == call_sid);
    CHECK(body.at("agent") == "default");
    CHECK(body.at("tool").as_string() == tools_called[i]);
    CHECK(body.at("arguments") == json::object{{"order_id", std::to_string(42 + i)}});
    for (const auto& [name, value] : body.at("parameters").as_object()) CHECK_FALSE(name.starts_with("mb_"));
  }

  // The model got the echo, and error results for the other two, each under its own call id.
  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 1);
  const auto& session = sessions[0];
  REQUIRE(session.tool_calls.size() == 3);
  REQUIRE(session.tool_results.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(session.tool_results[i].call_id == session.tool_calls[i].call_id);
  CHECK(json::parse(session.tool_results[0].output) ==
        json::parse(R"({"ok":true,"tool":"lookup_order","arguments":{"order_id":"42"}})"));
  CHECK(json::parse(session.tool_results[1].output) ==
        json::parse(R"({"error":"the webhook failed: timed out after 300 ms"})"));
  CHECK(json::parse(session.tool_results[2].output) == json::parse(R"({"error":"the webhook answered HTTP 500"})"));

  // Calls and results are events, with latency; the failures are logged with the call SID.
  const auto calls = test::published<call::tool_call>(h);
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].name == "lookup_order");
  CHECK(json::parse(calls[0].arguments) == json::parse(R"({"order_id":"42"})"));
  const auto results = test::published<call::tool_result>(h);
  REQUIRE(results.size() == 3);
  CHECK(results[0].ok);
  CHECK(results[0].tool_call_id == session.tool_calls[0].call_id);
  CHECK(results[0].latency_ms >= 0);
  CHECK_FALSE(results[1].ok);
  CHECK(results[1].error == "the webhook failed: timed out after 300 ms");
  CHECK(results[1].latency_ms >= 300);
  CHECK_FALSE(results[2].ok);
  CHECK(results[2].error == "the webhook answered HTTP 500");
  CHECK(h.logs().contains("call " + call_sid + ": tool call " + session.tool_calls[2].call_id +
                          " to broken_lookup: the webhook answered HTTP 500"));
}
