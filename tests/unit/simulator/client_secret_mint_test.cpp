#include "simulator/client_secret_mint.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

using mb::simulator::client_secret_rules;
using mb::simulator::mint_client_secret;

TEST_CASE("simulated client secrets: minted with the requested expiry, the session echoed",
          "[simulator][client_secret_mint]") {
  const auto reply = mint_client_secret(
      {"sk-sim"}, "Bearer sk-sim",
      R"({"expires_after":{"anchor":"created_at","seconds":60},"session":{"type":"realtime","model":"gpt-realtime"}})",
      1000, 7, 0xabc);
  REQUIRE(reply.status == 200);
  CHECK(reply.record.key_matched);
  CHECK(reply.record.value == "ek_sim7_0000000000000abc");
  CHECK(reply.record.expires_at == 1060);
  const auto answer = boost::json::parse(reply.body).as_object();
  CHECK(answer.at("value") == "ek_sim7_0000000000000abc");
  CHECK(answer.at("expires_at") == 1060);
  CHECK(answer.at("session").at("model") == "gpt-realtime");
  // Without expires_after: OpenAI's default of 600 s; any bearer when no key is expected.
  CHECK(mint_client_secret({}, "Bearer anything", "{}", 1000, 1, 1).record.expires_at == 1600);
}

TEST_CASE("simulated client secrets: a wrong key, a bad shape and a scripted failure are refused",
          "[simulator][client_secret_mint]") {
  const auto wrong = mint_client_secret({"sk-sim"}, "Bearer test-key", "{}", 0, 1, 1);
  CHECK(wrong.status == 401);
  CHECK_FALSE(wrong.record.key_matched);
  CHECK(wrong.body.find("Incorrect API key provided: test-key.") != std::string::npos);
  CHECK(wrong.record.value.empty());
  CHECK(mint_client_secret({}, "", "{}", 0, 1, 1).status == 401);
  CHECK(mint_client_secret({}, "Bearer k", "[]", 0, 1, 1).status == 400);
  CHECK(mint_client_secret({}, "Bearer k", R"({"expires_after":{"anchor":"now","seconds":60}})", 0, 1, 1).status == 400);
  CHECK(mint_client_secret({}, "Bearer k", R"({"expires_after":{"anchor":"created_at","seconds":5}})", 0, 1, 1).status ==
        400);
  CHECK(mint_client_secret({}, "Bearer k", R"({"session":{"type":"live"}})", 0, 1, 1).status == 400);
  const auto failing = mint_client_secret({"", 503}, "Bearer k", "{}", 0, 1, 1);
  CHECK(failing.status == 503);
  CHECK(failing.record.status == 503);
}
