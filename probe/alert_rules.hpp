#pragma once
// Alert rules on probe runs (PROBE_ALERTS; docs/latency.md, "Storage, API and alerts") and their
// evaluation over a sliding window, one transition at a time.
//
// Syntax: rules separated by commas, spaces around them ignored. "<stage>.<percentile>>ms" with a stage
// name of probe_run.hpp and a percentile of p50, p95 or p99 (nearest-rank, probe/aggregates.hpp), e.g.
// first_audio.p95>1500; or "error_rate>fraction" with a fraction in 0..1, e.g. error_rate>0.2. A rule
// fires when its value is strictly above the threshold.
//
// No storms: per (provider, agent, rule) the evaluator remembers whether the rule fires, and reports
// only changes: "firing" when the value crosses above, "recovered" when it is back at or below. A rule
// decides only when the window holds at least `min_runs` runs of that profile (for a percentile rule:
// runs that measured the stage), so one slow or failed run on a quiet window alerts nobody; with fewer,
// its state stays as it was. The state is in memory: after a restart a rule still above fires again once.
//
// @par Thread Safety
// parse_alert_rules: pure. alert_evaluator: one thread at a time.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "probe/probe_run.hpp"

namespace mb::probe {

struct alert_rule {
  enum class kind { stage_percentile, error_rate };
  kind what = kind::error_rate;
  stage on = stage::first_audio;  // stage_percentile only
  double percentile = 95;         // stage_percentile only: 50, 95 or 99
  double threshold = 0;           // ms, or a fraction for error_rate
  std::string text;               // as written, without surrounding spaces: "first_audio.p95>1500"
};

// The rules, or a sentence saying which rule is wrong and why. An empty or blank text has no rules.
[[nodiscard]] std::variant<std::vector<alert_rule>, std::string> parse_alert_rules(std::string_view text);

struct alert_transition {
  std::string provider;
  std::string agent;
  std::string rule;  // alert_rule::text
  bool firing = false;  // false: recovered
  double value = 0;     // the rule's value over the window that crossed (ms, or a fraction)
  double threshold = 0;
  std::int64_t at_ms = 0;
};

class alert_evaluator {
 public:
  static constexpr std::size_t default_min_runs = 3;
  // Runs kept per profile, whatever the window: bounds memory with short intervals and long windows.
  static constexpr std::size_t max_runs_per_profile = 10000;

  alert_evaluator(std::vector<alert_rule> rules, std::int64_t window_ms, std::size_t min_runs = default_min_runs);

  // Adds `run` to its profile's window (runs started in (now - window, now]) and returns the rules of
  // that profile whose state changed, in rule order.
  std::vector<alert_transition> on_run(const probe_run& run, std::int64_t now_ms);

  [[nodiscard]] const std::vector<alert_rule>& rules() const noexcept { return rules_; }

 private:
  struct profile_state {
    std::deque<probe_run> runs;  // oldest first
    std::vector<bool> firing;    // per rule
  };

  std::vector<alert_rule> rules_;
  std::int64_t window_ms_;
  std::size_t min_runs_;
  std::map<std::pair<std::string, std::string>, profile_state> profiles_;  // by (provider, agent)
};

}  // namespace mb::probe
