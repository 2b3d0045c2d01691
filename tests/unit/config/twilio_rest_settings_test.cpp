#include "config/settings.hpp"

#include <catch2/catch.hpp>

namespace cfg = mb::config;

namespace {

std::optional<cfg::load_error> problem_with(const std::string& variable, const std::string& value) {
  return cfg::load({}, {{variable, value}}).error;
}

}  // namespace

TEST_CASE("TWILIO_API_BASE_URL: https anywhere, http only to loopback, no query", "[config][twilio_rest]") {
  for (const char* url : {"https://api.twilio.com", "https://api.twilio.com/", "http://127.0.0.1:8766",
                          "http://localhost:9000", "http://[::1]:1"}) {
    INFO(url);
    CHECK_FALSE(problem_with("TWILIO_API_BASE_URL", url));
  }
  for (const char* url : {"http://api.twilio.com", "http://10.0.0.1:80", "ftp://api.twilio.com",
                          "https://api.twilio.com?x=1", "https://api.twilio.com/#f",
                          "https://AC1:token@api.twilio.com", "api.twilio.com", ""}) {
    INFO(url);
    const auto error = problem_with("TWILIO_API_BASE_URL", url);
    REQUIRE(error);
    CHECK(error->variable == "TWILIO_API_BASE_URL");
    CHECK(error->problem.find("token") == std::string::npos);
  }
}

TEST_CASE("TWILIO_ACCOUNT_SID and TWILIO_API_KEY_SID must be well-formed SIDs when set", "[config][twilio_rest]") {
  CHECK_FALSE(problem_with("TWILIO_ACCOUNT_SID", ""));
  CHECK_FALSE(problem_with("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"));
  CHECK(problem_with("TWILIO_ACCOUNT_SID", "AC123")->variable == "TWILIO_ACCOUNT_SID");
  CHECK(problem_with("TWILIO_ACCOUNT_SID", "SK0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(problem_with("TWILIO_API_KEY_SID", "SK0123456789abcdef0123456789abcdef"));
  CHECK(problem_with("TWILIO_API_KEY_SID", "AC0123456789abcdef0123456789abcdef")->variable == "TWILIO_API_KEY_SID");
}
