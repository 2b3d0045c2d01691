#pragma once
// What happens to each probe run (docs/latency.md, "Storage, API and alerts"): logged in one line
// (prober/log_sink.hpp), stored in the history,
// counted in /metrics (mediabridge_probe_stage_seconds, mediabridge_probe_runs_total), and checked
// against the alert rules; each alert transition is stored, logged in one line and POSTed to
// PROBE_ALERT_WEBHOOK_URL, signed like tool webhooks (X-Mediabridge-Signature with TOOL_WEBHOOK_SECRET).
//
// Alerts are not published to listeners: the listener hub carries call events only (docs/events.md).
//
// @par Thread Safety
// record() from any thread; it never blocks: the run is handed to the monitor's strand, the store's
// queue and a detached webhook coroutine. The monitor must outlive the running of its executor.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/settings.hpp"
#include "metrics/metrics.hpp"
#include "net/asio.hpp"
#include "probe/alert_rules.hpp"
#include "probe/probe_run.hpp"
#include "prober/log_sink.hpp"
#include "prober/probe_sink.hpp"

namespace mb::net {
class tls_client_context;
}
namespace mb::store {
class call_store;
}

namespace mb::server {

struct probe_monitor_options {
  std::vector<probe::alert_rule> rules;
  std::int64_t alert_window_ms = 900 * 1000;
  std::size_t min_runs = probe::alert_evaluator::default_min_runs;
  std::string webhook_url;                       // empty: alerts are stored and logged only
  std::string signing_secret;                    // empty: unsigned; never logged
  std::shared_ptr<net::tls_client_context> tls;  // for an https webhook URL
  int webhook_timeout_ms = 5000;                 // per attempt, name resolution included
  int webhook_attempts = 3;                      // a failed POST (no answer, 429, 5xx) is retried
  std::chrono::milliseconds retry_delay{1000};   // before the second attempt, doubled for each next
  std::size_t max_webhooks_in_flight = 16;       // more alerts at once are logged and not posted
};

// The options PROBE_ALERTS, PROBE_ALERT_WINDOW_S, PROBE_ALERT_WEBHOOK_URL and TOOL_WEBHOOK_SECRET give.
// The settings validated PROBE_ALERTS at load.
[[nodiscard]] probe_monitor_options probe_monitor_settings(const config::settings& s,
                                                           std::shared_ptr<net::tls_client_context> tls);

class probe_monitor final : public prober::probe_sink {
 public:
  // `store` and `metrics` may be null (no history, no /metrics); both must outlive the monitor.
  probe_monitor(asio::any_io_executor ex, store::call_store* store, metrics::registry* metrics,
                probe_monitor_options options);
  probe_monitor(const probe_monitor&) = delete;
  probe_monitor& operator=(const probe_monitor&) = delete;

  void record(const probe::probe_run& run) override;

  // Profiles whose metrics are kept; runs of more (a misconfiguration) are stored but not exported.
  static constexpr std::size_t max_metric_profiles = 64;

 private:
  struct profile_metrics {
    std::vector<metrics::histogram*> stages;  // per probe::stage
    std::vector<metrics::counter*> outcomes;  // per probe::error_kind
  };

  void on_run(const probe::probe_run& run);  // on strand_
  void count(const probe::probe_run& run);   // on strand_
  void on_transition(const probe::alert_transition& t);

  prober::log_sink run_log_;  // one line per run, as before the store kept them
  asio::strand<asio::any_io_executor> strand_;
  store::call_store* store_;
  metrics::registry* metrics_;
  probe_monitor_options options_;
  probe::alert_evaluator evaluator_;                                          // strand_ only
  std::map<std::pair<std::string, std::string>, profile_metrics> profiles_;  // strand_ only
  // Alert webhooks being posted, shared with the detached coroutines that post them.
  std::shared_ptr<std::atomic<std::size_t>> webhooks_in_flight_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace mb::server
