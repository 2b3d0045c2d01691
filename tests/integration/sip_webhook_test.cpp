// OpenAI's SIP mode, the server's side: POST /openai/webhook through the real HTTP server (signature,
// replay guard, the decision) and /voice answering a SIP-mode profile with <Dial><Sip>.

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <future>

#include <boost/json.hpp>

#include "protocol/standard_webhook.hpp"
#include "routing/route.hpp"
#include "simulator/sip_control.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"

using namespace mb;

namespace {

const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

constexpr const char* profiles = R"({"agents": {
  "front": {"mode": "sip", "numbers": ["+15005550001"], "instructions": "Desk for {{topic}}."},
  "live": {"mode": "sip", "provider": "openai-live", "numbers": ["+15005550002"]}
}})";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

using header_list = std::vector<std::pair<std::string, std::string>>;

std::string realtime_event(const std::string& call_id, const header_list& extra = {}, const std::string& to = "+15005550001") {
  boost::json::array headers{boost::json::object{{"name", "From"}, {"value", "<sip:+15559990000@pstn.twilio.com>;tag=1"}},
                             boost::json::object{{"name", "To"}, {"value", "<sip:" + to + "@sip.api.openai.com>"}}};
  for (const auto& [n, v] : extra) headers.push_back(boost::json::object{{"name", n}, {"value", v}});
  return boost::json::serialize(boost::json::object{
      {"object", "event"},
      {"id", "evt_" + call_id},
      {"type", "realtime.call.incoming"},
      {"created_at", unix_now()},
      {"data", boost::json::object{{"call_id", call_id}, {"sip_headers", headers}}}});
}

header_list signed_headers(const std::string& id, std::int64_t timestamp, const std::string& body,
                           const std::string& with_secret = secret) {
  const auto ts = std::to_string(timestamp);
  const auto key = protocol::standard_webhook_key(with_secret).value();
  return {{"Content-Type", "application/json"},
          {"Webhook-Id", id},  // header names are case-insensitive
          {"webhook-timestamp", ts},
          {"webhook-signature", protocol::sign_standard_webhook(key, id, ts, body)}};
}

struct fixture {
  test::temp_dir dir;
  std::string agents_file = dir.write("agents.json", profiles);
  test::bridge_harness h;

  explicit fixture(bool with_secret = true, int max_calls = 4)
      : h{{.tweak = [this, with_secret, max_calls](config::settings& s, bridge::bridge_context&) {
          s.agents_file = agents_file;
          s.max_concurrent_calls = max_calls;
          if (with_secret) s.openai_webhook_secret = config::secret(secret);
        }}} {}

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(h.port()) + std::string(routing::openai_webhook_path);
  }
  net::http_response post(const header_list& headers, const std::string& body) {
    return test::http("POST", url(), headers, body);
  }
  [[nodiscard]] std::string status_of(const net::http_response& r) const {
    return std::string(boost::json::parse(r.body).at("status").as_string());
  }
  [[nodiscard]] bool counted(std::string_view outcome, int n) {
    return h.metrics().render().find("mediabridge_sip_webhooks_total{outcome=\"" + std::string(outcome) + "\"} " +
                                     std::to_string(n) + "\n") != std::string::npos;
  }
  // Nothing happened: no call, no reservation, no event.
  void check_untouched() {
    CHECK(h.events().events().empty());
    CHECK(h.registry().active() == 0);
    CHECK(h.registry().reserved() == 0);
  }
};

}  // namespace

TEST_CASE("openai webhook: without OPENAI_WEBHOOK_SECRET it answers 503 and does nothing",
          "[integration][sip]") {
  fixture f(false);
  const auto body = realtime_event("rtc_test1");
  const auto r = f.post(signed_headers("wh_1", unix_now(), body), body);
  CHECK(r.status == 503);
  CHECK(test::http("GET", f.url()).status == 405);
  f.check_untouched();
}

