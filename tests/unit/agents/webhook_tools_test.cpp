#include "agents/agent_profile.hpp"
#include "agents/webhook_tools.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

using namespace mb::agents;

namespace {

agent_profile base_profile() {
  agent_profile p;
  p.name = "default";
  return p;
}

std::string with_tools(std::string_view tools) {
  return R"({"agents": {"sales": {"tools": )" + std::string(tools) + "}}}";
}

agent_profile sales(std::string_view tools) {
  std::string error;
  auto profiles = parse_profiles(with_tools(tools), base_profile(), error);
  INFO(error);
  REQUIRE(profiles);
  REQUIRE(profiles->size() == 2);
  return profiles->back();
}

std::string tools_error(std::string_view tools) {
  std::string error;
  CHECK_FALSE(parse_profiles(with_tools(tools), base_profile(), error));
  return error;
}

}  // namespace

TEST_CASE("a profile's tools become webhook tools", "[agents][tool_calls]") {
  const auto p = sales(R"([
    {"name": "lookup_order", "description": "Finds an order.",
     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
     "url": "https://tools.example.com/orders", "timeout_ms": 3000, "keep_talking": false},
    {"name": "ping", "url": "http://127.0.0.1:8080/tools/ping"}])");
  REQUIRE(p.tools.tools.size() == 2);
  const auto& lookup = p.tools.tools[0];
  CHECK(lookup.declaration.name == "lookup_order");
  CHECK(lookup.declaration.description == "Finds an order.");
  CHECK(boost::json::parse(lookup.declaration.parameters_json) ==
        boost::json::parse(R"({"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]})"));
  CHECK(lookup.url == "https://tools.example.com/orders");
  CHECK(lookup.timeout_ms == 3000);
  CHECK_FALSE(lookup.keep_talking);
  const auto& ping = p.tools.tools[1];
  CHECK(ping.timeout_ms == 5000);
  CHECK(ping.keep_talking);
  CHECK(ping.declaration.parameters_json == R"({"type":"object","properties":{}})");
}

