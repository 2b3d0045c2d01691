#include "probe/alert_rules.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "probe/aggregates.hpp"

namespace mb::probe {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(v) || v < 0) return std::nullopt;
  return v;
}

std::variant<alert_rule, std::string> parse_rule(std::string_view text) {
  const std::string quoted = "alert rule \"" + std::string(text) + "\": ";
  const auto gt = text.find('>');
  if (gt == std::string_view::npos)
    return quoted + "expected <stage>.p95>ms or error_rate>fraction (a '>' and a threshold)";
  const auto metric = trim(text.substr(0, gt));
  const auto threshold = parse_number(trim(text.substr(gt + 1)));
  alert_rule rule;
  rule.text = std::string(text);
  if (metric == "error_rate") {
    if (!threshold || *threshold >= 1) return quoted + "the error rate threshold must be a fraction in 0..1 (below 1)";
    rule.threshold = *threshold;
    return rule;
  }
  const auto dot = metric.rfind('.');
  if (dot == std::string_view::npos) return quoted + "unknown metric (expected <stage>.p50|p95|p99 or error_rate)";
  const auto stage_name = metric.substr(0, dot);
  const auto s = stage_from_string(stage_name);
  if (!s) return quoted + "unknown stage \"" + std::string(stage_name) + "\" (docs/latency.md lists the stages)";
  const auto pct = metric.substr(dot + 1);
  if (pct != "p50" && pct != "p95" && pct != "p99")
    return quoted + "unknown percentile \"" + std::string(pct) + "\" (p50, p95 or p99)";
  if (!threshold) return quoted + "the threshold must be a number of ms, 0 or more";
  rule.what = alert_rule::kind::stage_percentile;
  rule.on = *s;
  rule.percentile = pct == "p50" ? 50 : pct == "p95" ? 95 : 99;
  rule.threshold = *threshold;
  return rule;
}

}  // namespace

std::variant<std::vector<alert_rule>, std::string> parse_alert_rules(std::string_view text) {
  std::vector<alert_rule> rules;
  if (trim(text).empty()) return rules;
  for (std::size_t start = 0; start <= text.size();) {
    const auto comma = std::min(text.find(',', start), text.size());
    const auto entry = trim(text.substr(start, comma - start));
    if (entry.empty()) return std::string("alert rules: an empty rule between commas");
    auto parsed = parse_rule(entry);
    if (auto* problem = std::get_if<std::string>(&parsed)) return std::move(*problem);
    auto& rule = std::get<alert_rule>(parsed);
    if (std::any_of(rules.begin(), rules.end(), [&](const alert_rule& r) { return r.text == rule.text; }))
      return "alert rule \"" + rule.text + "\" is given twice";
    rules.push_back(std::move(rule));
    start = comma + 1;
  }
  return rules;
}

alert_evaluator::alert_evaluator(std::vector<alert_rule> rules, std::int64_t window_ms, std::size_t min_runs)
    : rules_(std::move(rules)), window_ms_(window_ms), min_runs_(std::max<std::size_t>(1, min_runs)) {}

std::vector<alert_transition> alert_evaluator::on_run(const probe_run& run, std::int64_t now_ms) {
  auto& profile = profiles_[{run.provider, run.agent}];
  if (profile.firing.size() != rules_.size()) profile.firing.assign(rules_.size(), false);
  profile.runs.push_back(run);
  const auto since = now_ms - window_ms_;
  while (!profile.runs.empty() &&
         (profile.runs.front().started_at_ms <= since || profile.runs.size() > max_runs_per_profile))
    profile.runs.pop_front();

  std::vector<alert_transition> out;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const auto& rule = rules_[i];
    std::optional<double> value;
    if (rule.what == alert_rule::kind::error_rate) {
      if (profile.runs.size() >= min_runs_) {
        const auto failed = std::count_if(profile.runs.begin(), profile.runs.end(),
                                          [](const probe_run& r) { return !r.ok(); });
        value = static_cast<double>(failed) / static_cast<double>(profile.runs.size());
      }
    } else {
      std::vector<double> measured;
      for (const auto& r : profile.runs)
        if (const auto v = r.at(rule.on)) measured.push_back(*v);
      if (measured.size() >= min_runs_) {
        std::sort(measured.begin(), measured.end());
        value = nearest_rank(measured, rule.percentile);
      }
    }
    if (!value) continue;
    const bool above = *value > rule.threshold;
    if (above == profile.firing[i]) continue;
    profile.firing[i] = above;
    out.push_back({run.provider, run.agent, rule.text, above, *value, rule.threshold, now_ms});
  }
  return out;
}

}  // namespace mb::probe