TEST_CASE("openai webhook: a forged or stale signature is refused 401, missing headers 400, with no side effect",
          "[integration][sip]") {
  fixture f;
  const auto body = realtime_event("rtc_test1");
  CHECK(f.post(signed_headers("wh_1", unix_now(), body, "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="), body)
            .status == 401);
  auto tampered = signed_headers("wh_2", unix_now(), body);
  CHECK(f.post(tampered, realtime_event("rtc_test2")).status == 401);
  CHECK(f.post(signed_headers("wh_3", unix_now() - 400, body), body).status == 401);
  CHECK(f.post(signed_headers("wh_4", unix_now() + 400, body), body).status == 401);
  CHECK(f.post({{"Content-Type", "application/json"}}, body).status == 400);
  CHECK(f.counted("unauthorized", 4));
  CHECK(f.counted("malformed", 1));
  CHECK(f.counted("rejected", 0));
  CHECK(f.counted("accepted", 0));
  f.check_untouched();
  using protocol::standard_webhook_check;
  CHECK(f.h.logs().wait_for(std::string("refused OpenAI webhook from 127.0.0.1: ") +
                            protocol::to_string(standard_webhook_check::no_match)));
  CHECK(f.h.logs().wait_for(std::string("refused OpenAI webhook from 127.0.0.1: ") +
                            protocol::to_string(standard_webhook_check::too_old)));

  // The forged deliveries' ids were not remembered: the genuine one with the same id is acted on.
  const auto genuine = f.post(signed_headers("wh_1", unix_now(), body), body);
  REQUIRE(genuine.status == 200);
  CHECK(f.status_of(genuine) != "duplicate");
}

TEST_CASE("openai webhook: a replayed webhook-id is acknowledged as a duplicate and acted on once",
          "[integration][sip]") {
  fixture f;
  // No token, a number no SIP-mode profile claims: rejected 404, once.
  const auto body = realtime_event("rtc_test9", {}, "+15005550099");
  const auto headers = signed_headers("wh_same", unix_now(), body);
  const auto first = f.post(headers, body);
  REQUIRE(first.status == 200);
  CHECK(f.status_of(first) == "rejected");
  for (int i = 0; i < 3; ++i) {
    const auto again = f.post(headers, body);
    REQUIRE(again.status == 200);
    CHECK(f.status_of(again) == "duplicate");
  }
  // A new delivery (new id) of the same call: already handled.
  const auto redelivered = f.post(signed_headers("wh_other", unix_now(), body), body);
  CHECK(f.status_of(redelivered) == "ignored");
  CHECK(f.counted("rejected", 1));
  CHECK(f.counted("duplicate", 3));
  CHECK(f.h.logs().wait_for("rtc_test9 (realtime event) from +15559990000: rejecting with SIP 404"));
  f.check_untouched();
}

TEST_CASE("openai webhook: malformed bodies are refused 400, other event types are ignored", "[integration][sip]") {
  fixture f;
  const std::string junk = "{not json";
  CHECK(f.post(signed_headers("wh_j", unix_now(), junk), junk).status == 400);
  const std::string other = R"({"object":"event","id":"evt_1","type":"response.completed","created_at":1,"data":{"id":"resp_1"}})";
  const auto r = f.post(signed_headers("wh_o", unix_now(), other), other);
  REQUIRE(r.status == 200);
  CHECK(f.status_of(r) == "ignored");
  f.check_untouched();
}

