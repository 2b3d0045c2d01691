#include "protocol/twilio_rest.hpp"

#include <catch2/catch.hpp>

namespace proto = mb::protocol;

namespace {
constexpr std::string_view account = "AC0123456789abcdef0123456789abcdef";
constexpr std::string_view call = "CAfedcba9876543210fedcba9876543210";
constexpr std::string_view key = "SK00112233445566778899aabbccddeeff";

proto::call_update_request hang_up_of(std::string_view sid) {
  proto::call_update_request request;
  request.call_sid = sid;
  return request;
}

proto::rest_attempt response(int status) {
  proto::rest_attempt a;
  a.status = status;
  a.request_sent = true;
  return a;
}
proto::rest_attempt transport_failure(bool sent) {
  proto::rest_attempt a;
  a.request_sent = sent;
  a.failure = sent ? "read response: timeout" : "connect 127.0.0.1:1: Connection refused";
  return a;
}
}  // namespace

TEST_CASE("SIDs are two letters and 32 lowercase hex digits", "[twilio_rest]") {
  CHECK(proto::valid_account_sid(account));
  CHECK(proto::valid_call_sid(call));
  CHECK(proto::valid_api_key_sid(key));
  CHECK_FALSE(proto::valid_call_sid(account));                                  // wrong prefix
  CHECK_FALSE(proto::valid_call_sid("CAfedcba9876543210fedcba987654321"));       // 31 digits
  CHECK_FALSE(proto::valid_call_sid("CAfedcba9876543210fedcba98765432100"));     // 33 digits
  CHECK_FALSE(proto::valid_call_sid("CAFEDCBA9876543210FEDCBA9876543210"));      // uppercase hex
  CHECK_FALSE(proto::valid_call_sid("CA../../Accounts/AC0123456789abcdef0"));   // path characters
  CHECK_FALSE(proto::valid_sid(call, "C"));
}

TEST_CASE("paths name the account and call, and refuse invalid SIDs", "[twilio_rest]") {
  CHECK(proto::call_path(account, call) ==
        "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls/CAfedcba9876543210fedcba9876543210.json");
  CHECK(proto::calls_path(account) == "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json");
  CHECK(proto::call_path(account, "CA1/../x").empty());
  CHECK(proto::calls_path("ACnope").empty());
}

TEST_CASE("Basic auth encodes username:password and reads back", "[twilio_rest]") {
  const proto::twilio_rest_credentials with_token{std::string(account), std::string(account), "tok-en"};
  // Computed independently: base64.b64encode(b"AC0123456789abcdef0123456789abcdef:tok-en").
  CHECK(proto::basic_authorization(with_token) == "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjp0b2stZW4=");
  const proto::twilio_rest_credentials no_username{std::string(account), "", "tok-en"};
  CHECK(proto::basic_authorization(no_username) == proto::basic_authorization(with_token));
  const auto parsed = proto::parse_basic_authorization(proto::basic_authorization({std::string(account), std::string(key), "s:e"}));
  REQUIRE(parsed);
  CHECK(parsed->first == key);
  CHECK(parsed->second == "s:e");  // the password may hold ':'
  CHECK_FALSE(proto::parse_basic_authorization("Bearer abc"));
  CHECK_FALSE(proto::parse_basic_authorization("Basic !!!"));
  CHECK_FALSE(proto::parse_basic_authorization("Basic bm9jb2xvbg=="));  // "nocolon"
}

TEST_CASE("credential problems name the settings to fix", "[twilio_rest]") {
  using creds = proto::twilio_rest_credentials;
  CHECK(proto::credentials_problem(creds{}) == std::optional<std::string>("TWILIO_ACCOUNT_SID is not set"));
  CHECK(proto::credentials_problem(creds{"ACxyz", "", "t"})->find("TWILIO_ACCOUNT_SID") != std::string::npos);
  CHECK(proto::credentials_problem(creds{std::string(account), std::string(account), ""})->find("TWILIO_AUTH_TOKEN") !=
        std::string::npos);
  CHECK_FALSE(proto::credentials_problem(creds{std::string(account), std::string(account), "t"}));
  CHECK_FALSE(proto::credentials_problem(creds{std::string(account), std::string(key), "secret"}));
  CHECK(proto::credentials_problem(creds{std::string(account), std::string(key), ""})->find("TWILIO_API_KEY_SECRET") !=
        std::string::npos);
  CHECK(proto::credentials_problem(creds{std::string(account), "SKshort", "s"})->find("TWILIO_API_KEY_SID") !=
        std::string::npos);
}

