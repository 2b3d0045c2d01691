#include <catch2/catch.hpp>

#include "campaign/csv.hpp"

using namespace mb::campaign;

namespace {

parsed_csv parse_ok(std::string_view csv, std::size_t max_rows = 100) {
  auto out = parse_campaign_csv(csv, max_rows);
  if (const auto* e = std::get_if<csv_error>(&out)) FAIL(e->message);
  return std::get<parsed_csv>(std::move(out));
}

std::string parse_error(std::string_view csv, std::size_t max_rows = 100) {
  auto out = parse_campaign_csv(csv, max_rows);
  REQUIRE(std::holds_alternative<csv_error>(out));
  return std::get<csv_error>(out).message;
}

}  // namespace

TEST_CASE("campaign CSV: header names the number and variables, rows keep their line numbers", "[campaign]") {
  const auto p = parse_ok("name,number,city\r\nAnn,+15551230001,Paris\r\n\r\n\"Smith, Bob\",+15551230002,\"Rome \"\"old\"\"\"\r\n");
  REQUIRE(p.rejected.empty());
  REQUIRE(p.rows.size() == 2);
  CHECK(p.rows[0].line == 2);
  CHECK(p.rows[0].number == "+15551230001");
  CHECK(p.rows[0].variables == call_variables{{"name", "Ann"}, {"city", "Paris"}});
  CHECK(p.rows[1].line == 4);
  CHECK(p.rows[1].variables == call_variables{{"name", "Smith, Bob"}, {"city", "Rome \"old\""}});
}

TEST_CASE("campaign CSV: each bad row is reported with its line and reason, the others kept", "[campaign]") {
  const auto p = parse_ok(
      "number,name\n"
      "+15551230001,Ann\n"          // 2
      "5551230002,Bob\n"            // 3: not E.164
      "+15551230003\n"              // 4: a field short
      "+15551230004,\"multi\nline\"\n"  // 5-6: a line break inside quotes is a control character in a value
      "+1555123000\"5,Eve\n"        // 7: a quote inside an unquoted field
      "sip:agent@example.com,Sip\n"  // 8
      "+15551230009,\"Zed\"x\n"     // 9: text after a closing quote
      "+15551230010,Last\n");       // 10
  REQUIRE(p.rows.size() == 3);
  CHECK(p.rows[0].line == 2);
  CHECK(p.rows[1].line == 8);
  CHECK(p.rows[1].number == "sip:agent@example.com");
  CHECK(p.rows[2].line == 10);
  REQUIRE(p.rejected.size() == 5);
  CHECK(p.rejected[0].line == 3);
  CHECK_THAT(p.rejected[0].error, Catch::Contains("E.164"));
  CHECK(p.rejected[1].line == 4);
  CHECK(p.rejected[1].error == "expected 2 fields, found 1");
  CHECK(p.rejected[2].line == 5);
  CHECK_THAT(p.rejected[2].error, Catch::Contains("control character"));
  CHECK(p.rejected[3].line == 7);
  CHECK(p.rejected[3].error == "a quote inside an unquoted field");
  CHECK(p.rejected[4].line == 9);
  CHECK(p.rejected[4].error == "text after a closing quote");
}

TEST_CASE("campaign CSV: an unclosed quote rejects its row and consumes the rest", "[campaign]") {
  const auto p = parse_ok("number,name\n+15551230001,\"Ann\n+15551230002,Bob\n");
  CHECK(p.rows.empty());
  REQUIRE(p.rejected.size() == 1);
  CHECK(p.rejected[0].line == 2);
  CHECK(p.rejected[0].error == "a quoted field is not closed");
}

TEST_CASE("campaign CSV: problems of the whole CSV reject it", "[campaign]") {
  CHECK_THAT(parse_error("\n\n"), Catch::Contains("empty"));
  CHECK_THAT(parse_error("phone,name\n+15551230001,Ann\n"), Catch::Contains("no 'number' column"));
  CHECK_THAT(parse_error("number,na me\n"), Catch::Contains("template names"));
  CHECK_THAT(parse_error("number,a,a\n"), Catch::Contains("'a' is named twice"));
  std::string wide = "number";
  for (int i = 0; i < 21; ++i) wide += ",v" + std::to_string(i);
  CHECK_THAT(parse_error(wide), Catch::Contains("at most 21 columns"));
  // Bad rows count against the bound too: a CSV of garbage cannot be made arbitrarily long.
  CHECK_THAT(parse_error("number\n+15551230001\nbad\n+15551230003\n", 2), Catch::Contains("more than 2 rows"));
  CHECK(parse_ok("number\n+15551230001\nbad\n", 2).rows.size() == 1);
}

TEST_CASE("outbound destinations: E.164 or sip:, bounded", "[campaign]") {
  CHECK_FALSE(destination_problem("+15551230000"));
  CHECK_FALSE(destination_problem("+4930123456"));
  CHECK_FALSE(destination_problem("sip:alice@pbx.example.com;transport=tls"));
  CHECK(destination_problem(""));
  CHECK(destination_problem("+0555123000"));
  CHECK(destination_problem("+1234567"));          // 7 digits
  CHECK(destination_problem("+1234567890123456"));  // 16 digits
  CHECK(destination_problem("+1555 123 0000"));
  CHECK(destination_problem("sip:@host"));
  CHECK(destination_problem("sip:alice@"));
  CHECK(destination_problem("sip:al ice@host"));
  CHECK(destination_problem("sip:<alice@host>"));
  CHECK(destination_problem("sip:a@" + std::string(260, 'h')));
}

TEST_CASE("outbound variables: template names, bounded count and size, no control characters", "[campaign]") {
  CHECK_FALSE(variables_problem({{"name", "Ann"}, {"order.id", "A-1"}}));
  CHECK(variables_problem({{"na me", "Ann"}}));
  CHECK(variables_problem({{"", "Ann"}}));
  CHECK(variables_problem({{"name", std::string(max_variable_value_bytes + 1, 'x')}}));
  CHECK_FALSE(variables_problem({{"name", std::string(max_variable_value_bytes, 'x')}}));
  CHECK(variables_problem({{"name", "a\nb"}}));
  CHECK(variables_problem({{"name", "a"}, {"name", "b"}}));
  call_variables many;
  for (std::size_t i = 0; i <= max_variables; ++i) many.emplace_back("v" + std::to_string(i), "x");
  CHECK(variables_problem(many));
  many.pop_back();
  CHECK_FALSE(variables_problem(many));
}

TEST_CASE("outbound variables travel in the voice webhook's query, form-encoded", "[campaign]") {
  CHECK(voice_webhook_query("sales", {{"name", "Ann Lee"}, {"note", "a&b=c/é"}}) ==
        "agent=sales&var.name=Ann%20Lee&var.note=a%26b%3Dc%2F%C3%A9");
  CHECK(voice_webhook_query("", {{"x.y", "1"}}) == "var.x.y=1");
  CHECK(voice_webhook_query("sales", {}) == "agent=sales");
}
