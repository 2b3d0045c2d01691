#pragma once
// One call's share of the process's metrics (metrics/bridge_metrics.hpp): what call_state counted since
// the last step, the provider's verdicts on heard reports and its error events, the upstream's connect
// and session set-up times, the turn latency and the relay latency. Counter adds and histogram
// observations: no locks, and nothing allocated per step.
//
// Thread safety: none. One per call, used on that call's executor only.

#include <chrono>

#include "call/call_state.hpp"
#include "call/stats_progress.hpp"
#include "call/turn_latency.hpp"
#include "metrics/bridge_metrics.hpp"
#include "net/ws_writer.hpp"
#include "upstream/event.hpp"

namespace mb::bridge {

class call_metrics {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit call_metrics(metrics::bridge_metrics& m) noexcept : m_(m) {}

  // After each step: adds what call_state counted since the last one (frames, bytes, barge-ins, ...).
  void count_progress(const call::call_stats& stats) noexcept;
  // One neutral upstream event, after call_state handled it. `dropped_late`: as turn_latency::on_upstream.
  void on_upstream_event(const upstream::event& ev, bool dropped_late, time_point now) noexcept;
  // An upstream socket opened: observes the time its connect took, and returns it.
  std::chrono::milliseconds on_upstream_connected(time_point started, time_point now) noexcept;
  // The session's configuration was confirmed: observes the time since the socket opened, and returns it.
  std::chrono::milliseconds on_session_ready(time_point now) noexcept;
  // Twilio echoed a mark.
  void on_mark_echo(time_point now) noexcept;
  // For a writer's observe_writes: the relay latency of `d`'s messages.
  [[nodiscard]] net::ws_writer::write_observer relay_observer(metrics::direction d) const;

 private:
  metrics::bridge_metrics& m_;
  call::stats_progress progress_;
  call::turn_latency turn_;
  time_point connected_at_{};  // the upstream socket opened; its configuration goes out at once
};

}  // namespace mb::bridge
