#pragma once
// Aggregates over probe runs (docs/latency.md, "Storage, API and alerts"): per provider and agent, the
// run count, error rate, errors by kind and each stage's percentiles, overall, as a time series, by hour
// of day and by day (UTC).
//
// Percentiles are nearest-rank: of n values sorted ascending, pP is the value at rank ceil(P/100 * n)
// (1-based), so it is always one of the measured values; p50 of {1,2,3,4} is 2, p95 of 20 values is the
// 19th. A stage's percentiles use every run that measured it, failed runs included (a run that failed
// after connecting still measured its connection); error rates count every run.
//
// @par Thread Safety
// Pure functions.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probe/probe_run.hpp"

namespace mb::probe {

// The value at nearest rank ceil(p/100 * n) of `sorted` (ascending, not empty); p in (0, 100].
[[nodiscard]] double nearest_rank(std::span<const double> sorted, double p);

struct percentiles {
  double p50 = 0, p95 = 0, p99 = 0;
  std::size_t count = 0;  // values they were computed from
};
// nullopt when `values` is empty.
[[nodiscard]] std::optional<percentiles> percentiles_of(std::vector<double> values);

inline constexpr std::size_t error_kind_count = static_cast<std::size_t>(error_kind::protocol) + 1;

struct run_summary {
  std::size_t runs = 0;
  double error_rate = 0;                              // failed runs / runs; 0 without runs
  std::array<std::size_t, error_kind_count> errors{};  // indexed by error_kind (none: the successful runs)
  std::array<std::optional<percentiles>, stage_count> stages{};  // unset: no run measured the stage

  [[nodiscard]] std::size_t errors_of(error_kind e) const noexcept { return errors[static_cast<std::size_t>(e)]; }
  [[nodiscard]] const std::optional<percentiles>& at(stage s) const noexcept {
    return stages[static_cast<std::size_t>(s)];
  }
};
[[nodiscard]] run_summary summarise(std::span<const probe_run* const> runs);

// The windows GET /v1/probes serves: 24 h in 1 h buckets, 7 d in 6 h buckets.
enum class window { day, week };
[[nodiscard]] std::optional<window> window_from_string(std::string_view name) noexcept;  // "24h", "7d"
[[nodiscard]] std::int64_t window_ms(window w) noexcept;
[[nodiscard]] std::int64_t bucket_ms(window w) noexcept;

struct series_bucket {
  std::int64_t start_ms = 0;  // a multiple of bucket_ms since the epoch: buckets start on the UTC hour
  run_summary summary;
};
struct hour_bucket {
  int hour = 0;  // UTC, 0..23
  run_summary summary;
};
struct day_bucket {
  std::string day;  // UTC date, "YYYY-MM-DD"
  run_summary summary;
};

struct aggregate {
  std::string provider;
  std::string agent;
  run_summary total;
  std::vector<series_bucket> series;  // oldest first; buckets without runs are left out
  std::vector<hour_bucket> by_hour;   // ascending hour; hours without runs left out
  std::vector<day_bucket> by_day;     // oldest first; days without runs left out
};

// The runs started in (now - window, now], grouped by (provider, agent) in ascending order.
[[nodiscard]] std::vector<aggregate> aggregate_runs(std::span<const probe_run> runs, std::int64_t now_ms, window w);

// "YYYY-MM-DD" of a Unix time in ms, UTC.
[[nodiscard]] std::string utc_day(std::int64_t unix_ms);
// 0..23, UTC.
[[nodiscard]] int utc_hour(std::int64_t unix_ms) noexcept;

}  // namespace mb::probe
