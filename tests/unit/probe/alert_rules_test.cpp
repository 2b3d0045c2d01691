#include <catch2/catch.hpp>

#include "probe/alert_rules.hpp"

using namespace mb::probe;

namespace {

std::vector<alert_rule> rules_of(std::string_view text) {
  auto parsed = parse_alert_rules(text);
  if (const auto* problem = std::get_if<std::string>(&parsed)) FAIL(*problem);
  return std::get<std::vector<alert_rule>>(std::move(parsed));
}

std::string problem_of(std::string_view text) {
  const auto parsed = parse_alert_rules(text);
  const auto* problem = std::get_if<std::string>(&parsed);
  return problem ? *problem : std::string("(accepted)");
}

probe_run run(std::int64_t at_ms, double first_audio, error_kind error = error_kind::none,
              std::string agent = "default") {
  probe_run r{"openai-realtime", std::move(agent), at_ms, error, {}, {}};
  r.set(stage::first_audio, first_audio);
  return r;
}

constexpr std::int64_t minute_ms = 60000;

}  // namespace

TEST_CASE("alert rules parse: percentile and error rate rules, spaces and the default", "[probe]") {
  const auto rules = rules_of(" first_audio.p95>1500 , error_rate>0.2,connect.p99>300.5");
  REQUIRE(rules.size() == 3);
  CHECK(rules[0].what == alert_rule::kind::stage_percentile);
  CHECK(rules[0].on == stage::first_audio);
  CHECK(rules[0].percentile == 95);
  CHECK(rules[0].threshold == 1500);
  CHECK(rules[0].text == "first_audio.p95>1500");
  CHECK(rules[1].what == alert_rule::kind::error_rate);
  CHECK(rules[1].threshold == Approx(0.2));
  CHECK(rules[2].on == stage::connect);
  CHECK(rules[2].percentile == 99);
  CHECK(rules[2].threshold == 300.5);
  CHECK(rules_of("").empty());
  CHECK(rules_of("  ").empty());
}

TEST_CASE("bad alert rules are refused with a sentence naming the rule and the problem", "[probe]") {
  CHECK_THAT(problem_of("first_audoi.p95>1500"), Catch::Contains("unknown stage \"first_audoi\""));
  CHECK_THAT(problem_of("first_audio.p90>1500"), Catch::Contains("unknown percentile \"p90\""));
  CHECK_THAT(problem_of("first_audio.p95<1500"), Catch::Contains("first_audio.p95<1500"));
  CHECK_THAT(problem_of("first_audio.p95>fast"), Catch::Contains("number of ms"));
  CHECK_THAT(problem_of("first_audio.p95>-1"), Catch::Contains("number of ms"));
  CHECK_THAT(problem_of("error_rate>1.5"), Catch::Contains("fraction"));
  CHECK_THAT(problem_of("latency>3"), Catch::Contains("unknown metric"));
  CHECK_THAT(problem_of("error_rate>0.2,,connect.p95>1"), Catch::Contains("empty rule"));
  CHECK_THAT(problem_of("error_rate>0.2,error_rate>0.2"), Catch::Contains("twice"));
}

TEST_CASE("a p95 rule fires once when crossed, stays quiet while above, recovers once", "[probe]") {
  alert_evaluator eval(rules_of("first_audio.p95>1000"), 10 * minute_ms, 3);
  std::int64_t t = 1'000'000'000;
  // Fewer than 3 runs: no decision, however slow.
  CHECK(eval.on_run(run(t, 5000), t).empty());
  t += minute_ms;
  CHECK(eval.on_run(run(t, 5000), t).empty());
  t += minute_ms;
  const auto fired = eval.on_run(run(t, 5000), t);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].firing);
  CHECK(fired[0].rule == "first_audio.p95>1000");
  CHECK(fired[0].value == 5000);
  CHECK(fired[0].threshold == 1000);
  CHECK(fired[0].at_ms == t);
  CHECK(fired[0].provider == "openai-realtime");
  CHECK(fired[0].agent == "default");
  for (int i = 0; i < 5; ++i) {
    t += minute_ms;
    CHECK(eval.on_run(run(t, 4000), t).empty());  // still above: no storm
  }
  // Fast runs: the slow ones leave the 10 minute window one by one; back below once the p95 is fast.
  std::vector<alert_transition> recovered;
  int fast_runs = 0;
  while (recovered.empty() && fast_runs < 20) {
    t += minute_ms;
    ++fast_runs;
    recovered = eval.on_run(run(t, 200), t);
  }
  REQUIRE(recovered.size() == 1);
  CHECK_FALSE(recovered[0].firing);
  CHECK(recovered[0].value == 200);
  CHECK(fast_runs == 10);  // the last slow run (7 minutes in) leaves the window after 10 more minutes
  t += minute_ms;
  CHECK(eval.on_run(run(t, 200), t).empty());
}

TEST_CASE("an error rate rule is per profile and transitions once each way", "[probe]") {
  alert_evaluator eval(rules_of("error_rate>0.5"), 10 * minute_ms, 3);
  std::int64_t t = 5'000'000'000;
  for (int i = 0; i < 3; ++i, t += 1000) CHECK(eval.on_run(run(t, 100), t).empty());
  // The sales profile fails: default's state is its own.
  for (int i = 0; i < 2; ++i, t += 1000) CHECK(eval.on_run(run(t, 100, error_kind::timeout, "sales"), t).empty());
  const auto fired = eval.on_run(run(t, 100, error_kind::auth, "sales"), t);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].agent == "sales");
  CHECK(fired[0].value == 1.0);
  t += 1000;
  CHECK(eval.on_run(run(t, 100), t).empty());
  CHECK(eval.on_run(run(t, 100, error_kind::timeout, "sales"), t).empty());
  // 4 failures of 7 runs is still above 0.5, 4 of 8 is not.
  t += 1000;
  CHECK(eval.on_run(run(t, 100, error_kind::none, "sales"), t).empty());
  t += 1000;
  CHECK(eval.on_run(run(t, 100, error_kind::none, "sales"), t).empty());
  t += 1000;
  CHECK(eval.on_run(run(t, 100, error_kind::none, "sales"), t).empty());
  t += 1000;
  const auto recovered = eval.on_run(run(t, 100, error_kind::none, "sales"), t);
  REQUIRE(recovered.size() == 1);
  CHECK_FALSE(recovered[0].firing);
  CHECK(recovered[0].value == 0.5);
}
