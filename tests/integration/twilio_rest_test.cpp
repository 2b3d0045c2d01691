// telephony::twilio_client against the Twilio REST simulator (tools/twilio_rest_sim) on loopback: auth,
// hang-up, redirect, call creation with signed status callbacks, and the retry policy (docs/protocols.md
// H4): what is retried, and that nothing that may have acted is sent twice. Waits are bounded and on
// conditions (the simulator's records, a request's completion), never sleeps.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <csignal>

#include "net/asio.hpp"
#include "net/http_client.hpp"
#include "protocol/form.hpp"
#include "protocol/twilio_rest.hpp"
#include "protocol/twilio_signature.hpp"
#include "telephony/twilio_client.hpp"
#include "tests/integration/support/run_awaitable.hpp"
#include "tests/integration/support/scripted_http_server.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"
#include "tools/twilio_rest_sim/rest_simulator.hpp"

namespace {

namespace asio = mb::net::asio;
namespace net = mb::net;
namespace proto = mb::protocol;
namespace sim = mb::tools::twilio_rest;
using mb::telephony::rest_result;
using mb::telephony::twilio_client;
using mb::telephony::twilio_client_options;
using namespace std::chrono_literals;

constexpr std::string_view account = "AC0123456789abcdef0123456789abcdef";
constexpr std::string_view call_sid = "CAfedcba9876543210fedcba9876543210";
constexpr std::string_view token = "rest-test-token-DO-NOT-LEAK";
constexpr std::string_view key_sid = "SK00112233445566778899aabbccddeeff";
constexpr std::string_view key_secret = "rest-test-key-secret-DO-NOT-LEAK";

sim::rest_sim_options sim_options() {
  sim::rest_sim_options o;
  o.account_sid = account;
  o.auth_token = token;
  o.api_key_sid = key_sid;
  o.api_key_secret = key_secret;
  return o;
}

twilio_client_options client_options(const sim::rest_simulator& s, std::string_view password = token) {
  twilio_client_options o;
  o.base_url = s.base_url();
  o.credentials = {std::string(account), std::string(account), std::string(password)};
  o.timeout_ms = 2000;
  o.retries = 2;
  o.base_backoff_ms = 10;
  return o;
}

template <class T>
T run(net::awaitable<T> task) {
  return mb::test::run_awaitable(std::move(task));
}

proto::call_update_request hang_up(std::string_view sid = call_sid) {
  proto::call_update_request r;
  r.call_sid = sid;
  return r;
}

proto::call_update_request redirect(std::string twiml) {
  proto::call_update_request r;
  r.call_sid = call_sid;
  r.what = proto::call_update_request::kind::redirect;
  r.twiml = std::move(twiml);
  return r;
}

std::string update_path() { return proto::call_path(account, call_sid); }

// The simulator carries out the first update, then holds its answer past the client's 500 ms timeout.
rest_result with_first_answer_lost(sim::rest_simulator& s, proto::call_update_request request) {
  auto options = client_options(s);
  options.timeout_ms = 500;
  s.add_fault({.path = update_path(), .count = 1, .delay_ms = 3000, .act = true});
  return run(twilio_client(options, nullptr).update_call(std::move(request)));
}

// The bridge's status callback and voice webhook: a loopback receiver answering 200 with `twiml`.
mb::test::scripted_http_server form_receiver(std::string twiml) {
  return mb::test::scripted_http_server({.status = 200, .body = std::move(twiml), .content_type = "text/xml"});
}

proto::form_fields form_of(const mb::test::scripted_http_server::request& seen) {
  return proto::parse_form(seen.body).value_or(proto::form_fields{});
}

}  // namespace

TEST_CASE("twilio REST: Basic auth with the auth token or an API key, anything else is refused", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();

  const twilio_client wrong(client_options(s, "wrong-token"), nullptr);
  const auto refused = run(wrong.update_call(hang_up()));
  CHECK_FALSE(refused.ok);
  CHECK(refused.status == 401);
  CHECK(refused.attempts == 1);  // a 401 is final
  CHECK(refused.detail.find("20003") != std::string::npos);
  CHECK(refused.detail.find("wrong-token") == std::string::npos);

  auto with_key = client_options(s);
  with_key.credentials = {std::string(account), std::string(key_sid), std::string(key_secret)};
  const auto accepted = run(twilio_client(with_key, nullptr).update_call(hang_up()));
  CHECK(accepted.ok);
  CHECK(accepted.status == 200);

  const auto state = s.snapshot();
  CHECK(state.auth_failures == 1);
  REQUIRE(state.requests.size() == 2);
  CHECK_FALSE(state.requests[0].authorised);
  CHECK_FALSE(state.requests[0].acted);
  CHECK(state.requests[1].authorised);
  CHECK(state.requests[1].auth_user == key_sid);
}

