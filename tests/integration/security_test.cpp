// Twilio signatures, stream tokens and admission control, each tested so that removing it fails.

#include <catch2/catch.hpp>

#include <future>

#include "protocol/twilio_signature.hpp"
#include "routing/route.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/raw_stream.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {
constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;
const std::string auth_token = "0123456789abcdef0123456789abcdef";
const std::string call_sid = "CA11111111111111111111111111111111";

test::harness_options signed_harness() {
  test::harness_options o;
  o.simulator.response_ms = 500;
  o.tweak = [](config::settings& s, bridge::bridge_context&) { s.twilio_auth_token = config::secret(auth_token); };
  return o;
}

std::string form_body() { return "CallSid=" + call_sid + "&From=%2B15551234567&To=%2B15557654321"; }
protocol::form_fields form_fields() {
  return {{"CallSid", call_sid}, {"From", "+15551234567"}, {"To", "+15557654321"}};
}
const std::vector<std::pair<std::string, std::string>> form_type = {
    {"Content-Type", "application/x-www-form-urlencoded"}};
}  // namespace

TEST_CASE("with TWILIO_AUTH_TOKEN, the webhook needs a valid signature over the public URL and fields",
          "[integration][security]") {
  test::bridge_harness h(signed_harness());
  const auto url = h.webhook_url();  // PUBLIC_URL is http://127.0.0.1:port, so this is the signed URL

  CHECK(test::http("POST", url, form_type, form_body()).status == 403);
  auto wrong = form_type;
  wrong.emplace_back("X-Twilio-Signature", protocol::twilio_signature("not-the-token", url, form_fields()));
  CHECK(test::http("POST", url, wrong, form_body()).status == 403);
  auto tampered = form_type;
  tampered.emplace_back("X-Twilio-Signature", protocol::twilio_signature(auth_token, url, form_fields()));
  CHECK(test::http("POST", url, tampered, form_body() + "&Extra=1").status == 403);

  auto good = form_type;
  good.emplace_back("X-Twilio-Signature", protocol::twilio_signature(auth_token, url, form_fields()));
  const auto ok = test::http("POST", url, good, form_body());
  CHECK(ok.status == 200);
  CHECK(ok.body.find("<Stream url=\"ws://127.0.0.1:") != std::string::npos);
  CHECK(h.logs().contains("refused voice webhook from 127.0.0.1"));
}

TEST_CASE("with TWILIO_AUTH_TOKEN, the stream upgrade needs a signature of the stream URL", "[integration][security]") {
  test::bridge_harness h(signed_harness());
  const auto stream_url = "ws://127.0.0.1:" + std::to_string(h.port()) + std::string(routing::media_stream_path);
  test::raw_stream unsigned_stream(h.port());
  CHECK_FALSE(unsigned_stream.connected());
  CHECK(unsigned_stream.http_status() == 403);
  test::raw_stream wrong(h.port(), {{"X-Twilio-Signature", protocol::twilio_signature("nope", stream_url, {})}});
  CHECK(wrong.http_status() == 403);
  test::raw_stream good(h.port(), {{"X-Twilio-Signature", protocol::twilio_signature(auth_token, stream_url, {})}});
  CHECK(good.connected());

  // The whole path, signed the way Twilio signs it.
  auto options = h.call({{speech, 300}, {silence, 1500}});
  options.auth_token = auth_token;
  auto reports = h.run({options});
  INFO(reports.at(0).failure);
  CHECK(reports.at(0).outcome == call_outcome::completed);
  CHECK(reports.at(0).played_audio.size() == 500 * 8);
}

TEST_CASE("a stream must carry an unused token issued by the webhook for its own call", "[integration][security]") {
  test::bridge_harness h;
  const auto token = h.context().tokens.issue(call_sid);
  const std::string param(protocol::stream_token_parameter);

  SECTION("no token") {
    test::raw_stream s(h.port());
    REQUIRE(s.send(test::raw_stream::start_message(call_sid, "MZ1", {})));
    CHECK(s.wait_closed() == 1008);
  }
  SECTION("a token issued for another call") {
    test::raw_stream s(h.port());
    REQUIRE(s.send(test::raw_stream::start_message("CA22222222222222222222222222222222", "MZ1", {{param, token}})));
    CHECK(s.wait_closed() == 1008);
  }
  SECTION("a forged token") {
    test::raw_stream s(h.port());
    REQUIRE(s.send(test::raw_stream::start_message(call_sid, "MZ1", {{param, token.substr(0, token.size() - 2) + "AA"}})));
    CHECK(s.wait_closed() == 1008);
  }
  SECTION("a valid token works once") {
    test::raw_stream first(h.port());
    REQUIRE(first.send(test::raw_stream::start_message(call_sid, "MZ1", {{param, token}})));
    REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));
    test::raw_stream replay(h.port());
    REQUIRE(replay.send(test::raw_stream::start_message(call_sid, "MZ2", {{param, token}})));
    CHECK(replay.wait_closed() == 1008);
    CHECK(h.logs().contains("stream token already used"));
    REQUIRE(first.send(test::raw_stream::stop_message("MZ1")));
    CHECK(first.wait_closed() == 1000);
    // The refused replay was never a call.
    REQUIRE(h.events().wait_ended(1));
    CHECK(h.events().ended().size() == 1);
  }
}

TEST_CASE("at MAX_CONCURRENT_CALLS the webhook answers fallback TwiML and readyz is 503", "[integration][security]") {
  test::harness_options o;
  o.simulator.response_ms = 500;
  o.tweak = [](config::settings& s, bridge::bridge_context&) {
    s.max_concurrent_calls = 1;
    s.fallback_say = "All lines are busy.";
  };
  test::bridge_harness h(o);
  const auto ready_url = "http://127.0.0.1:" + std::to_string(h.port()) + "/readyz";
  CHECK(test::http("GET", ready_url).status == 200);

  auto first = std::async(std::launch::async, [&] { return h.run({h.call({{speech, 200}, {silence, 3000}})}); });
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));
  CHECK(test::http("GET", ready_url).status == 503);
  CHECK(test::http("GET", "http://127.0.0.1:" + std::to_string(h.port()) + "/healthz").status == 200);

  auto second = h.run({h.call({{speech, 200}})});
  CHECK(second.at(0).outcome == call_outcome::rejected);
  CHECK(second.at(0).twiml.find("<Say>All lines are busy.</Say><Hangup/>") != std::string::npos);
  CHECK(first.get().at(0).outcome == call_outcome::completed);
  CHECK(test::http("GET", ready_url).status == 200);
}
