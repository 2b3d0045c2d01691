#include "protocol/standard_webhook.hpp"

#include <catch2/catch.hpp>

namespace proto = mb::protocol;
using proto::standard_webhook_check;

namespace {

// V1: OpenAI's SDK test vector; V2: the Standard Webhooks library's (docs/protocols.md J1).
struct vector_case {
  std::string_view secret;
  std::string_view id;
  std::string_view timestamp;
  std::int64_t sent_at;
  std::string_view body;
  std::string_view signature;
};
constexpr vector_case openai_vector{
    "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=",
    "wh_685c059ae39c8190af8c71ed1022a24d",
    "1750861210",
    1750861210,
    R"({"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}})",
    "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY="};
constexpr vector_case standard_vector{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                      "1614265330", 1614265330, R"({"test": 2432232314})",
                                      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="};

standard_webhook_check check(const vector_case& v, std::string_view signature, std::int64_t now,
                             std::string_view body) {
  const auto key = proto::standard_webhook_key(v.secret);
  REQUIRE(key);
  return proto::check_standard_webhook(*key, {v.id, v.timestamp, signature}, body, now);
}
standard_webhook_check check(const vector_case& v, std::string_view signature, std::int64_t now) {
  return check(v, signature, now, v.body);
}

}  // namespace

TEST_CASE("both published test vectors sign and verify", "[standard_webhook]") {
  for (const auto& v : {openai_vector, standard_vector}) {
    const auto key = proto::standard_webhook_key(v.secret);
    REQUIRE(key);
    CHECK(proto::sign_standard_webhook(*key, v.id, v.timestamp, v.body) == v.signature);
    CHECK(check(v, v.signature, v.sent_at) == standard_webhook_check::valid);
  }
}

TEST_CASE("the tolerance is 300 s either way, inclusive", "[standard_webhook]") {
  const auto& v = openai_vector;
  CHECK(check(v, v.signature, v.sent_at + 300) == standard_webhook_check::valid);
  CHECK(check(v, v.signature, v.sent_at - 300) == standard_webhook_check::valid);
  CHECK(check(v, v.signature, v.sent_at + 301) == standard_webhook_check::too_old);
  CHECK(check(v, v.signature, v.sent_at - 301) == standard_webhook_check::too_new);
}

TEST_CASE("any one of several space-separated signatures may match", "[standard_webhook]") {
  const auto& v = standard_vector;
  const std::string wrong = "v1,Zm9yZ2VkIHNpZ25hdHVyZSBvZiB0aGUgcmlnaHQgc2l6ZSE=";
  CHECK(check(v, wrong + " " + std::string(v.signature), v.sent_at) == standard_webhook_check::valid);
  CHECK(check(v, std::string(v.signature) + " " + wrong, v.sent_at) == standard_webhook_check::valid);
  CHECK(check(v, "v1a,c29tZSBlZDI1NTE5IHNpZ25hdHVyZQ== " + std::string(v.signature), v.sent_at) ==
        standard_webhook_check::valid);
  CHECK(check(v, wrong + " " + wrong, v.sent_at) == standard_webhook_check::no_match);
  // A bare signature, without its "v1," scheme, as OpenAI's SDK accepts.
  CHECK(check(v, v.signature.substr(3), v.sent_at) == standard_webhook_check::valid);
}

TEST_CASE("a changed body, id, timestamp or key is refused", "[standard_webhook]") {
  const auto& v = openai_vector;
  const auto key = proto::standard_webhook_key(v.secret);
  REQUIRE(key);
  CHECK(check(v, v.signature, v.sent_at, std::string(v.body) + " ") == standard_webhook_check::no_match);
  CHECK(proto::check_standard_webhook(*key, {"wh_other", v.timestamp, v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::no_match);
  // A timestamp that means the same number but is written differently signs other text.
  CHECK(proto::check_standard_webhook(*key, {v.id, "01750861210", v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::no_match);
  const auto other = proto::standard_webhook_key(standard_vector.secret);
  REQUIRE(other);
  CHECK(proto::check_standard_webhook(*other, {v.id, v.timestamp, v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::no_match);
  // Signed by the right key, but the signature was forged for a clock far away: no match decides first.
  CHECK(check(v, "v1,AAAA", v.sent_at + 100000) == standard_webhook_check::no_match);
}

TEST_CASE("missing headers, a bad timestamp and bad secrets are told apart", "[standard_webhook]") {
  const auto& v = openai_vector;
  const auto key = proto::standard_webhook_key(v.secret);
  REQUIRE(key);
  CHECK(proto::check_standard_webhook(*key, {"", v.timestamp, v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::missing_header);
  CHECK(proto::check_standard_webhook(*key, {v.id, "", v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::missing_header);
  CHECK(proto::check_standard_webhook(*key, {v.id, v.timestamp, ""}, v.body, v.sent_at) ==
        standard_webhook_check::missing_header);
  CHECK(proto::check_standard_webhook(*key, {v.id, "17508612x0", v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::bad_timestamp);
  CHECK(proto::check_standard_webhook(*key, {v.id, "-", v.signature}, v.body, v.sent_at) ==
        standard_webhook_check::bad_timestamp);
  CHECK(proto::check_standard_webhook(*key, {v.id, v.timestamp, std::string(2000, 'A')}, v.body, v.sent_at) ==
        standard_webhook_check::no_match);
  CHECK_FALSE(proto::standard_webhook_key("RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="));  // no whsec_
  CHECK_FALSE(proto::standard_webhook_key("whsec_not base64!"));
  CHECK_FALSE(proto::standard_webhook_key("whsec_"));
}