TEST_CASE("twilio REST: a hang-up completes the call, a redirect hands it new TwiML", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  const twilio_client client(client_options(s), nullptr);

  const std::string twiml = "<Response><Say>Transferring you</Say><Dial>+15551230000</Dial></Response>";
  const auto moved = run(client.update_call(redirect(twiml)));
  CHECK(moved.ok);
  CHECK(moved.attempts == 1);
  const auto hung_up = run(client.update_call(hang_up()));
  CHECK(hung_up.ok);
  CHECK(proto::parse_call_resource(hung_up.body)->status == "completed");

  const auto call = s.call(call_sid);
  REQUIRE(call);
  CHECK(call->redirects == std::vector<std::string>{twiml});
  CHECK(call->status == "completed");
  CHECK(call->completions == 1);
  const auto state = s.snapshot();
  REQUIRE(state.requests.size() == 2);
  CHECK(state.requests[0].path == update_path());
  CHECK(proto::form_value(state.requests[0].form, "Twiml") == twiml);
  CHECK(proto::form_value(state.requests[1].form, "Status") == "completed");

  // Redirecting a finished call is Twilio's error 21220, not retried.
  const auto late = run(client.update_call(redirect(twiml)));
  CHECK_FALSE(late.ok);
  CHECK(late.status == 400);
  CHECK(late.attempts == 1);
  CHECK(late.detail.find("21220") != std::string::npos);
}

TEST_CASE("twilio REST: an unconfigured client or an invalid SID sends nothing", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  auto options = client_options(s);
  options.credentials.password.clear();
  const twilio_client unconfigured(options, nullptr);
  CHECK_FALSE(unconfigured.configured());
  const auto result = run(unconfigured.update_call(hang_up()));
  CHECK_FALSE(result.ok);
  CHECK(result.attempts == 0);
  CHECK(result.detail.find("TWILIO_AUTH_TOKEN") != std::string::npos);

  const twilio_client client(client_options(s), nullptr);
  const auto bad_sid = run(client.update_call(hang_up("CA../../Accounts")));
  CHECK_FALSE(bad_sid.ok);
  CHECK(bad_sid.attempts == 0);
  CHECK(s.snapshot().requests.empty());
}

TEST_CASE("twilio REST: an outbound call reports its progress to the status callback, signed", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  auto receiver = form_receiver("<Response><Connect><Stream url=\"wss://bridge.example/media-stream\"/></Connect></Response>");
  s.script_number("+15550001111", {.outcome = sim::call_script::end::completed,
                                   .ringing_after_ms = 5,
                                   .answer_after_ms = 5,
                                   .complete_after_ms = 5,
                                   .fetch_voice_url = true});
  const twilio_client client(client_options(s), nullptr);
  const proto::outbound_call_request request{"+15550001111", "+15550002222", receiver.url("/voice?agent=sales"),
                                             receiver.url("/twilio/status")};
  const auto created = run(client.create_call(request));
  REQUIRE(created.ok);
  CHECK(created.status == 201);
  const auto resource = proto::parse_call_resource(created.body);
  REQUIRE(resource);
  CHECK(resource->status == "queued");

  // initiated, ringing, in-progress (answered), the voice webhook, completed.
  REQUIRE(receiver.wait_for(5, 10s));
  REQUIRE(s.wait_until([&](const sim::rest_sim_state& st) {
    const auto* c = st.call(resource->sid);
    return c && c->callbacks.size() == 4 && c->voice_status != 0;
  }, 10s));
  std::vector<std::string> statuses;
  for (const auto& seen : receiver.requests()) {
    const auto url = receiver.url(seen.target);
    const auto form = form_of(seen);
    INFO(seen.target);
    CHECK(proto::validate_twilio_signature(token, url, form, seen.header("X-Twilio-Signature")));
    CHECK(proto::form_value(form, "CallSid") == resource->sid);
    CHECK(proto::form_value(form, "AccountSid") == account);
    CHECK(proto::form_value(form, "To") == "+15550001111");
    if (seen.target == "/twilio/status") statuses.emplace_back(proto::form_value(form, "CallStatus"));
  }
  CHECK(statuses == std::vector<std::string>{"initiated", "ringing", "in-progress", "completed"});
  const auto call = s.call(resource->sid);
  REQUIRE(call);
  CHECK(call->status == "completed");
  CHECK(call->voice_status == 200);
  CHECK(call->voice_twiml.find("<Stream url=\"wss://bridge.example/media-stream\"/>") != std::string::npos);
  for (const auto& callback : call->callbacks) CHECK(callback.http_status == 200);
}

