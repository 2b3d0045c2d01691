#include "server/probe_monitor.hpp"

#include <stdexcept>
#include <utility>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "net/http_client.hpp"
#include "protocol/webhook_signature.hpp"
#include "server/probes.hpp"
#include "store/call_store.hpp"

namespace mb::server {
namespace {

using namespace asio::experimental::awaitable_operators;

constexpr std::size_t max_webhook_response_bytes = 64 * 1024;

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view outcome_of(probe::error_kind e) { return e == probe::error_kind::none ? "ok" : probe::to_string(e); }

// Retried while the receiver may still take it: no answer, 429 or 5xx. Owns its arguments: it may
// outlive the monitor's caller. Each attempt is signed afresh, so its timestamp is that of the send.
net::awaitable<void> post_alert(std::string body, probe_monitor_options o, std::string what,
                                std::shared_ptr<std::atomic<std::size_t>> in_flight) {
  const auto ex = co_await asio::this_coro::executor;
  auto delay = o.retry_delay;
  for (int attempt = 1;; ++attempt) {
    asio::steady_timer deadline(ex, std::chrono::milliseconds(o.webhook_timeout_ms));
    auto headers = protocol::json_webhook_headers(o.signing_secret, unix_now_ms() / 1000, body);
    // http_request's own deadline leaves out name resolution: this one bounds the whole attempt.
    auto outcome = co_await (net::http_request("POST", o.webhook_url, std::move(headers), body, o.tls,
                                               o.webhook_timeout_ms, max_webhook_response_bytes) ||
                             deadline.async_wait(net::as_tuple_awaitable));
    std::string failure = "timed out after " + std::to_string(o.webhook_timeout_ms) + " ms";
    bool retry = true;
    if (const auto* r = std::get_if<0>(&outcome)) {
      if (r->status >= 200 && r->status < 300) break;
      failure = r->status == 0 ? r->failure : "answered " + std::to_string(r->status);
      retry = r->status == 0 || r->status == 429 || r->status >= 500;
    }
    if (!retry || attempt >= o.webhook_attempts) {
      spdlog::warn("probes: the alert webhook (PROBE_ALERT_WEBHOOK_URL) for {} was not delivered: {} ({} attempt(s))",
                   what, failure, attempt);
      break;
    }
    asio::steady_timer pause(ex, delay);
    co_await pause.async_wait(net::as_tuple_awaitable);
    delay *= 2;
  }
  --*in_flight;
}

}  // namespace

probe_monitor_options probe_monitor_settings(const config::settings& s, std::shared_ptr<net::tls_client_context> tls) {
  probe_monitor_options o;
  auto rules = probe::parse_alert_rules(s.probe_alerts);
  if (auto* problem = std::get_if<std::string>(&rules)) throw std::invalid_argument("PROBE_ALERTS: " + *problem);
  o.rules = std::move(std::get<std::vector<probe::alert_rule>>(rules));
  o.alert_window_ms = std::int64_t{s.probe_alert_window_s} * 1000;
  o.webhook_url = s.probe_alert_webhook_url;
  o.signing_secret = s.tool_webhook_secret.reveal();
  o.tls = std::move(tls);
  return o;
}

probe_monitor::probe_monitor(asio::any_io_executor ex, store::call_store* store, metrics::registry* metrics,
                             probe_monitor_options options)
    : strand_(asio::make_strand(std::move(ex))),
      store_(store),
      metrics_(metrics),
      options_(std::move(options)),
      evaluator_(options_.rules, options_.alert_window_ms, options_.min_runs) {}

void probe_monitor::record(const probe::probe_run& run) {
  run_log_.record(run);
  if (store_) store_->record_probe_run(run);
  asio::post(strand_, [this, run] { on_run(run); });
}

void probe_monitor::on_run(const probe::probe_run& run) {
  count(run);
  for (const auto& t : evaluator_.on_run(run, unix_now_ms())) on_transition(t);
}

void probe_monitor::count(const probe::probe_run& run) {
  if (!metrics_) return;
  auto it = profiles_.find({run.provider, run.agent});
  if (it == profiles_.end()) {
    if (profiles_.size() >= max_metric_profiles) return;
    profile_metrics m;
    const metrics::label_list profile{{"provider", run.provider}, {"agent", run.agent}};
    for (std::size_t i = 0; i < probe::stage_count; ++i) {
      auto labels = profile;
      labels.emplace_back("stage", probe::to_string(static_cast<probe::stage>(i)));
      m.stages.push_back(&metrics_->add_histogram("mediabridge_probe_stage_seconds",
                                                  "Probe run stages of each provider and agent profile "
                                                  "(docs/latency.md).",
                                                  metrics::buckets::network(), std::move(labels)));
    }
    for (const auto e : {probe::error_kind::none, probe::error_kind::connect, probe::error_kind::auth,
                         probe::error_kind::timeout, probe::error_kind::protocol}) {
      auto labels = profile;
      labels.emplace_back("outcome", outcome_of(e));
      m.outcomes.push_back(&metrics_->add_counter("mediabridge_probe_runs_total",
                                                  "Probe runs of each provider and agent profile, by outcome.",
                                                  std::move(labels)));
    }
    it = profiles_.emplace(std::pair{run.provider, run.agent}, std::move(m)).first;
  }
  for (std::size_t i = 0; i < probe::stage_count; ++i)
    if (const auto ms = run.stages[i])
      it->second.stages[i]->observe(std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::duration<double, std::milli>(*ms)));
  it->second.outcomes[static_cast<std::size_t>(run.error)]->inc();
}

void probe_monitor::on_transition(const probe::alert_transition& t) {
  if (store_) store_->record_probe_alert(t);
  const auto what = t.rule + " of " + t.provider + "/" + t.agent;
  spdlog::warn("probes: alert {} {}: {} against {}", what, t.firing ? "firing" : "recovered", t.value, t.threshold);
  if (options_.webhook_url.empty()) return;
  if (*webhooks_in_flight_ >= options_.max_webhooks_in_flight) {
    spdlog::warn("probes: the alert webhook for {} was not posted: {} alert webhooks are in flight", what,
                 options_.max_webhooks_in_flight);
    return;
  }
  ++*webhooks_in_flight_;
  auto body = probe_alert_json(t);
  body["type"] = "probe.alert";
  asio::co_spawn(strand_, post_alert(boost::json::serialize(body), options_, what, webhooks_in_flight_),
                 asio::detached);
}

}  // namespace mb::server
