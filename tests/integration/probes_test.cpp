// Probe runs behind the prober's sink (docs/latency.md, "Storage, API and alerts"): stored, served by
// GET /v1/probes with their aggregates, exported in /metrics, alerts posted signed once per
// transition, and old runs deleted; against a real server and store over loopback.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

#include <boost/json.hpp>

#include "protocol/webhook_signature.hpp"
#include "server/probe_monitor.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/run_awaitable.hpp"
#include "tests/integration/support/scripted_http_server.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;

namespace {

const std::string token = "probes-test-token";
const std::string secret = "probes-test-webhook-secret";
const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};
constexpr std::int64_t minute_ms = 60 * 1000;
constexpr std::int64_t day_ms = 24 * 60 * minute_ms;

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

probe::probe_run run_of(std::string agent, std::int64_t at_ms, double first_audio,
                        probe::error_kind error = probe::error_kind::none) {
  probe::probe_run r{"openai-realtime", std::move(agent), at_ms, error, {}, {}};
  r.set(probe::stage::connect, 10);
  r.set(probe::stage::first_audio, first_audio);
  return r;
}

boost::json::object json_of(const net::http_response& r) {
  INFO(r.failure << " " << r.body);
  REQUIRE(r.status == 200);
  return boost::json::parse(r.body).as_object();
}

// Nearest rank, computed here apart from probe/aggregates.cpp.
double nearest_rank(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values.at(rank - 1);
}

}  // namespace