TEST_CASE("twilio REST: a busy number reports initiated, ringing, busy", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  auto receiver = form_receiver("");
  s.script_number("+15550003333", {.outcome = sim::call_script::end::busy, .ringing_after_ms = 5, .answer_after_ms = 5});
  const twilio_client client(client_options(s), nullptr);
  const auto created =
      run(client.create_call({"+15550003333", "+15550002222", receiver.url("/voice"), receiver.url("/twilio/status")}));
  REQUIRE(created.ok);
  REQUIRE(receiver.wait_for(3, 10s));
  std::vector<std::string> statuses;
  for (const auto& seen : receiver.requests()) statuses.emplace_back(proto::form_value(form_of(seen), "CallStatus"));
  CHECK(statuses == std::vector<std::string>{"initiated", "ringing", "busy"});
  CHECK(s.call(proto::parse_call_resource(created.body)->sid)->status == "busy");
}

TEST_CASE("twilio REST: a 503 is retried once and then succeeds, for any request", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  const twilio_client client(client_options(s), nullptr);
  s.add_fault({.path = update_path(), .count = 1, .status = 503});
  const auto moved = run(client.update_call(redirect("<Response><Hangup/></Response>")));
  CHECK(moved.ok);
  CHECK(moved.attempts == 2);
  CHECK(moved.elapsed_ms >= client_options(s).base_backoff_ms);  // the backoff is part of the operation
  const auto state = s.snapshot();
  REQUIRE(state.requests.size() == 2);
  CHECK(state.requests[0].status == 503);
  CHECK_FALSE(state.requests[0].acted);
  CHECK(state.requests[1].status == 200);
  CHECK(s.call(call_sid)->redirects.size() == 1);
}

TEST_CASE("twilio REST: a transfer whose answer times out after Twilio acted is not sent again", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  const auto moved = with_first_answer_lost(s, redirect("<Response><Dial>+15551230000</Dial></Response>"));
  CHECK_FALSE(moved.ok);
  CHECK(moved.status == 0);
  CHECK(moved.attempts == 1);
  CHECK(moved.detail.find("read response") != std::string::npos);
  // The client has returned: any retry would already be recorded.
  CHECK(s.snapshot().count("POST", update_path()) == 1);
  CHECK(s.call(call_sid)->redirects.size() == 1);
}

TEST_CASE("twilio REST: a hang-up whose answer times out is retried and completes the call once", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  const auto hung_up = with_first_answer_lost(s, hang_up());
  CHECK(hung_up.ok);
  CHECK(hung_up.attempts == 2);
  const auto state = s.snapshot();
  CHECK(state.count("POST", update_path()) == 2);
  const auto* call = state.call(call_sid);
  REQUIRE(call);
  CHECK(call->status == "completed");
  CHECK(call->completions == 1);
  REQUIRE(state.requests.size() == 2);
  CHECK(state.requests[0].acted);
  CHECK_FALSE(state.requests[1].acted);  // the second one found it completed already
}

