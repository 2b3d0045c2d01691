#include "simulator/sip_control.hpp"

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "protocol/standard_webhook.hpp"

namespace {

namespace json = boost::json;
namespace sim = mb::simulator;
using mb::protocol::sip_runtime;

}  // namespace

TEST_CASE("sip invite URI: the X- headers of the query, percent-decoded", "[sim][sip]") {
  const auto invite = sim::parse_sip_invite_uri(
      "sip:proj@127.0.0.1:5061;transport=tls?X-Mb-Agent=support&X-Mb-Var-name=Ada%20L%C3%B6w&X-Mb-Var-phone=+1555%26x");
  REQUIRE(invite);
  CHECK(invite->uri == "sip:proj@127.0.0.1:5061;transport=tls");
  REQUIRE(invite->headers.size() == 3);
  CHECK(invite->headers[0].name == "X-Mb-Agent");
  CHECK(invite->headers[0].value == "support");
  CHECK(invite->headers[1].value == "Ada L\xC3\xB6w");
  CHECK(invite->headers[2].value == "+1555&x");  // '+' is not a space in SIP URI headers
}

TEST_CASE("sip invite URI: no query, and what is refused", "[sim][sip]") {
  const auto plain = sim::parse_sip_invite_uri("sips:proj@sip.api.openai.com");
  REQUIRE(plain);
  CHECK(plain->headers.empty());
  CHECK_FALSE(sim::parse_sip_invite_uri("tel:+15551230000"));
  CHECK_FALSE(sim::parse_sip_invite_uri("sip:proj@host?X-A=%zz"));
  CHECK_FALSE(sim::parse_sip_invite_uri("sip:proj@host?=value"));
  CHECK_FALSE(sim::parse_sip_invite_uri("sip:proj@host?X-A=" + std::string(mb::protocol::max_sip_header_bytes + 1, 'a')));
  std::string many = "sip:proj@host?";
  for (std::size_t i = 0; i <= mb::protocol::max_sip_headers; ++i) many += "X-H" + std::to_string(i) + "=1&";
  CHECK_FALSE(sim::parse_sip_invite_uri(many));
}

TEST_CASE("sip control targets and sideband targets", "[sim][sip]") {
  const auto accept = sim::parse_sip_control_target("/v1/realtime/calls/rtc_123/accept");
  REQUIRE(accept);
  CHECK(accept->runtime == sip_runtime::realtime);
  CHECK(accept->call_id == "rtc_123");
  CHECK(accept->action == sim::sip_action::accept);
  const auto refer = sim::parse_sip_control_target("/v1/live/sessions/live_9/refer");
  REQUIRE(refer);
  CHECK(refer->runtime == sip_runtime::live);
  CHECK(refer->action == sim::sip_action::refer);
  CHECK_FALSE(sim::parse_sip_control_target("/v1/realtime/calls/rtc_1/transfer"));
  CHECK_FALSE(sim::parse_sip_control_target("/v1/realtime/calls/rtc_1/accept?x=1"));
  CHECK_FALSE(sim::parse_sip_control_target("/v1/realtime/calls/rtc%201/accept"));
  CHECK(sim::is_sip_http_target("/sim/sip/invite"));
  CHECK(sim::is_sip_http_target("/v1/live/sessions/x/transfer"));  // answered 404 by the control plane
  CHECK_FALSE(sim::is_sip_http_target("/tools/lookup_order"));

  const auto realtime = sim::parse_sip_sideband_target("/v1/realtime?call_id=rtc_1");
  REQUIRE(realtime);
  CHECK(realtime->runtime == sip_runtime::realtime);
  CHECK(realtime->call_id == "rtc_1");
  const auto live = sim::parse_sip_sideband_target("/v1/live/sessions/rtc_1/attach");
  REQUIRE(live);
  CHECK(live->runtime == sip_runtime::live);
  CHECK_FALSE(sim::parse_sip_sideband_target("/v1/realtime?model=gpt-realtime"));
  CHECK_FALSE(sim::parse_sip_sideband_target("/v1/live/sessions"));
  CHECK_FALSE(sim::parse_sip_sideband_target("/v1/live/sessions/rtc_1/attach?x=1"));
}

TEST_CASE("sip webhook bodies and their signed headers", "[sim][sip]") {
  const std::vector<mb::protocol::sip_header> headers{{"From", "<sip:+1555@x>"}, {"X-Mb-Agent", "a\"b"}};
  const json::value realtime = json::parse(sim::incoming_webhook_body("realtime.call.incoming", "evt_1", "rtc_1", 17, headers));
  CHECK(realtime.at("object") == "event");
  CHECK(realtime.at("created_at") == 17);
  CHECK(realtime.at("data").at("call_id") == "rtc_1");
  CHECK(realtime.at("data").at("sip_headers").at(1).at("value") == "a\"b");
  const json::value live = json::parse(sim::incoming_webhook_body("live.transport.incoming", "evt_2", "rtc_1", 17, headers));
  CHECK(live.at("data").at("type") == "sip");
  CHECK(live.at("data").at("session_id") == "rtc_1");
  CHECK(sim::incoming_event_types(sim::sip_event_set::both).size() == 2);

  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const auto signed_headers = sim::standard_webhook_headers_for(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                                                R"({"test": 2432232314})");
  REQUIRE(signed_headers.size() == 3);
  CHECK(signed_headers[2].second == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");  // the published vector
  CHECK(sim::standard_webhook_headers_for("not-a-secret", "id", 1, "{}").empty());
}
