#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "metrics/bridge_metrics.hpp"
#include "metrics/metrics.hpp"

using namespace mb::metrics;
using namespace std::chrono_literals;

namespace {
bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}
}  // namespace

TEST_CASE("counters sum the updates of every thread", "[metrics]") {
  counter c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t)
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.inc();
      c.inc(5);
    });
  for (auto& t : threads) t.join();
  CHECK(c.value() == 12 * 10005);
}

TEST_CASE("histograms count durations into cumulative buckets", "[metrics]") {
  histogram h({0.001, 0.01});
  h.observe(500us);     // first bucket
  h.observe(1ms);       // on the bound: still the first (le = less or equal)
  h.observe(2ms);       // second
  h.observe(-5ms);      // clock skew is recorded as 0
  h.observe(3s);        // +Inf only
  const auto s = h.collect();
  REQUIRE(s.cumulative.size() == 3);
  CHECK(s.cumulative[0] == 3);
  CHECK(s.cumulative[1] == 4);
  CHECK(s.cumulative[2] == 5);
  CHECK(s.count == 5);
  CHECK(s.sum_s == Approx(3.0035));
  CHECK_THROWS(histogram({0.1, 0.01}));
}

TEST_CASE("render writes the Prometheus text format", "[metrics]") {
  registry r;
  auto& ok = r.add_counter("x_calls_total", "Calls.\\ Done\nhere", {{"reason", "ok"}});
  auto& bad = r.add_counter("x_calls_total", "Calls.\\ Done\nhere", {{"reason", "a\"b\\c\nd"}});
  auto& active = r.add_gauge("x_active", "Active.");
  auto& lat = r.add_histogram("x_latency_seconds", "Latency.", {0.001, 0.5}, {{"direction", "up"}});
  r.add_gauge_fn("x_listeners", "From elsewhere.", [] { return 3.0; });
  ok.inc(2);
  bad.inc();
  active.set(-4);
  lat.observe(250ms);
  const auto text = r.render();

  CHECK(has_line(text, "# HELP x_calls_total Calls.\\\\ Done\\nhere"));
  CHECK(has_line(text, "# TYPE x_calls_total counter"));
  CHECK(has_line(text, "x_calls_total{reason=\"ok\"} 2"));
  CHECK(has_line(text, "x_calls_total{reason=\"a\\\"b\\\\c\\nd\"} 1"));
  CHECK(has_line(text, "# TYPE x_active gauge"));
  CHECK(has_line(text, "x_active -4"));
  CHECK(has_line(text, "# TYPE x_latency_seconds histogram"));
  CHECK(has_line(text, "x_latency_seconds_bucket{direction=\"up\",le=\"0.001\"} 0"));
  CHECK(has_line(text, "x_latency_seconds_bucket{direction=\"up\",le=\"0.5\"} 1"));
  CHECK(has_line(text, "x_latency_seconds_bucket{direction=\"up\",le=\"+Inf\"} 1"));
  CHECK(has_line(text, "x_latency_seconds_sum{direction=\"up\"} 0.25"));
  CHECK(has_line(text, "x_latency_seconds_count{direction=\"up\"} 1"));
  CHECK(has_line(text, "x_listeners 3"));
  // A family's HELP and TYPE appear once, before all of its series.
  CHECK(text.find("# TYPE x_calls_total") == text.rfind("# TYPE x_calls_total"));
  CHECK(text.find("x_calls_total{reason=\"ok\"}") < text.find("# TYPE x_active"));
  CHECK(text.back() == '\n');
}

TEST_CASE("a name cannot change type", "[metrics]") {
  registry r;
  r.add_counter("x_total", "X.");
  CHECK_THROWS(r.add_gauge("x_total", "X."));
}

TEST_CASE("bridge metrics follow the naming conventions", "[metrics]") {
  registry r;
  const std::vector<std::string_view> end_reasons = {"caller_hung_up", "shutdown"};
  bridge_metrics m(r, end_reasons);
  m.calls_ended("caller_hung_up").inc();
  m.calls_ended("not_a_reason").inc();
  m.frames(direction::caller_to_upstream).inc(50);
  m.relay(direction::upstream_to_caller).observe(40us);
  m.errors(error_kind::upstream_lost).inc();
  const auto text = r.render();
  CHECK(has_line(text, "mediabridge_calls_ended_total{reason=\"caller_hung_up\"} 1"));
  CHECK(has_line(text, "mediabridge_calls_ended_total{reason=\"shutdown\"} 0"));
  CHECK(has_line(text, "mediabridge_calls_ended_total{reason=\"other\"} 1"));
  CHECK(has_line(text, "mediabridge_frames_relayed_total{direction=\"caller_to_upstream\"} 50"));
  CHECK(has_line(text, "mediabridge_relay_seconds_bucket{direction=\"upstream_to_caller\",le=\"5e-05\"} 1"));
  CHECK(has_line(text, "mediabridge_errors_total{kind=\"upstream_lost\"} 1"));
  CHECK(has_line(text, "mediabridge_truncates_total{result=\"rejected\"} 0"));
  // Every family name: mediabridge_ prefix; counters end in _total; histograms in _seconds.
  std::size_t pos = 0;
  while ((pos = text.find("# TYPE ", pos)) != std::string::npos) {
    const auto end = text.find('\n', pos);
    const auto line = text.substr(pos + 7, end - pos - 7);
    const auto space = line.find(' ');
    const auto name = line.substr(0, space);
    const auto type = line.substr(space + 1);
    INFO(name);
    CHECK(name.rfind("mediabridge_", 0) == 0);
    if (type == "counter") CHECK(name.size() > 6);
    if (type == "counter") CHECK(name.substr(name.size() - 6) == "_total");
    if (type == "histogram") CHECK(name.substr(name.size() - 8) == "_seconds");
    pos = end;
  }
}