TEST_CASE("/voice dials a SIP-mode profile's calls to OpenAI with a token the webhook accepts", "[integration][sip]") {
  fixture f;
  const std::string call_sid = "CA22222222222222222222222222222222";
  const auto voice = test::http("POST", f.h.webhook_url(), {{"Content-Type", "application/x-www-form-urlencoded"}},
                                "CallSid=" + call_sid + "&From=%2B15559990000&To=%2B15005550001&topic=billing%20%26%20more");
  REQUIRE(voice.status == 200);
  const auto open = voice.body.find("<Dial><Sip>");
  const auto close = voice.body.find("</Sip></Dial>");
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  auto uri = voice.body.substr(open + 11, close - open - 11);
  for (std::size_t p; (p = uri.find("&amp;")) != std::string::npos;) uri.replace(p, 5, "&");
  CHECK(uri.starts_with(f.h.simulator().sip_uri() + "?X-Mb-Agent=front&X-Mb-Call-Sid=" + call_sid + "&X-Mb-Token="));
  CHECK(uri.ends_with("&X-Mb-Var-topic=billing%20%26%20more"));
  CHECK(f.h.registry().reserved() == 1);  // the slot is held for the call, as for a Media Stream

  // The headers as OpenAI hands them back (percent-decoded).
  const auto token_at = uri.find("X-Mb-Token=") + 11;
  auto token = uri.substr(token_at, uri.find('&', token_at) - token_at);
  for (std::size_t p; (p = token.find('%')) != std::string::npos;)
    token.replace(p, 3, 1, static_cast<char>(std::stoi(token.substr(p + 1, 2), nullptr, 16)));
  const header_list dialled{{"X-Mb-Agent", "front"}, {"X-Mb-Call-Sid", call_sid}, {"X-Mb-Token", token},
                            {"X-Mb-Var-topic", "billing & more"}};

  // The live event of a call whose profile runs on the Realtime API: ignored.
  auto live_body = realtime_event("rtc_test5", dialled);
  const auto type_at = live_body.find("realtime.call.incoming");
  live_body.replace(type_at, 22, "live.transport.incoming");
  const auto id_at = live_body.find("\"call_id\"");
  live_body.replace(id_at, 9, "\"session_id\"");
  const auto data_at = live_body.find("\"data\":{");
  live_body.insert(data_at + 8, "\"type\":\"sip\",");
  const auto live = f.post(signed_headers("wh_live", unix_now(), live_body), live_body);
  REQUIRE(live.status == 200);
  CHECK(f.status_of(live) == "ignored");

  const auto body = realtime_event("rtc_test5", dialled);
  const auto r = f.post(signed_headers("wh_rt", unix_now(), body), body);
  REQUIRE(r.status == 200);
  // The token was honoured (no 403, no 404): the call was handed to admission, which accepts it, or
  // with the session not yet there refuses it as full (486).
  CHECK_FALSE(f.h.logs().contains("rejecting with SIP 403"));
  CHECK_FALSE(f.h.logs().contains("rejecting with SIP 404"));
  if (f.status_of(r) == "accepted")
    CHECK(f.h.logs().wait_for("rtc_test5 (realtime event) accepted for agent 'front' as call " + call_sid));
  else
    CHECK(f.h.logs().wait_for("rtc_test5 (realtime event): rejecting with SIP 486"));

  // A forged token for the same CallSid: refused 403.
  auto forged = dialled;
  forged[2].second = "1999999999.AAAA";
  const auto forged_body = realtime_event("rtc_test6", forged);
  const auto refused = f.post(signed_headers("wh_forged", unix_now(), forged_body), forged_body);
  CHECK(f.status_of(refused) == "rejected");
  CHECK(f.h.logs().wait_for("rtc_test6 (realtime event) from +15559990000: rejecting with SIP 403"));
}

TEST_CASE("demo mode dials a simulated SIP-mode profile to the simulator and signs its webhooks itself",
          "[integration][sip]") {
  test::temp_dir dir;
  const auto port = test::free_port();
  const auto log = dir.file("mediabridge.log");
  test::server_process process({"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port), "DATABASE_PATH=:memory:",
                                "CALL_MODE=sip"},
                               log);
  REQUIRE(test::wait_healthy(port, std::chrono::seconds(20)));
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  const auto voice = test::http("POST", base + "/voice", {{"Content-Type", "application/x-www-form-urlencoded"}},
                                "CallSid=CA33333333333333333333333333333333&From=%2B15559990000&To=%2B15005550001");
  CHECK(voice.status == 200);
  CHECK(voice.body.find("<Dial><Sip>sip:proj_demo@127.0.0.1:") != std::string::npos);
  CHECK(voice.body.find(";transport=tls?X-Mb-Agent=default&amp;X-Mb-Call-Sid=CA33333333333333333333333333333333"
                        "&amp;X-Mb-Token=") != std::string::npos);
  // The endpoint is enabled with the generated secret: an unsigned request is refused 400, not 503.
  CHECK(test::http("POST", base + std::string(routing::openai_webhook_path), {}, "{}").status == 400);
  process.signal(SIGTERM);
  REQUIRE(process.wait_exit(std::chrono::seconds(20)));
  const auto output = test::read_file(log);
  CHECK(output.find("demo mode: OPENAI_WEBHOOK_SECRET is not set: the simulated OpenAI signs its webhooks with a "
                    "secret generated for this run") != std::string::npos);
  CHECK(output.find("whsec_") == std::string::npos);
}

namespace {

// One call placed on the simulated OpenAI, whose webhooks the test sends itself (signed, forged,
// replayed, concurrent); the simulator records what the server then asks of its control plane.
struct simulated_call {
  fixture& f;
  std::string id;
  explicit simulated_call(fixture& fx, simulator::sip_call_request request = {})
      : f(fx), id(fx.h.simulator().place_sip_call(std::move(request))) {}

