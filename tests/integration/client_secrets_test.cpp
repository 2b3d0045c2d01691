// POST /v1/realtime/client_secrets against the simulated OpenAI: the minted secret and the upstream
// request it took (the profile's session, the server's key as Bearer), the API token, the per-client
// rate limit, the refusals that never reach OpenAI, and OpenAI's failures answered without the key.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "net/http_client.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/run_awaitable.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;
using namespace std::chrono_literals;

namespace {

constexpr const char* api_token = "api-token-for-client-secrets";
constexpr const char* server_key = "test-key";  // the harness's OPENAI_API_KEY
constexpr int ttl_s = 120;
constexpr int per_minute = 3;

using header_list = std::vector<std::pair<std::string, std::string>>;

constexpr const char* profiles = R"({"agents": {
  "web": {"instructions": "Help the visitors of {{company|Acme}}.", "voice": "cedar", "model": "gpt-realtime-mini",
          "tools": [{"name": "lookup_order", "description": "Finds an order.",
                     "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
                     "url": "http://127.0.0.1:9/tools/lookup_order"}]},
  "gem": {"provider": "gemini"}
}})";

struct fixture {
  explicit fixture(simulator::simulator_options upstream = with_key(server_key), int timeout_ms = 0)
      : h{{.simulator = std::move(upstream),
           .tweak =
               [this](config::settings& s, bridge::bridge_context&) {
                 s.agents_file = agents_file;
                 s.api_token = config::secret(api_token);
                 s.client_secret_ttl_s = ttl_s;
                 s.client_secret_per_minute = per_minute;
                 s.trusted_proxies = {*config::cidr::parse("127.0.0.1")};
               },
           .client_secret_timeout_ms = timeout_ms}} {}

  static simulator::simulator_options with_key(std::string key) {
    simulator::simulator_options o;
    o.client_secret_api_key = std::move(key);
    return o;
  }

  net::http_response mint(std::string body, header_list extra = {}, bool authorised = true) {
    if (authorised) extra.emplace_back("Authorization", std::string("Bearer ") + api_token);
    extra.emplace_back("Content-Type", "application/json");
    return test::run_awaitable(net::http_request("POST", "http://127.0.0.1:" + std::to_string(h.port()) +
                                                             "/v1/realtime/client_secrets",
                                                 std::move(extra), std::move(body), nullptr, 10000));
  }

  test::temp_dir dir;
  std::string agents_file = dir.write("agents.json", profiles);
  test::bridge_harness h;
};

boost::json::object json_of(const net::http_response& r) {
  INFO(r.status << " " << r.body << " " << r.failure);
  return boost::json::parse(r.body).as_object();
}

std::string header_of(const net::http_response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("client secrets: a profile's secret is minted with its session and the server's key, which the client "
          "never sees",
          "[integration][client_secrets]") {
  fixture f;
  const auto before = unix_now_s();
  const auto response = f.mint(R"({"agent":"web"})");
  REQUIRE(response.status == 200);
  const auto answer = json_of(response);
  CHECK(std::string_view(answer.at("value").as_string()).starts_with("ek_sim"));
  CHECK(answer.at("agent") == "web");
  CHECK(answer.at("model") == "gpt-realtime-mini");
  const auto expires_at = answer.at("expires_at").as_int64();
  CHECK(expires_at >= before + ttl_s);
  CHECK(expires_at <= unix_now_s() + ttl_s);
  CHECK(answer.size() == 4);  // value, expires_at, agent, model: nothing else of the upstream answer
  CHECK(response.body.find(server_key) == std::string::npos);

  const auto requests = f.h.simulator().client_secret_requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].key_matched);  // the server's OPENAI_API_KEY was the Bearer
  CHECK(answer.at("value").as_string() == requests[0].value);
  const auto sent = boost::json::parse(requests[0].body).as_object();
  CHECK(sent.at("expires_after") == boost::json::parse(R"({"anchor":"created_at","seconds":120})"));
  const auto& session = sent.at("session").as_object();
  CHECK(session.at("type") == "realtime");
  CHECK(session.at("model") == "gpt-realtime-mini");
  CHECK(session.at("instructions") == "Help the visitors of Acme.");
  CHECK(session.at("audio").at("output").at("voice") == "cedar");
  CHECK_FALSE(session.at("audio").at("output").as_object().contains("format"));  // the browser's transport decides
  const auto& tools = session.at("tools").as_array();
  CHECK(std::any_of(tools.begin(), tools.end(), [](const auto& t) { return t.at("name") == "lookup_order"; }));

  // No body: the default profile.
  const auto default_answer = json_of(f.mint(""));
  CHECK(default_answer.at("agent") == "default");
  CHECK(f.h.simulator().client_secret_requests().size() == 2);
}

