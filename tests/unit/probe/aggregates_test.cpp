#include <catch2/catch.hpp>

#include "probe/aggregates.hpp"

using namespace mb::probe;

namespace {

// 2026-12-06T00:00:00Z
constexpr std::int64_t midnight_ms = 1796515200000;
constexpr std::int64_t hour_ms = 3600 * 1000;

probe_run run_at(std::int64_t at_ms, std::optional<double> first_audio, error_kind error = error_kind::none,
                 std::string agent = "default") {
  probe_run r{"openai-realtime", std::move(agent), at_ms, error, {}, {}};
  if (first_audio) r.set(stage::first_audio, *first_audio);
  return r;
}

}  // namespace

TEST_CASE("percentiles are nearest-rank: always a measured value", "[probe]") {
  const std::vector<double> four{1, 2, 3, 4};
  CHECK(nearest_rank(four, 50) == 2);
  CHECK(nearest_rank(four, 95) == 4);
  CHECK(nearest_rank(four, 25) == 1);
  std::vector<double> twenty;
  for (int i = 1; i <= 20; ++i) twenty.push_back(i * 10.0);
  CHECK(nearest_rank(twenty, 95) == 190);  // rank ceil(19.0) = 19
  CHECK(nearest_rank(twenty, 99) == 200);  // rank ceil(19.8) = 20
  CHECK(nearest_rank(twenty, 50) == 100);

  const auto p = percentiles_of({500, 100, 300, 200, 400});  // unsorted on purpose
  REQUIRE(p);
  CHECK(p->p50 == 300);
  CHECK(p->p95 == 500);
  CHECK(p->p99 == 500);
  CHECK(p->count == 5);
  CHECK_FALSE(percentiles_of({}).has_value());
  const auto one = percentiles_of({42});
  REQUIRE(one);
  CHECK((one->p50 == 42 && one->p95 == 42 && one->p99 == 42));
}

TEST_CASE("a summary counts errors by kind and takes stages from every run that measured them", "[probe]") {
  const std::vector<probe_run> runs{run_at(0, 100), run_at(1, 300), run_at(2, std::nullopt, error_kind::timeout),
                                    run_at(3, 200, error_kind::protocol)};
  std::vector<const probe_run*> ptrs;
  for (const auto& r : runs) ptrs.push_back(&r);
  const auto s = summarise(ptrs);
  CHECK(s.runs == 4);
  CHECK(s.error_rate == Approx(0.5));
  CHECK(s.errors_of(error_kind::timeout) == 1);
  CHECK(s.errors_of(error_kind::protocol) == 1);
  CHECK(s.errors_of(error_kind::connect) == 0);
  REQUIRE(s.at(stage::first_audio));
  CHECK(s.at(stage::first_audio)->count == 3);
  CHECK(s.at(stage::first_audio)->p50 == 200);
  CHECK_FALSE(s.at(stage::connect).has_value());
}

TEST_CASE("UTC hour and day of a time, at the edges", "[probe]") {
  CHECK(utc_day(midnight_ms) == "2026-12-06");
  CHECK(utc_day(midnight_ms - 1) == "2026-12-05");
  CHECK(utc_hour(midnight_ms) == 0);
  CHECK(utc_hour(midnight_ms - 1) == 23);
  CHECK(utc_hour(midnight_ms + 13 * hour_ms + 59 * 60000) == 13);
  CHECK(utc_day(0) == "1970-01-01");
  CHECK(utc_day(951782400000) == "2000-02-29");
}

TEST_CASE("windows and their buckets", "[probe]") {
  CHECK(window_from_string("24h") == window::day);
  CHECK(window_from_string("7d") == window::week);
  CHECK_FALSE(window_from_string("1h").has_value());
  CHECK(window_ms(window::day) == 24 * hour_ms);
  CHECK(bucket_ms(window::day) == hour_ms);
  CHECK(window_ms(window::week) == 7 * 24 * hour_ms);
  CHECK(bucket_ms(window::week) == 6 * hour_ms);
}

TEST_CASE("aggregates group by profile, bucket on UTC hours oldest first, and leave empty buckets out", "[probe]") {
  const std::int64_t now = midnight_ms + 10 * hour_ms + 30 * 60000;  // 10:30Z
  const std::vector<probe_run> runs{
      run_at(now - 24 * hour_ms, 999),                       // exactly a window old: out
      run_at(midnight_ms - 1, 50),                           // 23:59:59.999 the day before
      run_at(midnight_ms, 100),                              // 00:00 sharp: the next bucket
      run_at(midnight_ms + hour_ms - 1, 300),                // still the 00:00 bucket
      run_at(midnight_ms + 10 * hour_ms, 200, error_kind::auth),
      run_at(now + 1, 7),                                    // in the future: out
      run_at(midnight_ms + 5 * hour_ms, 400, error_kind::none, "sales"),
  };
  const auto a = aggregate_runs(runs, now, window::day);
  REQUIRE(a.size() == 2);
  CHECK(a[0].agent == "default");
  CHECK(a[1].agent == "sales");
  const auto& d = a[0];
  CHECK(d.total.runs == 4);
  CHECK(d.total.error_rate == Approx(0.25));
  CHECK(d.total.errors_of(error_kind::auth) == 1);
  REQUIRE(d.total.at(stage::first_audio));
  CHECK(d.total.at(stage::first_audio)->p50 == 100);  // of {50, 100, 200, 300}: rank 2
  CHECK(d.total.at(stage::first_audio)->p95 == 300);

  REQUIRE(d.series.size() == 3);
  CHECK(d.series[0].start_ms == midnight_ms - hour_ms);
  CHECK(d.series[0].summary.runs == 1);
  CHECK(d.series[1].start_ms == midnight_ms);
  CHECK(d.series[1].summary.runs == 2);
  CHECK(d.series[1].summary.at(stage::first_audio)->p95 == 300);
  CHECK(d.series[2].start_ms == midnight_ms + 10 * hour_ms);
  CHECK(d.series[2].summary.error_rate == 1.0);

  REQUIRE(d.by_hour.size() == 3);
  CHECK(d.by_hour[0].hour == 0);
  CHECK(d.by_hour[0].summary.runs == 2);
  CHECK(d.by_hour[1].hour == 10);
  CHECK(d.by_hour[2].hour == 23);

  REQUIRE(d.by_day.size() == 2);
  CHECK(d.by_day[0].day == "2026-12-05");
  CHECK(d.by_day[0].summary.runs == 1);
  CHECK(d.by_day[1].day == "2026-12-06");
  CHECK(d.by_day[1].summary.runs == 3);
}

TEST_CASE("the 7 day window buckets by 6 hours from UTC midnight", "[probe]") {
  const std::int64_t now = midnight_ms + 12 * hour_ms;
  const std::vector<probe_run> runs{run_at(midnight_ms + 5 * hour_ms, 1), run_at(midnight_ms + 6 * hour_ms, 2),
                                    run_at(midnight_ms - 6 * 24 * hour_ms, 3)};
  const auto a = aggregate_runs(runs, now, window::week);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].series.size() == 3);
  CHECK(a[0].series[0].start_ms == midnight_ms - 6 * 24 * hour_ms);
  CHECK(a[0].series[1].start_ms == midnight_ms);
  CHECK(a[0].series[2].start_ms == midnight_ms + 6 * hour_ms);
  CHECK(a[0].by_day.size() == 2);
}