  [[nodiscard]] simulator::sip_call_snapshot snapshot() const {
    for (const auto& c : f.h.simulator().sip_calls())
      if (c.call_id == id) return c;
    FAIL("call " << id << " not on the simulator");
    return {};
  }
  [[nodiscard]] std::string body(std::string_view type) const {
    return simulator::incoming_webhook_body(type, "evt_" + id, id, unix_now(), snapshot().sip_headers);
  }
  [[nodiscard]] header_list headers(const std::string& webhook_id, const std::string& body,
                                    const std::string& with_secret = secret) const {
    auto h = simulator::standard_webhook_headers_for(with_secret, webhook_id, unix_now(), body);
    h.emplace_back("Content-Type", "application/json");
    return h;
  }
  bool wait_for(const std::function<bool(const simulator::sip_call_snapshot&)>& pred) const {
    return f.h.simulator().wait_for_sip(
        [&](const std::vector<simulator::sip_call_snapshot>& calls) {
          for (const auto& c : calls)
            if (c.call_id == id) return pred(c);
          return false;
        },
        std::chrono::seconds(5));
  }
};

}  // namespace

TEST_CASE("openai webhook: when full, a call is rejected at OpenAI with 486, a forged delivery before it did nothing",
          "[integration][sip]") {
  fixture f(true, 1);
  // The only slot is held by a Media Streams call's webhook.
  REQUIRE(test::http("POST", f.h.webhook_url(), {{"Content-Type", "application/x-www-form-urlencoded"}},
                     "CallSid=CA44444444444444444444444444444444&To=%2B15005550009")
              .status == 200);
  REQUIRE(f.h.registry().reserved() == 1);

  simulated_call call(f);  // to +15005550001: the SIP-mode profile "front", straight from a trunk (no token)
  const auto body = call.body("realtime.call.incoming");
  CHECK(f.post(call.headers("wh_forged", body, "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="), body).status ==
        401);
  const auto r = f.post(call.headers("wh_real", body), body);
  REQUIRE(r.status == 200);
  CHECK(f.status_of(r) == "rejected");
  REQUIRE(call.wait_for([](const auto& c) { return c.reject_status.has_value(); }));
  const auto seen = call.snapshot();
  CHECK(*seen.reject_status == 486);
  REQUIRE(seen.requests.size() == 1);  // the forged delivery, handled first, asked nothing
  CHECK(seen.requests[0].action == simulator::sip_action::reject);
  CHECK(seen.requests[0].runtime == protocol::sip_runtime::realtime);
  CHECK(f.h.events().events().empty());
  CHECK(f.h.registry().active() == 0);
}

TEST_CASE("openai webhook: both events and their retries, concurrent, are acted on once", "[integration][sip]") {
  fixture f;
  f.h.context().draining = true;  // every acted-on event rejects 503: what is asked of OpenAI is countable
  simulated_call call(f);
  const auto realtime = call.body("realtime.call.incoming");
  const auto live = call.body("live.transport.incoming");
  std::vector<std::future<net::http_response>> replies;
  for (int i = 0; i < 3; ++i) {
    replies.push_back(std::async(std::launch::async, [&, i] {
      return f.post(call.headers("wh_rt" + std::to_string(i), realtime), realtime);
    }));
    replies.push_back(std::async(std::launch::async, [&, i] {
      return f.post(call.headers("wh_live" + std::to_string(i), live), live);
    }));
  }
  int acted = 0;
  for (auto& reply : replies) {
    const auto r = reply.get();
    REQUIRE(r.status == 200);
    const auto status = f.status_of(r);
    CHECK((status == "rejected" || status == "ignored"));
    acted += status == "rejected";
  }
  CHECK(acted == 1);
  REQUIRE(call.wait_for([](const auto& c) { return c.reject_status.has_value(); }));
  CHECK(*call.snapshot().reject_status == 503);
  CHECK(call.snapshot().requests.size() == 1);
  CHECK(call.snapshot().requests[0].runtime == protocol::sip_runtime::realtime);  // the profile's provider's
  CHECK(f.counted("rejected", 1));
  CHECK(f.counted("ignored", 5));
}
