#include "probe/aggregates.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <cstdio>

namespace mb::probe {
namespace {

constexpr std::int64_t hour_ms = 3600 * 1000;
constexpr std::int64_t day_ms = 24 * hour_ms;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Groups `runs` by a key and summarises each group, in ascending key order.
template <class Key, class KeyOf>
std::vector<std::pair<Key, run_summary>> summarise_by(std::span<const probe_run* const> runs, KeyOf key_of) {
  std::map<Key, std::vector<const probe_run*>> groups;
  for (const auto* r : runs) groups[key_of(*r)].push_back(r);
  std::vector<std::pair<Key, run_summary>> out;
  out.reserve(groups.size());
  for (const auto& [key, members] : groups) out.emplace_back(key, summarise(members));
  return out;
}

}  // namespace

double nearest_rank(std::span<const double> sorted, double p) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::optional<percentiles> percentiles_of(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return percentiles{nearest_rank(values, 50), nearest_rank(values, 95), nearest_rank(values, 99), values.size()};
}

run_summary summarise(std::span<const probe_run* const> runs) {
  run_summary s;
  s.runs = runs.size();
  for (const auto* r : runs) ++s.errors[static_cast<std::size_t>(r->error)];
  if (s.runs > 0)
    s.error_rate = static_cast<double>(s.runs - s.errors_of(error_kind::none)) / static_cast<double>(s.runs);
  for (std::size_t i = 0; i < stage_count; ++i) {
    std::vector<double> values;
    for (const auto* r : runs)
      if (const auto v = r->stages[i]) values.push_back(*v);
    s.stages[i] = percentiles_of(std::move(values));
  }
  return s;
}

std::optional<window> window_from_string(std::string_view name) noexcept {
  if (name == "24h") return window::day;
  if (name == "7d") return window::week;
  return std::nullopt;
}

std::int64_t window_ms(window w) noexcept { return w == window::day ? day_ms : 7 * day_ms; }
std::int64_t bucket_ms(window w) noexcept { return w == window::day ? hour_ms : 6 * hour_ms; }

std::string utc_day(std::int64_t unix_ms) {
  const std::chrono::sys_days days{std::chrono::days{floor_div(unix_ms, day_ms)}};
  const std::chrono::year_month_day ymd{days};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

int utc_hour(std::int64_t unix_ms) noexcept {
  return static_cast<int>(floor_div(unix_ms - floor_div(unix_ms, day_ms) * day_ms, hour_ms));
}

std::vector<aggregate> aggregate_runs(std::span<const probe_run> runs, std::int64_t now_ms, window w) {
  const std::int64_t since = now_ms - window_ms(w);
  std::map<std::pair<std::string, std::string>, std::vector<const probe_run*>> by_profile;
  for (const auto& r : runs)
    if (r.started_at_ms > since && r.started_at_ms <= now_ms) by_profile[{r.provider, r.agent}].push_back(&r);
  std::vector<aggregate> out;
  out.reserve(by_profile.size());
  const std::int64_t bucket = bucket_ms(w);
  for (const auto& [profile, members] : by_profile) {
    aggregate a{profile.first, profile.second, summarise(members), {}, {}, {}};
    for (auto& [start, summary] : summarise_by<std::int64_t>(
             members, [bucket](const probe_run& r) { return floor_div(r.started_at_ms, bucket) * bucket; }))
      a.series.push_back({start, std::move(summary)});
    for (auto& [hour, summary] :
         summarise_by<int>(members, [](const probe_run& r) { return utc_hour(r.started_at_ms); }))
      a.by_hour.push_back({hour, std::move(summary)});
    // "YYYY-MM-DD" strings sort in date order.
    for (auto& [day, summary] :
         summarise_by<std::string>(members, [](const probe_run& r) { return utc_day(r.started_at_ms); }))
      a.by_day.push_back({std::move(day), std::move(summary)});
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace mb::probe