TEST_CASE("webhook tools are declared in a session once each, after what it declares already", "[agents][tool_calls]") {
  const auto p = sales(R"([{"name": "lookup_order", "url": "https://a.example"}, {"name": "ping", "url": "https://b.example"}])");
  mb::protocol::session_config session;
  session.tools.push_back({"end_call", "Hangs up.", "{}"});
  declare_webhook_tools(session, p.tools.tools);
  declare_webhook_tools(session, p.tools.tools);
  REQUIRE(session.tools.size() == 3);
  CHECK(session.tools[0].name == "end_call");
  CHECK(session.tools[1].name == "lookup_order");
  CHECK(session.tools[1].parameters_json == p.tools.tools[0].declaration.parameters_json);
  CHECK(session.tools[2].name == "ping");
}

TEST_CASE("a profile without tools has none of its own", "[agents][tool_calls]") {
  std::string error;
  auto profiles = parse_profiles(R"({"agents": {"sales": {}}})", base_profile(), error);
  REQUIRE(profiles);
  CHECK(profiles->back().tools.tools.empty());
}

TEST_CASE("bad tools are refused naming the field", "[agents][tool_calls]") {
  CHECK(tools_error(R"({"name": "x"})") == "agents.sales.tools: expected an array of objects");
  CHECK(tools_error(R"([1])") == "agents.sales.tools[0]: expected an object");
  CHECK(tools_error(R"([{"url": "https://a.example"}])") == "agents.sales.tools[0].name: required");
  CHECK(tools_error(R"([{"name": "a b", "url": "https://a.example"}])") ==
        "agents.sales.tools[0].name: expected 1-64 letters, digits, '_' or '-'");
  CHECK(tools_error(R"([{"name": ")" + std::string(65, 'a') + R"(", "url": "https://a.example"}])") ==
        "agents.sales.tools[0].name: expected 1-64 letters, digits, '_' or '-'");
  CHECK(tools_error(R"([{"name": "end_call", "url": "https://a.example"}])") ==
        "agents.sales.tools[0].name: 'end_call' is a built-in tool (docs/tools.md)");
  CHECK(tools_error(R"([{"name": "transfer_call", "url": "https://a.example"}])") ==
        "agents.sales.tools[0].name: 'transfer_call' is a built-in tool (docs/tools.md)");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example"}, {"name": "a", "url": "https://b.example"}])") ==
        "agents.sales.tools[1].name: declared twice in this profile");
  CHECK(tools_error(R"([{"name": "a"}])") == "agents.sales.tools[0].url: required");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "parameters": []}])") ==
        "agents.sales.tools[0].parameters: expected an object");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "timeout_ms": 99}])") ==
        "agents.sales.tools[0].timeout_ms: expected a whole number in 100..60000");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "timeout_ms": 60001}])") ==
        "agents.sales.tools[0].timeout_ms: expected a whole number in 100..60000");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "keep_talking": "yes"}])") ==
        "agents.sales.tools[0].keep_talking: expected true or false");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "method": "GET"}])") ==
        "agents.sales.tools[0].method: unknown field");
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "description": ")" + std::string(2001, 'd') +
                    R"("}])") == "agents.sales.tools[0].description: longer than 2000 characters");
  const std::string big_schema = R"({"type":"object","description":")" + std::string(16 * 1024, 's') + R"("})";
  CHECK(tools_error(R"([{"name": "a", "url": "https://a.example", "parameters": )" + big_schema + "}]") ==
        "agents.sales.tools[0].parameters: larger than 16384 bytes");
  std::string many = "[";
  for (int i = 0; i < 33; ++i) many += std::string(i ? "," : "") + R"({"name": "t)" + std::to_string(i) + R"(", "url": "https://a.example"})";
  CHECK(tools_error(many + "]") == "agents.sales.tools: at most 32 entries");
}

TEST_CASE("a tool's webhook is https, or http to a loopback host", "[agents][tool_calls]") {
  CHECK_FALSE(tool_url_problem("https://tools.example.com/orders?x=1"));
  CHECK_FALSE(tool_url_problem("http://127.0.0.1:9000/tools/lookup"));
  CHECK_FALSE(tool_url_problem("http://127.8.0.1/"));
  CHECK_FALSE(tool_url_problem("http://[::1]:9000/"));
  CHECK_FALSE(tool_url_problem("http://localhost:9000/"));
  const std::string not_https = "expected https://, or http:// to a loopback host (127.0.0.1, [::1], localhost)";
  CHECK(tool_url_problem("http://tools.example.com/") == not_https);
  CHECK(tool_url_problem("http://10.0.0.1/") == not_https);
  CHECK(tool_url_problem("http://localhost.evil.example/") == not_https);
  CHECK(tool_url_problem("ftp://tools.example.com/") == not_https);
  CHECK(tool_url_problem("https://user:pw@tools.example.com/") ==
        "credentials do not belong in the URL (the body is signed instead)");
  CHECK(tool_url_problem("tools.example.com/x") == "expected an absolute https:// URL");
  CHECK(tool_url_problem("https:///x") == "expected an absolute https:// URL");
  CHECK(tool_url_problem("https://a.example/" + std::string(2048, 'p')) == "longer than 2048 characters");
  // Via the profile, the field is named.
  CHECK(tools_error(R"([{"name": "a", "url": "http://tools.example.com/"}])") ==
        "agents.sales.tools[0].url: " + not_https);
}

TEST_CASE("a profile may bound its webhook calls in flight, within 1..16", "[agents][tool_calls]") {
  std::string error;
  auto profiles = parse_profiles(R"({"agents": {"sales": {"max_tool_calls_in_flight": 2}, "plain": {}}})",
                                 base_profile(), error);
  INFO(error);
  REQUIRE(profiles);
  REQUIRE(profiles->size() == 3);
  CHECK((*profiles)[1].tools.max_tool_calls_in_flight == 2);
  CHECK((*profiles)[2].tools.max_tool_calls_in_flight == 4);
  for (const auto* bad : {R"({"agents": {"sales": {"max_tool_calls_in_flight": 0}}})",
                          R"({"agents": {"sales": {"max_tool_calls_in_flight": 17}}})"}) {
    CHECK_FALSE(parse_profiles(bad, base_profile(), error));
    CHECK(error == "agents.sales.max_tool_calls_in_flight: expected a whole number in 1..16");
  }
}
