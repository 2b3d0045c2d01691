// telephony::openai_calls against a scripted loopback HTTP server standing in for OpenAI's SIP control
// plane (docs/protocols.md J2): accept's retries of call_id_not_found, the final 4xx, the requests of
// reject, refer and hang-up for both runtimes with their Bearer credential, and a timeout. Waits are
// bounded (the client's own timeouts, ioc.run_for), never sleeps.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "net/asio.hpp"
#include "protocol/openai_sip.hpp"
#include "telephony/openai_calls.hpp"
#include "tests/integration/support/run_awaitable.hpp"
#include "tests/integration/support/scripted_http_server.hpp"

namespace {

namespace asio = mb::net::asio;
namespace net = mb::net;
namespace proto = mb::protocol;
using mb::telephony::openai_call_target;
using mb::telephony::openai_calls;
using mb::telephony::openai_calls_options;
using mb::telephony::rest_result;
using server = mb::test::scripted_http_server;
using namespace std::chrono_literals;

constexpr std::string_view api_key = "sk-test-openai-key-DO-NOT-LEAK";
const std::string not_found_body =
    R"({"error":{"message":"Call not found","type":"invalid_request_error","param":null,"code":"call_id_not_found"}})";

template <class T>
T run(net::awaitable<T> task) {
  return mb::test::run_awaitable(std::move(task));
}

openai_call_target target_of(const server& s, proto::sip_runtime runtime, std::string call_id) {
  return {s.url(), {{"Authorization", "Bearer " + std::string(api_key)}}, runtime, std::move(call_id)};
}

openai_calls client(int retries = 3, int timeout_ms = 2000) {
  return openai_calls({.timeout_ms = timeout_ms, .accept_retries = retries, .base_backoff_ms = 50}, nullptr);
}

void check_no_credential(const rest_result& result) {
  CHECK(result.detail.find(api_key) == std::string::npos);
  CHECK(result.detail.find("Bearer") == std::string::npos);
}

}  // namespace

TEST_CASE("openai calls: accept is retried while the call is not found yet, then succeeds", "[openai_calls]") {
  server s;
  s.script({{.status = 404, .body = not_found_body}, {.status = 404, .body = not_found_body}});
  const auto body = proto::accept_request(proto::sip_runtime::realtime, "rtc_42", {}, "gpt-realtime").body;
  const auto result = run(client().accept(target_of(s, proto::sip_runtime::realtime, "rtc_42"), body));
  CHECK(result.ok);
  CHECK(result.status == 200);
  CHECK(result.attempts == 3);
  CHECK(result.elapsed_ms >= 50 + 100);  // both backoffs (50 ms, then doubled) belong to the accept
  const auto requests = s.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) {
    CHECK(r.method == "POST");
    CHECK(r.target == "/v1/realtime/calls/rtc_42/accept");
    CHECK(r.header("Authorization") == "Bearer " + std::string(api_key));
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.body == body);
  }
}

TEST_CASE("openai calls: accept gives up after its retries, naming the last failure", "[openai_calls]") {
  server s({.status = 404, .body = not_found_body});
  const auto result = run(client(2).accept(target_of(s, proto::sip_runtime::live, "live_1"), "{}"));
  CHECK_FALSE(result.ok);
  CHECK(result.status == 404);
  CHECK(result.attempts == 3);
  CHECK(result.detail.find("call_id_not_found") != std::string::npos);
  CHECK(s.requests().size() == 3);
  check_no_credential(result);
}

TEST_CASE("openai calls: a 400 on accept is final", "[openai_calls]") {
  server s;
  s.script({{.status = 400, .body = R"({"error":{"message":"Unknown parameter","code":"unknown_parameter"}})"}});
  const auto result = run(client().accept(target_of(s, proto::sip_runtime::realtime, "rtc_1"), "{}"));
  CHECK_FALSE(result.ok);
  CHECK(result.status == 400);
  CHECK(result.attempts == 1);
  CHECK(result.detail == "HTTP 400 (unknown_parameter: Unknown parameter)");
  CHECK(s.requests().size() == 1);
  check_no_credential(result);
}