TEST_CASE("twilio REST: a call creation answered 500 is not sent again, a refused connection is", "[twilio_rest]") {
  sim::rest_simulator s(sim_options());
  s.start();
  const twilio_client client(client_options(s), nullptr);
  s.add_fault({.path = proto::calls_path(account), .count = 1, .status = 500, .act = true});
  const auto created = run(client.create_call({"+15550001111", "+15550002222", "http://127.0.0.1:9/voice", ""}));
  CHECK_FALSE(created.ok);
  CHECK(created.status == 500);
  CHECK(created.attempts == 1);
  const auto state = s.snapshot();
  CHECK(state.count("POST", proto::calls_path(account)) == 1);
  CHECK(state.calls.size() == 1);  // it acted once: one call placed, never two

  // Nothing listens there: no request can have been sent, so every retry is allowed.
  auto options = client_options(s);
  const auto base = s.base_url();
  s.stop();
  options.base_url = base;
  const auto unreachable = run(twilio_client(options, nullptr).create_call({"+1", "+2", "http://127.0.0.1:9/voice", ""}));
  CHECK_FALSE(unreachable.ok);
  CHECK(unreachable.attempts == 3);
  CHECK(unreachable.detail.find("connect") != std::string::npos);
}

TEST_CASE("twilio REST: startup says once whether call control is available, naming what is missing",
          "[twilio_rest][startup]") {
  mb::test::temp_dir dir;
  const auto started = [&](const std::vector<std::string>& settings, const std::string& name) {
    const auto port = mb::test::free_port();
    const auto log = dir.file(name);
    std::vector<std::string> env{"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port), "DATABASE_PATH=:memory:"};
    env.insert(env.end(), settings.begin(), settings.end());
    mb::test::server_process process(env, log);
    REQUIRE(mb::test::wait_healthy(port, std::chrono::seconds(20)));
    process.signal(SIGTERM);
    REQUIRE(process.wait_exit(std::chrono::seconds(20)));
    return mb::test::read_file(log);
  };
  const auto without = started({}, "without.log");
  CHECK(without.find("Twilio REST call control: unavailable (REST call control is not configured: "
                     "TWILIO_ACCOUNT_SID is not set)") != std::string::npos);

  const auto with_key = started({"TWILIO_ACCOUNT_SID=" + std::string(account), "TWILIO_API_KEY_SID=" + std::string(key_sid),
                                 "TWILIO_API_KEY_SECRET=" + std::string(key_secret),
                                 "TWILIO_API_BASE_URL=http://127.0.0.1:9"},
                                "with_key.log");
  const std::string available = "Twilio REST call control: available (account " + std::string(account) + ", API key " +
                                std::string(key_sid) + ") at http://127.0.0.1:9";
  CHECK(with_key.find(available) != std::string::npos);
  CHECK(with_key.find(available, with_key.find(available) + 1) == std::string::npos);  // once
  CHECK(with_key.find(key_secret) == std::string::npos);

  // A key without its secret is named.
  const auto no_secret = started({"TWILIO_ACCOUNT_SID=" + std::string(account), "TWILIO_API_KEY_SID=" + std::string(key_sid)},
                                 "no_secret.log");
  CHECK(no_secret.find("TWILIO_API_KEY_SECRET is not set") != std::string::npos);
}

TEST_CASE("http client: request_sent tells a failure before sending from one after", "[twilio_rest][http_client]") {
  sim::rest_simulator s(sim_options());
  s.start();
  const auto url = s.base_url() + update_path();
  const std::vector<std::pair<std::string, std::string>> auth{
      {"Authorization", proto::basic_authorization({std::string(account), std::string(account), std::string(token)})}};
  // Held, then closed without an answer: the request had been written.
  s.add_fault({.path = update_path(), .count = 1, .delay_ms = 1, .act = false});
  const auto unanswered = run(net::http_request("POST", url, auth, "Status=completed", nullptr, 2000));
  CHECK(unanswered.status == 0);
  CHECK(unanswered.request_sent);
  CHECK(unanswered.failure.find("read response") != std::string::npos);
  const auto answered = run(net::http_request("POST", url, auth, "Status=completed", nullptr, 2000));
  CHECK(answered.status == 200);
  CHECK(answered.request_sent);

  s.stop();
  const auto refused = run(net::http_request("POST", url, {}, "Status=completed", nullptr, 2000));
  CHECK(refused.status == 0);
  CHECK_FALSE(refused.request_sent);
  CHECK(refused.failure.find("connect") != std::string::npos);
  const auto invalid = run(net::http_request("POST", "ftp://127.0.0.1/", {}, "", nullptr, 2000));
  CHECK_FALSE(invalid.request_sent);
}
