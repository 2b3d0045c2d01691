#include "protocol/webhook_signature.hpp"

#include <catch2/catch.hpp>

namespace proto = mb::protocol;
using proto::webhook_check;

namespace {
// The vector in docs/tools.md, computed independently with Python's hmac module.
constexpr std::string_view secret = "whsec-test-secret";
constexpr std::string_view body = R"({"tool":"lookup_order","arguments":{"order":"42"}})";
constexpr std::int64_t sent_at = 1765000000;
constexpr std::string_view expected =
    "t=1765000000,v1=2b7c2be87a1bc97385d9763b299167aa30460a5b1cfc14af247cea7ee4199112";
}  // namespace

TEST_CASE("a webhook is signed as the documented test vector says", "[webhook_signature]") {
  CHECK(proto::sign_webhook(secret, sent_at, body) == expected);
}

TEST_CASE("a JSON webhook's headers: the signature only with a secret", "[webhook_signature]") {
  using headers = std::vector<std::pair<std::string, std::string>>;
  CHECK(proto::json_webhook_headers(secret, sent_at, body) ==
        headers{{"Content-Type", "application/json"}, {"X-Mediabridge-Signature", std::string(expected)}});
  CHECK(proto::json_webhook_headers("", sent_at, body) == headers{{"Content-Type", "application/json"}});
}

TEST_CASE("a receiver accepts the signature within the tolerance, either way", "[webhook_signature]") {
  CHECK(proto::check_webhook_signature(secret, expected, body, sent_at) == webhook_check::valid);
  CHECK(proto::check_webhook_signature(secret, expected, body, sent_at + 300) == webhook_check::valid);
  CHECK(proto::check_webhook_signature(secret, expected, body, sent_at - 300) == webhook_check::valid);
  CHECK(proto::check_webhook_signature(secret, expected, body, sent_at + 301) == webhook_check::stale);
  CHECK(proto::check_webhook_signature(secret, expected, body, sent_at - 301) == webhook_check::stale);
}

TEST_CASE("a changed body, secret or signature is refused", "[webhook_signature]") {
  CHECK(proto::check_webhook_signature(secret, expected, std::string(body) + " ", sent_at) ==
        webhook_check::bad_signature);
  CHECK(proto::check_webhook_signature("other", expected, body, sent_at) == webhook_check::bad_signature);
  CHECK(proto::check_webhook_signature("", expected, body, sent_at) == webhook_check::bad_signature);
  auto tampered = std::string(expected);
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  CHECK(proto::check_webhook_signature(secret, tampered, body, sent_at) == webhook_check::bad_signature);
  // The timestamp is signed: moving it breaks the signature even inside the tolerance.
  auto moved = std::string(expected);
  moved[11] = moved[11] == '1' ? '2' : '1';
  CHECK(proto::check_webhook_signature(secret, moved, body, sent_at) == webhook_check::bad_signature);
}

TEST_CASE("a malformed header is named as such", "[webhook_signature]") {
  for (std::string_view header : {"", "v1=abc", "t=,v1=abc", "t=12x,v1=abc", "t=1765000000", "t=1765000000;v1=ab"}) {
    CAPTURE(header);
    CHECK(proto::check_webhook_signature(secret, header, body, sent_at) == webhook_check::malformed);
  }
}
