#include "protocol/client_secret.hpp"

#include <string>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace proto = mb::protocol;

namespace {

std::string problem_of(std::string_view body) {
  const auto parsed = proto::parse_client_secret_request(body);
  const auto* problem = std::get_if<std::string>(&parsed);
  return problem ? *problem : std::string();
}

std::string agent_of(std::string_view body) {
  const auto parsed = proto::parse_client_secret_request(body);
  REQUIRE(std::holds_alternative<proto::client_secret_request>(parsed));
  return std::get<proto::client_secret_request>(parsed).agent;
}

}  // namespace

TEST_CASE("client secret request: agent is optional, anything else is refused", "[protocol][client_secret]") {
  CHECK(agent_of("") == "");
  CHECK(agent_of("  ") == "");
  CHECK(agent_of("{}") == "");
  CHECK(agent_of(R"({"agent":null})") == "");
  CHECK(agent_of(R"({"agent":"sales"})") == "sales");
  CHECK(problem_of("[]").find("JSON object") != std::string::npos);
  CHECK(problem_of(R"({"agent":)").find("JSON object") != std::string::npos);
  CHECK(problem_of("{\"agent\":\"\xff\"}").find("JSON object") != std::string::npos);  // not UTF-8
  CHECK(problem_of(R"({"agent":7})").find("must be a string") != std::string::npos);
  CHECK(problem_of(R"({"agent":"a","model":"gpt-realtime"})").find("only \"agent\"") != std::string::npos);
  CHECK(problem_of(R"({"agent":")" + std::string(65, 'a') + R"("})").find("at most 64") != std::string::npos);
  const std::string big = R"({"agent":"a")" + std::string(proto::max_client_secret_request_bytes, ' ') + "}";
  CHECK(problem_of(big).find("at most 4096 bytes") != std::string::npos);
}

TEST_CASE("client secret upstream body: the expiry and the call's session without an audio format",
          "[protocol][client_secret]") {
  proto::session_config session;
  session.instructions = "Help the visitor.";
  session.voice = "cedar";
  session.tools.push_back({"lookup_order", "Find an order", R"({"type":"object","properties":{}})"});
  const auto body = boost::json::parse(proto::client_secret_upstream_body(session, "gpt-realtime-mini", 600)).as_object();
  CHECK(body.at("expires_after") == boost::json::parse(R"({"anchor":"created_at","seconds":600})"));
  const auto& s = body.at("session").as_object();
  CHECK(s.at("type") == "realtime");
  CHECK(s.at("model") == "gpt-realtime-mini");
  CHECK(s.at("instructions") == "Help the visitor.");
  CHECK(s.at("audio").at("output").at("voice") == "cedar");
  CHECK_FALSE(s.at("audio").at("input").as_object().contains("format"));
  CHECK_FALSE(s.at("audio").at("output").as_object().contains("format"));
  CHECK(s.at("tools").at(0).at("name") == "lookup_order");
  CHECK(s.at("tool_choice") == "auto");
}

TEST_CASE("client secret answer: value and expiry are required, the model is read when named",
          "[protocol][client_secret]") {
  const auto secret = proto::parse_client_secret(
      R"({"value":"ek_abc123","expires_at":1767225600,"session":{"type":"realtime","model":"gpt-realtime"}})");
  REQUIRE(secret);
  CHECK(secret->value == "ek_abc123");
  CHECK(secret->expires_at == 1767225600);
  CHECK(secret->model == "gpt-realtime");
  CHECK(proto::parse_client_secret(R"({"value":"ek_1","expires_at":5})")->model.empty());
  CHECK_FALSE(proto::parse_client_secret("not json"));
  CHECK_FALSE(proto::parse_client_secret(R"({"expires_at":5})"));
  CHECK_FALSE(proto::parse_client_secret(R"({"value":"","expires_at":5})"));
  CHECK_FALSE(proto::parse_client_secret(R"({"value":"ek 1","expires_at":5})"));
  CHECK_FALSE(proto::parse_client_secret(R"({"value":"ek_1","expires_at":"5"})"));
  CHECK_FALSE(proto::parse_client_secret(R"({"value":"ek_1","expires_at":0})"));
  CHECK_FALSE(proto::parse_client_secret(R"({"value":")" + std::string(1025, 'a') + R"(","expires_at":5})"));
}

TEST_CASE("client secret failures: keys are masked wherever they appear", "[protocol][client_secret]") {
  CHECK(proto::without_credentials("Incorrect API key provided: test-key-123.", "test-key-123") ==
        "Incorrect API key provided: ***.");
  CHECK(proto::without_credentials("key sk-proj-****abcd is invalid", "") == "key *** is invalid");
  CHECK(proto::without_credentials("(sk-live) and ask-me", "") == "(***) and ask-me");
  CHECK(proto::without_credentials("nothing to hide", "secret") == "nothing to hide");
}

TEST_CASE("client address: the entry a trusted proxy added to X-Forwarded-For", "[protocol][client_secret]") {
  CHECK(proto::last_forwarded_address("203.0.113.9") == "203.0.113.9");
  CHECK(proto::last_forwarded_address("10.1.1.1, 203.0.113.9 ") == "203.0.113.9");
  CHECK(proto::last_forwarded_address("198.51.100.1,2001:db8::7") == "2001:db8::7");
  CHECK_FALSE(proto::last_forwarded_address(""));
  CHECK_FALSE(proto::last_forwarded_address("203.0.113.9, "));
  CHECK_FALSE(proto::last_forwarded_address("unknown"));
  CHECK_FALSE(proto::last_forwarded_address("203.0.113.9\r\nX: y"));
  CHECK_FALSE(proto::last_forwarded_address(std::string(46, '1')));
}

TEST_CASE("client secret retry: once, for failures before OpenAI saw the request, 429 and 5xx",
          "[protocol][client_secret]") {
  const auto decide = [](int status, bool sent, int attempts, int retry_after_ms = 0) {
    return proto::decide_client_secret_retry({status, sent, "", status ? "" : "connect: refused", retry_after_ms},
                                             attempts);
  };
  CHECK(decide(0, false, 1).retry);
  CHECK(decide(0, false, 1).delay_ms == 200);
  CHECK_FALSE(decide(0, true, 1).retry);  // a timeout or reset after sending: not again
  CHECK(decide(503, true, 1).retry);
  CHECK(decide(429, true, 1, 800).delay_ms == 800);
  CHECK(decide(429, true, 1, 30000).delay_ms == 1000);  // Retry-After capped
  CHECK_FALSE(decide(401, true, 1).retry);
  CHECK_FALSE(decide(400, true, 1).retry);
  CHECK_FALSE(decide(200, true, 1).retry);
  CHECK_FALSE(decide(503, true, 2).retry);  // never more than once
}