TEST_CASE("a hang-up sends Status=completed, a redirect its TwiML", "[twilio_rest]") {
  const auto hang_up = hang_up_of(call);
  CHECK(proto::call_update_fields(hang_up) == proto::form_fields{{"Status", "completed"}});
  CHECK(proto::encode_form(proto::call_update_fields(hang_up)) == "Status=completed");
  const proto::call_update_request redirect{std::string(call), proto::call_update_request::kind::redirect,
                                            "<Response><Dial>+15551230000</Dial></Response>"};
  // The encoding as Python's urllib.parse.urlencode writes it.
  CHECK(proto::encode_form(proto::call_update_fields(redirect)) ==
        "Twiml=%3CResponse%3E%3CDial%3E%2B15551230000%3C%2FDial%3E%3C%2FResponse%3E");
  CHECK(proto::idempotent(hang_up));
  CHECK_FALSE(proto::idempotent(redirect));
}

TEST_CASE("a call creation asks for every progress event", "[twilio_rest]") {
  const proto::outbound_call_request request{"+15550001111", "+15550002222", "https://bridge.example/voice?x=1",
                                             "https://bridge.example/twilio/status"};
  const auto fields = proto::outbound_call_fields(request);
  CHECK(fields == proto::form_fields{{"To", "+15550001111"},
                                     {"From", "+15550002222"},
                                     {"Url", "https://bridge.example/voice?x=1"},
                                     {"Method", "POST"},
                                     {"StatusCallback", "https://bridge.example/twilio/status"},
                                     {"StatusCallbackMethod", "POST"},
                                     {"StatusCallbackEvent", "initiated"},
                                     {"StatusCallbackEvent", "ringing"},
                                     {"StatusCallbackEvent", "answered"},
                                     {"StatusCallbackEvent", "completed"}});
  const auto round_trip = proto::parse_form(proto::encode_form(fields));
  REQUIRE(round_trip);
  CHECK(*round_trip == fields);
  const auto without_callback = proto::outbound_call_fields({"+1", "+2", "https://x/voice", ""});
  CHECK(without_callback.size() == 4);
}

TEST_CASE("requests that must not be sent", "[twilio_rest]") {
  using kind = proto::call_update_request::kind;
  CHECK_FALSE(proto::request_problem(hang_up_of(call)));
  CHECK(proto::request_problem(hang_up_of("CA123")));
  CHECK(proto::request_problem(proto::call_update_request{std::string(call), kind::redirect, ""}));
  CHECK_FALSE(proto::request_problem(
      proto::call_update_request{std::string(call), kind::redirect, std::string(proto::max_twiml_bytes, 'x')}));
  CHECK(proto::request_problem(
      proto::call_update_request{std::string(call), kind::redirect, std::string(proto::max_twiml_bytes + 1, 'x')}));
  CHECK_FALSE(proto::request_problem(proto::outbound_call_request{"+1", "+2", "https://x/voice", ""}));
  CHECK(*proto::request_problem(proto::outbound_call_request{"", "+2", "https://x/voice", ""}) == "To is empty");
  CHECK(*proto::request_problem(proto::outbound_call_request{"+1", "+2", "", ""}) == "Url is empty");
  CHECK(*proto::request_problem(proto::outbound_call_request{"+1\r\n", "+2", "https://x", ""}) ==
        "To holds control characters");
  CHECK(proto::request_problem(proto::outbound_call_request{"+1", "+2", std::string(2049, 'u'), ""}));
}