TEST_CASE("openai calls: a 429 with Retry-After is retried after it", "[openai_calls]") {
  server s;
  s.script({{.status = 429, .headers = {{"Retry-After", "1"}}}});
  const auto result = run(client().accept(target_of(s, proto::sip_runtime::realtime, "rtc_1"), "{}"));
  CHECK(result.ok);
  CHECK(result.attempts == 2);
  CHECK(result.elapsed_ms >= 1000);
}

TEST_CASE("openai calls: reject, refer and hang-up send their path, body and Bearer once", "[openai_calls]") {
  server s({.status = 500});  // a failure: none of these is retried
  for (const auto runtime : {proto::sip_runtime::realtime, proto::sip_runtime::live}) {
    const std::string prefix =
        runtime == proto::sip_runtime::realtime ? "/v1/realtime/calls/call_9/" : "/v1/live/sessions/call_9/";
    const auto target = target_of(s, runtime, "call_9");
    const auto before = s.requests().size();

    const auto rejected = run(client().reject(target, 486));
    const auto referred = run(client().refer(target, "tel:+14155550123"));
    const auto hung_up = run(client().hang_up(target));
    for (const auto* result : {&rejected, &referred, &hung_up}) {
      CHECK_FALSE(result->ok);
      CHECK(result->status == 500);
      CHECK(result->attempts == 1);
      check_no_credential(*result);
    }
    const auto requests = s.requests();
    REQUIRE(requests.size() == before + 3);
    const auto& reject = requests[before];
    CHECK(reject.target == prefix + "reject");
    CHECK(boost::json::parse(reject.body).at("status_code") == 486);
    CHECK(reject.header("Content-Type") == "application/json");
    const auto& refer = requests[before + 1];
    CHECK(refer.target == prefix + "refer");
    CHECK(boost::json::parse(refer.body).at("target_uri") == "tel:+14155550123");
    const auto& hangup = requests[before + 2];
    CHECK(hangup.target == prefix + "hangup");
    CHECK(hangup.body.empty());
    for (std::size_t i = before; i < requests.size(); ++i) {
      CHECK(requests[i].method == "POST");
      CHECK(requests[i].header("Authorization") == "Bearer " + std::string(api_key));
    }
  }
}

TEST_CASE("openai calls: a request with an invalid call id or status is never sent", "[openai_calls]") {
  server s;
  const auto bad_id = target_of(s, proto::sip_runtime::realtime, "../v1/other");
  const auto accepted = run(client().accept(bad_id, "{}"));
  CHECK_FALSE(accepted.ok);
  CHECK(accepted.attempts == 0);
  CHECK(accepted.detail.find("not sent") != std::string::npos);
  CHECK_FALSE(run(client().hang_up(bad_id)).ok);
  const auto good = target_of(s, proto::sip_runtime::live, "live_1");
  CHECK(run(client().reject(good, 200)).attempts == 0);
  CHECK(run(client().refer(good, "https://elsewhere")).attempts == 0);
  CHECK(s.requests().empty());
}

TEST_CASE("openai calls: an answer that does not come in time is reported as a timeout", "[openai_calls]") {
  server s;
  s.script({{.status = 200, .delay_ms = 3000}});
  const auto result = run(client(0, 300).hang_up(target_of(s, proto::sip_runtime::realtime, "rtc_1")));
  CHECK_FALSE(result.ok);
  CHECK(result.status == 0);
  CHECK(result.attempts == 1);
  CHECK(result.elapsed_ms >= 300);
  CHECK(result.elapsed_ms < 3000);
  CHECK_FALSE(result.detail.empty());
  check_no_credential(result);
  INFO(result.detail);
  CHECK(result.detail.find("timeout") != std::string::npos);
}