TEST_CASE("client secrets: the API token is required before anything reaches OpenAI", "[integration][client_secrets]") {
  fixture f;
  CHECK(f.mint(R"({"agent":"web"})", {}, false).status == 401);
  CHECK(f.mint(R"({"agent":"web"})", {{"Authorization", "Bearer wrong-token"}}, false).status == 401);
  CHECK(f.h.simulator().client_secret_requests().empty());
  const auto wrong_method = test::run_awaitable(
      net::http_request("GET", "http://127.0.0.1:" + std::to_string(f.h.port()) + "/v1/realtime/client_secrets",
                        {{"Authorization", std::string("Bearer ") + api_token}}, "", nullptr, 10000));
  CHECK(wrong_method.status == 405);
}

TEST_CASE("client secrets: over CLIENT_SECRET_PER_MINUTE a client gets 429 with Retry-After, another client does "
          "not",
          "[integration][client_secrets]") {
  fixture f;
  for (int i = 0; i < per_minute; ++i) REQUIRE(f.mint("{}").status == 200);
  const auto refused = f.mint("{}");
  CHECK(refused.status == 429);
  const auto retry_after = std::stoi(header_of(refused, "Retry-After"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 60 / per_minute);
  CHECK(f.h.simulator().client_secret_requests().size() == per_minute);  // the refused one never left
  // Another client behind the trusted proxy (127.0.0.1) has its own allowance.
  CHECK(f.mint("{}", {{"X-Forwarded-For", "198.51.100.7"}}).status == 200);
  CHECK(f.mint("{}", {{"X-Forwarded-For", "10.9.9.9, 203.0.113.5"}}).status == 200);
  CHECK(f.mint("{}").status == 429);
  CHECK(f.h.simulator().client_secret_requests().size() == per_minute + 2);
}

TEST_CASE("client secrets: an unknown agent is 404, a non-OpenAI-Realtime profile and a bad body 400, and none "
          "reaches OpenAI",
          "[integration][client_secrets]") {
  fixture f;
  // Each from its own client (behind the trusted proxy): refusals count against the rate too.
  int client = 0;
  const auto mint = [&](std::string body) {
    return f.mint(std::move(body), {{"X-Forwarded-For", "198.51.100." + std::to_string(++client)}});
  };
  CHECK(mint(R"({"agent":"nobody"})").status == 404);
  CHECK(mint(R"({"agent":"../etc"})").status == 404);
  const auto gemini = mint(R"({"agent":"gem"})");
  CHECK(gemini.status == 400);
  CHECK(json_of(gemini).at("error").as_string().find("openai-realtime") != std::string::npos);
  CHECK(mint(R"({"agent":)").status == 400);
  CHECK(mint(R"(["web"])").status == 400);
  CHECK(mint(R"({"agent":"web","session":{}})").status == 400);
  const auto too_large = mint(R"({"agent":"web"})" + std::string(5000, ' '));
  CHECK(too_large.status == 400);
  CHECK(f.h.simulator().client_secret_requests().empty());
}

TEST_CASE("client secrets: OpenAI's refusal is answered 502 with an excerpt that never holds the key",
          "[integration][client_secrets]") {
  fixture f(fixture::with_key("sk-some-other-key"));  // the simulator refuses the server's key, quoting it
  const auto response = f.mint(R"({"agent":"web"})");
  CHECK(response.status == 502);
  const auto error = std::string(json_of(response).at("error").as_string());
  CHECK(error.find("401") != std::string::npos);
  CHECK(error.find("invalid_api_key") != std::string::npos);
  CHECK(error.find(server_key) == std::string::npos);
  CHECK(response.body.find(server_key) == std::string::npos);
  REQUIRE(f.h.simulator().client_secret_requests().size() == 1);  // a 401 is not tried again
  CHECK(f.h.logs().wait_for("client secrets: agent 'web' for 127.0.0.1: OpenAI failed: HTTP 401"));
  for (const auto& line : f.h.logs().lines()) CHECK(line.find(server_key) == std::string::npos);
}

TEST_CASE("client secrets: OpenAI's server error is tried once more, then 502, no answer in time is 504",
          "[integration][client_secrets]") {
  SECTION("a 503 twice") {
    auto upstream = fixture::with_key(server_key);
    upstream.client_secret_failure_status = 503;
    fixture f(upstream);
    CHECK(f.mint("{}").status == 502);
    CHECK(f.h.simulator().client_secret_requests().size() == 2);
  }
  SECTION("an answer slower than the timeout") {
    auto upstream = fixture::with_key(server_key);
    upstream.client_secret_delay_ms = 3000;
    fixture f(upstream, 300);
    const auto response = f.mint("{}");
    CHECK(response.status == 504);
    CHECK(json_of(response).at("error").as_string().find("300 ms") != std::string::npos);
    CHECK(f.h.simulator().client_secret_requests().size() == 1);
  }
}