TEST_CASE("probe runs are served by GET /v1/probes with their percentiles, exported, and alert once per transition",
          "[integration][probes]") {
  test::scripted_http_server hook;
  hook.script({{.status = 503}});  // the first alert is delivered on its second attempt
  test::bridge_harness h({.tweak = [](config::settings& s, bridge::bridge_context&) { s.api_token = config::secret(token); },
                          .listeners = true});
  server::probe_monitor_options options;
  options.rules = std::get<std::vector<probe::alert_rule>>(probe::parse_alert_rules("first_audio.p95>1000,error_rate>0.5"));
  options.alert_window_ms = 30 * minute_ms;
  options.webhook_url = hook.url("/alerts");
  options.signing_secret = secret;
  options.retry_delay = std::chrono::milliseconds(10);
  server::probe_monitor monitor(h.pool().first().get_executor(), h.history(), &h.metrics(), options);
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());

  // Three slow runs: the p95 rule crosses at the third (the minimum a rule needs), once.
  const auto start = unix_now_ms() - 20 * minute_ms;
  std::vector<double> values;
  std::int64_t at = start;
  for (const double ms : {2000.0, 3000.0, 4000.0, 3500.0}) {
    monitor.record(run_of("default", at += 1000, ms));
    values.push_back(ms);
  }
  REQUIRE(hook.wait_for(2, std::chrono::seconds(10)));
  // Fast runs until the p95 of the window is back under the threshold: 80 runs with 4 slow ones.
  for (int i = 0; i < 76; ++i) {
    const double ms = 300 + i;
    monitor.record(run_of("default", at += 1000, ms));
    values.push_back(ms);
  }
  REQUIRE(hook.wait_for(3, std::chrono::seconds(10)));
  // A last transition on another profile: once its alert arrives, every run before it was evaluated.
  for (int i = 0; i < 3; ++i)
    monitor.record(run_of("sales", at += 1000, 100, i == 0 ? probe::error_kind::timeout : probe::error_kind::auth));
  REQUIRE(hook.wait_for(4, std::chrono::seconds(10)));

  const auto requests = hook.requests();
  REQUIRE(requests.size() == 4);
  std::vector<boost::json::object> alerts;
  for (const auto& r : requests) {
    CHECK(r.method == "POST");
    CHECK(r.target == "/alerts");
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(protocol::check_webhook_signature(secret, r.header("X-Mediabridge-Signature"), r.body, unix_now_ms() / 1000) ==
          protocol::webhook_check::valid);
    alerts.push_back(boost::json::parse(r.body).as_object());
    CHECK(alerts.back().at("type") == "probe.alert");
  }
  CHECK(alerts[0] == alerts[1]);  // the retry of the refused first POST
  CHECK(alerts[1].at("rule") == "first_audio.p95>1000");
  CHECK(alerts[1].at("state") == "firing");
  CHECK(alerts[1].at("agent") == "default");
  CHECK(alerts[1].at("value").to_number<double>() == 4000);
  CHECK(alerts[1].at("threshold").to_number<double>() == 1000);
  CHECK(alerts[2].at("state") == "recovered");
  CHECK(alerts[2].at("rule") == "first_audio.p95>1000");
  CHECK(alerts[2].at("value").to_number<double>() <= 1000);
  CHECK(alerts[3].at("rule") == "error_rate>0.5");
  CHECK(alerts[3].at("agent") == "sales");
  CHECK(alerts[3].at("value").to_number<double>() == 1.0);

  // GET /v1/probes: the runs newest first, the aggregates from the stored data, the stored alerts.
  const auto body = json_of(test::http("GET", base + "/v1/probes", auth));
  CHECK(body.at("window_s") == 86400);
  const auto& runs = body.at("runs").as_array();
  REQUIRE(runs.size() == 83);
  CHECK(runs[0].at("agent") == "sales");
  CHECK(runs[0].at("ok") == false);
  CHECK(runs[0].at("error") == "auth");
  CHECK(runs[0].at("started_at").to_number<std::int64_t>() == at);
  const auto& oldest = runs.back().as_object();
  CHECK(oldest.at("ok") == true);
  CHECK(oldest.at("error") == "none");
  CHECK(oldest.at("stages").as_object().at("first_audio").to_number<double>() == 2000);
  CHECK(oldest.at("stages").as_object().at("connect").to_number<double>() == 10);
  CHECK_FALSE(oldest.at("stages").as_object().contains("tls"));

  const auto& aggregates = body.at("aggregates").as_array();
  REQUIRE(aggregates.size() == 2);
  const auto& d = aggregates[0].as_object();
  CHECK(d.at("agent") == "default");
  CHECK(d.at("provider") == "openai-realtime");
  CHECK(d.at("runs") == 80);
  CHECK(d.at("error_rate").to_number<double>() == 0);
  const auto& first_audio = d.at("stages").at("first_audio").as_object();
  CHECK(first_audio.at("p50").to_number<double>() == nearest_rank(values, 50));
  CHECK(first_audio.at("p95").to_number<double>() == nearest_rank(values, 95));
  CHECK(first_audio.at("p99").to_number<double>() == nearest_rank(values, 99));
  CHECK(first_audio.at("count") == 80);
  CHECK_FALSE(d.at("series").as_array().empty());
  CHECK_FALSE(d.at("by_hour").as_array().empty());
  CHECK_FALSE(d.at("by_day").as_array().empty());
  const auto& sales = aggregates[1].as_object();
  CHECK(sales.at("error_rate").to_number<double>() == 1.0);
  CHECK(sales.at("errors").at("auth") == 2);
  CHECK(sales.at("errors").at("timeout") == 1);
  CHECK(sales.at("errors").at("connect") == 0);

  const auto& stored_alerts = body.at("alerts").as_array();
  REQUIRE(stored_alerts.size() == 3);
  CHECK(stored_alerts[0].at("rule") == "error_rate>0.5");
  CHECK(stored_alerts[1].at("state") == "recovered");
  CHECK(stored_alerts[2].at("state") == "firing");
  CHECK(stored_alerts[2].at("value").to_number<double>() == 4000);
  CHECK(stored_alerts[2].at("id").to_number<std::int64_t>() < stored_alerts[0].at("id").to_number<std::int64_t>());

  // Filters, limits and the 7 day window.
  const auto sales_only = json_of(test::http("GET", base + "/v1/probes?agent=sales&limit=2&window=7d", auth));
  CHECK(sales_only.at("window_s") == 7 * 86400);
  CHECK(sales_only.at("runs").as_array().size() == 2);
  CHECK(sales_only.at("aggregates").as_array().size() == 1);
  CHECK(sales_only.at("alerts").as_array().size() == 1);
  const auto none = json_of(test::http("GET", base + "/v1/probes?provider=gemini-live", auth));
  CHECK(none.at("runs").as_array().empty());
  CHECK(none.at("aggregates").as_array().empty());

  for (const auto* bad : {"?window=1h", "?limit=0", "?limit=1001", "?limit=ten"}) {
    INFO(bad);
    CHECK(test::http("GET", base + "/v1/probes" + bad, auth).status == 400);
  }
  CHECK(test::http("POST", base + "/v1/probes", auth).status == 405);
  // The same access control as /v1/calls.
  CHECK(test::http("GET", base + "/v1/probes").status == 401);
  CHECK(test::http("GET", base + "/v1/probes", {{"Authorization", "Bearer wrong"}}).status == 401);

  const auto metrics = test::http("GET", base + "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains(R"(mediabridge_probe_runs_total{provider="openai-realtime",agent="default",outcome="ok"} 80)"));
  CHECK_THAT(metrics.body, Catch::Contains(R"(mediabridge_probe_runs_total{provider="openai-realtime",agent="sales",outcome="auth"} 2)"));
  CHECK_THAT(metrics.body, Catch::Contains(
                               R"(mediabridge_probe_stage_seconds_count{provider="openai-realtime",agent="default",stage="first_audio"} 80)"));
  CHECK_THAT(metrics.body, Catch::Contains(
                               R"(mediabridge_probe_stage_seconds_bucket{provider="openai-realtime",agent="default",stage="first_audio",le="1"} 76)"));
}

TEST_CASE("probe runs and alerts past PROBE_RETENTION_DAYS are deleted", "[integration][probes]") {
  test::temp_dir dir;
  const auto path = dir.file("history.db");
  const auto now = unix_now_ms();
  const auto stored = [&](store::call_store& s) {
    store::probe_query q;
    q.span = probe::window::week;
    q.now_ms = now;
    return test::run_awaitable(s.probe_history(q));
  };
  {
    store::call_store s({path, 100, 1});
    s.record_probe_run(run_of("default", now - 2 * day_ms, 500));
    s.record_probe_run(run_of("default", now - minute_ms, 600));
    s.record_probe_alert({"openai-realtime", "default", "error_rate>0.2", true, 0.5, 0.2, now - 2 * day_ms});
    s.record_probe_alert({"openai-realtime", "default", "error_rate>0.2", false, 0.1, 0.2, now - minute_ms});
    const auto before = stored(s);
    REQUIRE(before.runs.size() == 2);
    REQUIRE(before.alerts.size() == 2);
  }
  // Expired rows go at open (and then at most once a minute as probe records arrive).
  store::call_store reopened({path, 100, 1});
  const auto after = stored(reopened);
  REQUIRE(after.runs.size() == 1);
  CHECK(after.runs[0].run.at(probe::stage::first_audio) == 600);
  REQUIRE(after.alerts.size() == 1);
  CHECK_FALSE(after.alerts[0].alert.firing);
}
