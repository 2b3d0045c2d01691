#include "protocol/form.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace mb::protocol;

TEST_CASE("form: a Twilio webhook body", "[protocol]") {
  const auto fields = parse_form("CallSid=CA123&From=%2B15551234567&To=%2B15557654321&Body=It%27s+amazing");
  REQUIRE(fields);
  const form_fields expected{
      {"CallSid", "CA123"}, {"From", "+15551234567"}, {"To", "+15557654321"}, {"Body", "It's amazing"}};
  CHECK(*fields == expected);
  CHECK(form_value(*fields, "From") == "+15551234567");
  CHECK(form_value(*fields, "Body") == "It's amazing");
}

TEST_CASE("form: empty body has no fields", "[protocol]") {
  const auto fields = parse_form("");
  REQUIRE(fields);
  CHECK(fields->empty());
  CHECK(form_value(*fields, "CallSid").empty());
}

TEST_CASE("form: repeated names keep every value in order", "[protocol]") {
  const auto fields = parse_form("Digits=5678&Sid=CA1&Digits=1234&Digits=5678");
  REQUIRE(fields);
  const form_fields expected{{"Digits", "5678"}, {"Sid", "CA1"}, {"Digits", "1234"}, {"Digits", "5678"}};
  CHECK(*fields == expected);
  CHECK(form_value(*fields, "Digits") == "5678");
}

TEST_CASE("form: fields without a value and empty fields", "[protocol]") {
  auto fields = parse_form("a=&b");
  REQUIRE(fields);
  CHECK(*fields == form_fields{{"a", ""}, {"b", ""}});

  fields = parse_form("a=1&&b=2&");
  REQUIRE(fields);
  CHECK(*fields == form_fields{{"a", "1"}, {"b", "2"}});

  fields = parse_form("=x&a=b=c");
  REQUIRE(fields);
  CHECK(*fields == form_fields{{"", "x"}, {"a", "b=c"}});
}

TEST_CASE("form: plus and percent decoding in names and values", "[protocol]") {
  const auto fields = parse_form("first+name=Ada+Lovelace&sym=%2B%26%3D%25%2F&lower=%c3%a9&nul=a%00b");
  REQUIRE(fields);
  REQUIRE(fields->size() == 4);
  CHECK((*fields)[0] == std::pair<std::string, std::string>{"first name", "Ada Lovelace"});
  CHECK((*fields)[1].second == "+&=%/");
  CHECK((*fields)[2].second == "\xC3\xA9");
  CHECK((*fields)[3].second == std::string("a\0b", 3));
}

TEST_CASE("form: percent-encoded UTF-8", "[protocol]") {
  const auto fields = parse_form("Caller%C3%91ame=Zo%C3%AB+%E6%9D%B1%E4%BA%AC");
  REQUIRE(fields);
  REQUIRE(fields->size() == 1);
  CHECK((*fields)[0].first == "Caller\xC3\x91" "ame");
  CHECK((*fields)[0].second == "Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC");  // "Zoë 東京"
}

TEST_CASE("form: malformed input is rejected", "[protocol]") {
  CHECK_FALSE(parse_form("a=%"));
  CHECK_FALSE(parse_form("a=%4"));
  CHECK_FALSE(parse_form("a=%ZZ"));
  CHECK_FALSE(parse_form("a=%4G&b=1"));
  CHECK_FALSE(parse_form("%G0=1"));
  CHECK_FALSE(parse_form("a=1&b=%2"));
  // Characters a form encoder always escapes.
  CHECK_FALSE(parse_form("a=b c"));
  CHECK_FALSE(parse_form("a=Zo\xC3\xAB"));
  CHECK_FALSE(parse_form("a=\"x\""));
  CHECK_FALSE(parse_form("a=1#frag"));
}

TEST_CASE("form: form_value finds the first exact, case-sensitive match", "[protocol]") {
  const form_fields fields{{"To", "+1"}, {"to", "+2"}, {"To", "+3"}, {"Empty", ""}};
  CHECK(form_value(fields, "To") == "+1");
  CHECK(form_value(fields, "to") == "+2");
  CHECK(form_value(fields, "TO").empty());
  CHECK(form_value(fields, "Empty").empty());
  CHECK(form_value(fields, "T").empty());
}

TEST_CASE("form: a count parameter is a whole number within its range", "[protocol]") {
  CHECK(count_in_range("1", 1, 1000) == 1u);
  CHECK(count_in_range("1000", 1, 1000) == 1000u);
  CHECK_FALSE(count_in_range("0", 1, 1000));
  CHECK_FALSE(count_in_range("1001", 1, 1000));
  CHECK_FALSE(count_in_range("10x", 1, 1000));
  CHECK_FALSE(count_in_range("-1", 1, 1000));
  CHECK_FALSE(count_in_range("", 1, 1000));
  CHECK_FALSE(count_in_range("99999999999999999999999", 1, 1000));
}
