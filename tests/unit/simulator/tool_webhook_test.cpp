// simulator/tool_webhook.hpp: the scripted replies of the simulator's tool webhook endpoint.

#include <catch2/catch.hpp>

#include <string>

#include <boost/json/parse.hpp>

#include "simulator/tool_webhook.hpp"

namespace {

namespace json = boost::json;
namespace sim = mb::simulator;
using namespace std::chrono_literals;

}  // namespace

TEST_CASE("tool webhook: reply specs parse into kind, status, body and delay", "[simulator][tool_webhook]") {
  const auto echo = sim::parse_tool_reply("echo");
  REQUIRE(echo);
  CHECK(echo->kind == sim::tool_reply_kind::echo);
  CHECK(echo->status == 200);
  CHECK(echo->delay == 0ms);

  const auto fixed = sim::parse_tool_reply(R"(json:{"order":"A1","status":"shipped"})");
  REQUIRE(fixed);
  CHECK(fixed->kind == sim::tool_reply_kind::fixed);
  CHECK(fixed->body == R"({"order":"A1","status":"shipped"})");

  const auto status = sim::parse_tool_reply("status:500");
  REQUIRE(status);
  CHECK(status->status == 500);
  CHECK(json::parse(status->body).at("error").is_string());

  const auto delay = sim::parse_tool_reply("delay:3000");
  REQUIRE(delay);
  CHECK(delay->kind == sim::tool_reply_kind::echo);
  CHECK(delay->delay == 3000ms);

  CHECK(sim::parse_tool_reply("invalid")->kind == sim::tool_reply_kind::invalid_json);
  CHECK(sim::parse_tool_reply("oversize")->kind == sim::tool_reply_kind::oversize);
}

TEST_CASE("tool webhook: unusable reply specs are refused", "[simulator][tool_webhook]") {
  for (const char* spec : {"", "echo:1", "json:{not json", "json:", "status:", "status:99", "status:600",
                           "status:5x", "delay:", "delay:-1", "delay:1s", "oversize:2", "teapot"})
    CHECK_FALSE(sim::parse_tool_reply(spec));
}

TEST_CASE("tool webhook: the tool name comes from /tools/<name> only", "[simulator][tool_webhook]") {
  CHECK(sim::tool_name_of("/tools/lookup_order") == "lookup_order");
  CHECK(sim::tool_name_of("/tools/a-b_9") == "a-b_9");
  CHECK_FALSE(sim::tool_name_of("/tools/"));
  CHECK_FALSE(sim::tool_name_of("/tools/x?y=1"));
  CHECK_FALSE(sim::tool_name_of("/tools/a/b"));
  CHECK_FALSE(sim::tool_name_of("/tool/x"));
  CHECK_FALSE(sim::tool_name_of("/v1/realtime"));
  CHECK_FALSE(sim::tool_name_of("/tools/" + std::string(65, 'a')));
  CHECK(sim::tool_name_of("/tools/" + std::string(64, 'a')));
}

TEST_CASE("tool webhook: echo answers with the tool and the request's arguments", "[simulator][tool_webhook]") {
  const sim::tool_reply echo;
  const auto body = json::parse(sim::tool_reply_body(
      echo, "lookup_order", R"({"call_sid":"CA1","tool":"lookup_order","arguments":{"order_id":"A-17"}})"));
  CHECK(body.at("ok").as_bool());
  CHECK(body.at("tool").as_string() == "lookup_order");
  CHECK(body.at("arguments").at("order_id").as_string() == "A-17");

  const auto without = json::parse(sim::tool_reply_body(echo, "t", "not json"));
  CHECK(without.at("arguments").is_null());
}

TEST_CASE("tool webhook: invalid and oversize bodies are what they say", "[simulator][tool_webhook]") {
  json::error_code ec;
  (void)json::parse(sim::tool_reply_body(*sim::parse_tool_reply("invalid"), "t", "{}"), ec);
  CHECK(ec);

  const std::string big = sim::tool_reply_body(*sim::parse_tool_reply("oversize"), "t", "{}");
  CHECK(big.size() == sim::oversize_reply_bytes);
  CHECK(big.size() > 64 * 1024);
  CHECK(json::parse(big).at("ok").as_bool());
}
