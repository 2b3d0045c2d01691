#pragma once
// One call's share of the process's metrics (metrics/bridge_metrics.hpp): what call_state counted since
// the last step, the provider's verdicts on heard reports and its error events, the upstream's connect
// and session set-up times, the turn latency and the relay latency. Counter adds and histogram
// observations: no locks, and nothing allocated per step. Each complete turn's waterfall comes back
// for the call's turn.latency event (call/turn_latency.hpp); the histograms keep their meaning and
// moments: the provider's turns only, speech-stopped -> first audio read (observed then), and -> the
// first mark echo after it.
//
// Thread safety: none. One per call, used on that call's executor only.

#include <chrono>
#include <optional>
#include <string_view>

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
  using turn = call::turn_latency::record;

  // One caller media frame (base64 μ-law).
  void on_caller_audio(std::string_view payload_b64, time_point now) { turn_.on_caller_audio(payload_b64, now); }
  // One neutral upstream event, after call_state handled it. `late`: as turn_latency::on_upstream.
  std::optional<turn> on_upstream_event(const upstream::event& ev, bool late, time_point now);
  // An upstream socket opened: observes the time its connect took, and returns it.
  std::chrono::milliseconds on_upstream_connected(time_point started, time_point now) noexcept;
  // The session's configuration was confirmed: observes the time since the socket opened, and returns it.
  std::chrono::milliseconds on_session_ready(time_point now) noexcept;
  // Twilio echoed a mark.
  std::optional<turn> on_mark_echo(time_point now);
  // A timed message to Twilio was written (the upstream_to_caller relay latency).
  std::optional<turn> on_twilio_written(time_point since, time_point written);
  // For the upstream writer's observe_writes: the caller_to_upstream relay latency.
  [[nodiscard]] net::ws_writer::write_observer upstream_relay_observer() const;

 private:
  metrics::bridge_metrics& m_;
  call::stats_progress progress_;
  // A complete turn the caller heard, into the turn_first_audio histogram.
  std::optional<turn> observe(std::optional<turn> t) noexcept;

  call::turn_latency turn_;
  time_point connected_at_{};  // the upstream socket opened; its configuration goes out at once
};

}  // namespace mb::bridge
