// The simulator's tool webhook endpoint (POST /tools/<name> on its WebSocket port) over real
// loopback HTTP: signature checks, the scripted replies and the request records tests wait on.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>

#include "net/http_client.hpp"
#include "protocol/webhook_signature.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tests/integration/support/sim_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace sim = mb::simulator;
using mb::net::awaitable;
using mb::test::run_client;
using mb::test::running_simulator;

constexpr std::string_view secret = "whsec_test_secret";
constexpr std::string_view request_body =
    R"({"call_sid":"CA1","agent":"default","tool":"lookup_order","tool_call_id":"call_1","arguments":{"order_id":"A-17"},"parameters":{}})";

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// POSTs `body` to `url` with this signature header ("" for none) and returns the response.
mb::net::http_response post(const std::string& url, std::string body, std::string signature,
                            std::chrono::milliseconds timeout = 5s) {
  mb::net::http_response response;
  run_client([&]() -> awaitable<void> {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
    if (!signature.empty()) headers.emplace_back(std::string(mb::protocol::webhook_signature_header), signature);
    response = co_await mb::net::http_request("POST", url, std::move(headers), body, nullptr,
                                              static_cast<int>(timeout.count()));
  }, timeout + 5s);
  return response;
}

sim::simulator_options with_secret() {
  sim::simulator_options options;
  options.tool_webhook_secret = secret;
  return options;
}

}  // namespace

TEST_CASE("tool webhook sim: a signed request gets the echo and is recorded as valid", "[sim][tool_webhook]") {
  running_simulator s(with_secret());
  const std::string body(request_body);
  const auto response = post(s.simulator.tool_url("lookup_order"), body, mb::protocol::sign_webhook(secret, now_unix(), body));
  REQUIRE(response.status == 200);
  const auto answer = json::parse(response.body);
  CHECK(answer.at("ok").as_bool());
  CHECK(answer.at("tool").as_string() == "lookup_order");
  CHECK(answer.at("arguments").at("order_id").as_string() == "A-17");

  REQUIRE(s.simulator.wait_for_tool_requests([](const auto& r) { return r.size() == 1; }, 5s));
  const auto record = s.simulator.tool_requests().at(0);
  CHECK(record.tool == "lookup_order");
  CHECK(record.body == body);
  REQUIRE(record.signature_check);
  CHECK(*record.signature_check == mb::protocol::webhook_check::valid);
  CHECK(record.status == 200);
}

TEST_CASE("tool webhook sim: a bad, stale or missing signature gets 401", "[sim][tool_webhook]") {
  running_simulator s(with_secret());
  const std::string body(request_body);
  const std::string url = s.simulator.tool_url("lookup_order");
  CHECK(post(url, body, mb::protocol::sign_webhook("other secret", now_unix(), body)).status == 401);
  CHECK(post(url, body, mb::protocol::sign_webhook(secret, now_unix() - 3600, body)).status == 401);
  CHECK(post(url, body, "").status == 401);
  CHECK(post(url, body + " ", mb::protocol::sign_webhook(secret, now_unix(), body)).status == 401);
  const auto records = s.simulator.tool_requests();
  REQUIRE(records.size() == 4);
  CHECK(*records[0].signature_check == mb::protocol::webhook_check::bad_signature);
  CHECK(*records[1].signature_check == mb::protocol::webhook_check::stale);
  CHECK(*records[2].signature_check == mb::protocol::webhook_check::malformed);
  CHECK(*records[3].signature_check == mb::protocol::webhook_check::bad_signature);
  for (const auto& r : records) CHECK(r.status == 401);
}

TEST_CASE("tool webhook sim: without a secret nothing is checked", "[sim][tool_webhook]") {
  running_simulator s;
  CHECK(post(s.simulator.tool_url("lookup_order"), std::string(request_body), "").status == 200);
  const auto records = s.simulator.tool_requests();
  REQUIRE(records.size() == 1);
  CHECK_FALSE(records[0].signature_check);
}

TEST_CASE("tool webhook sim: each scripted reply", "[sim][tool_webhook]") {
  sim::simulator_options options;
  options.tool_replies.emplace("fixed", *sim::parse_tool_reply(R"(json:{"status":"shipped"})"));
  options.tool_replies.emplace("broken", *sim::parse_tool_reply("status:500"));
  options.tool_replies.emplace("garbled", *sim::parse_tool_reply("invalid"));
  options.tool_replies.emplace("huge", *sim::parse_tool_reply("oversize"));
  running_simulator s(options);
  const std::string body(request_body);

  const auto fixed = post(s.simulator.tool_url("fixed"), body, "");
  CHECK(fixed.status == 200);
  CHECK(fixed.body == R"({"status":"shipped"})");

  const auto broken = post(s.simulator.tool_url("broken"), body, "");
  CHECK(broken.status == 500);

  const auto garbled = post(s.simulator.tool_url("garbled"), body, "");
  CHECK(garbled.status == 200);
  json::error_code ec;
  (void)json::parse(garbled.body, ec);
  CHECK(ec);

  const auto huge = post(s.simulator.tool_url("huge"), body, "");
  CHECK(huge.status == 200);
  CHECK(huge.body.size() > 64 * 1024);

  s.simulator.set_tool_reply("fixed", *sim::parse_tool_reply("status:503"));
  CHECK(post(s.simulator.tool_url("fixed"), body, "").status == 503);
}

TEST_CASE("tool webhook sim: a delayed reply is recorded on arrival and answered after the delay",
          "[sim][tool_webhook]") {
  sim::simulator_options options;
  options.tool_replies.emplace("slow", *sim::parse_tool_reply("delay:400"));
  running_simulator s(options);
  const auto started = std::chrono::steady_clock::now();
  const auto response = post(s.simulator.tool_url("slow"), std::string(request_body), "");
  CHECK(std::chrono::steady_clock::now() - started >= 400ms);
  CHECK(response.status == 200);
  CHECK(json::parse(response.body).at("tool").as_string() == "slow");

  // A client that gives up first sees no answer, and the request is still recorded.
  const auto gave_up = post(s.simulator.tool_url("slow"), std::string(request_body), "", 100ms);
  CHECK(gave_up.status == 0);
  CHECK(s.simulator.wait_for_tool_requests([](const auto& r) { return r.size() == 2; }, 5s));
}

TEST_CASE("tool webhook sim: other paths, methods and oversized requests are refused", "[sim][tool_webhook]") {
  running_simulator s;
  const std::string base = s.simulator.endpoint();
  CHECK(post(base + "/tools/", "{}", "").status == 404);
  CHECK(post(base + "/v1/realtime", "{}", "").status == 404);
  CHECK(post(s.simulator.tool_url("x"), std::string(mb::net::max_plain_body_bytes + 1, 'a'), "").status == 413);
  mb::net::http_response get;
  run_client([&]() -> awaitable<void> {
    get = co_await mb::net::http_request("GET", s.simulator.tool_url("x"), {}, "", nullptr, 5000);
  });
  CHECK(get.status == 405);
  CHECK(s.simulator.tool_requests().empty());
}