TEST_CASE("a call resource and a Twilio error are parsed", "[twilio_rest]") {
  const auto resource = proto::parse_call_resource(
      R"({"sid":"CAfedcba9876543210fedcba9876543210","status":"queued","to":"+1555"})");
  REQUIRE(resource);
  CHECK(resource->sid == call);
  CHECK(resource->status == "queued");
  CHECK_FALSE(proto::parse_call_resource(R"({"sid":"CA../x","status":"queued"})"));
  CHECK_FALSE(proto::parse_call_resource("[]"));
  CHECK_FALSE(proto::parse_call_resource("{"));

  const auto error = proto::parse_rest_error(
      R"({"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404})");
  REQUIRE(error);
  CHECK(error->code == 20404);
  CHECK(error->status == 404);
  CHECK(error->message == "The requested resource was not found");
  CHECK(error->more_info == "https://www.twilio.com/docs/errors/20404");
  CHECK_FALSE(proto::parse_rest_error(R"({"message":"no code"})"));
  CHECK_FALSE(proto::parse_rest_error(std::string(70 * 1024, ' ')));  // bounded
}

TEST_CASE("a failure is described without the request and with control characters escaped", "[twilio_rest]") {
  auto not_found = response(404);
  not_found.body = R"({"code":20404,"message":"not\nfound","status":404})";
  CHECK(proto::describe_failure(not_found) == "HTTP 404 (Twilio error 20404: not\\nfound)");
  CHECK(proto::describe_failure(response(502)) == "HTTP 502");
  CHECK(proto::describe_failure(transport_failure(false)) == "connect 127.0.0.1:1: Connection refused");
}

TEST_CASE("retry policy: what may be sent again without acting twice", "[twilio_rest]") {
  const proto::retry_policy policy{2, 200, 2000};
  SECTION("success and client errors are final") {
    CHECK_FALSE(proto::decide_retry(policy, response(200), true, 1).retry);
    CHECK_FALSE(proto::decide_retry(policy, response(201), false, 1).retry);
    for (int status : {400, 401, 403, 404, 409})
      CHECK_FALSE(proto::decide_retry(policy, response(status), true, 1).retry);
  }
  SECTION("nothing was sent: always") {
    CHECK(proto::decide_retry(policy, transport_failure(false), false, 1).retry);
    CHECK(proto::decide_retry(policy, transport_failure(false), true, 1).retry);
  }
  SECTION("429 and 503 say Twilio did not act: always") {
    for (bool idem : {true, false}) {
      CHECK(proto::decide_retry(policy, response(429), idem, 1).retry);
      CHECK(proto::decide_retry(policy, response(503), idem, 1).retry);
    }
  }
  SECTION("other 5xx: only idempotent requests") {
    for (int status : {500, 502, 504}) {
      CHECK(proto::decide_retry(policy, response(status), true, 1).retry);
      CHECK_FALSE(proto::decide_retry(policy, response(status), false, 1).retry);
    }
  }
  SECTION("a timeout after sending: only idempotent requests") {
    CHECK(proto::decide_retry(policy, transport_failure(true), true, 1).retry);
    CHECK_FALSE(proto::decide_retry(policy, transport_failure(true), false, 1).retry);
  }
  SECTION("bounded by the retries") {
    CHECK(proto::decide_retry(policy, response(503), true, 2).retry);
    CHECK_FALSE(proto::decide_retry(policy, response(503), true, 3).retry);
    CHECK_FALSE(proto::decide_retry({0, 200, 2000}, response(503), true, 1).retry);
  }
  SECTION("backoff doubles, is capped, and honours Retry-After up to the cap") {
    const proto::retry_policy many{10, 200, 2000};
    CHECK(proto::decide_retry(many, response(503), true, 1).delay_ms == 200);
    CHECK(proto::decide_retry(many, response(503), true, 2).delay_ms == 400);
    CHECK(proto::decide_retry(many, response(503), true, 3).delay_ms == 800);
    CHECK(proto::decide_retry(many, response(503), true, 5).delay_ms == 2000);
    auto limited = response(429);
    limited.retry_after_ms = 1000;
    CHECK(proto::decide_retry(many, limited, true, 1).delay_ms == 1000);
    limited.retry_after_ms = 60000;
    CHECK(proto::decide_retry(many, limited, true, 1).delay_ms == 2000);
  }
}

TEST_CASE("Retry-After in whole seconds, capped", "[twilio_rest]") {
  CHECK(proto::retry_after_ms("3") == 3000);
  CHECK(proto::retry_after_ms("600") == 60000);
  CHECK(proto::retry_after_ms("") == 0);
  CHECK(proto::retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT") == 0);
  CHECK(proto::retry_after_ms("-1") == 0);
}
