#pragma once
// What every call shell does for call_supervisor, whatever its core: it opens the upstream session
// each time the supervisor asks (the provider's socket for a Media Streams call, the sideband for a
// SIP call), runs it until it is finished, keeps one timer for the supervisor's deadlines and the
// core's wake-ups, and ends the call's sockets when the closing grace runs out. bridge::run_call
// (core: call::call_state) and bridge::start_sip_call (core: sip::sideband_state) add their core
// through the hooks.
//
// Thread safety: none. One per call, used on that call's executor only.

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bridge/call_metrics.hpp"
#include "bridge/call_session.hpp"
#include "bridge/upstream_socket.hpp"
#include "call/call_supervisor.hpp"
#include "net/websocket.hpp"

namespace mb::bridge {

class supervised_upstream {
 public:
  using steady = std::chrono::steady_clock;

  supervised_upstream(const supervised_upstream&) = delete;
  supervised_upstream& operator=(const supervised_upstream&) = delete;

 protected:
  // `label`: the call's name in log lines; `reason`: the end reason until the supervisor gives one.
  supervised_upstream(const bridge_context& ctx, call::supervisor_options options, asio::any_io_executor ex,
                      std::string label, call::end_reason reason);
  virtual ~supervised_upstream() = default;

  // --- hooks --------------------------------------------------------------------------------------
  // Carries out the actions of the step just taken, the core's and the supervisor's, then re-arms the
  // timer (rearm_timer).
  virtual void execute() = 0;
  // Where the next upstream session connects.
  [[nodiscard]] virtual net::connect_request upstream_request() const = 0;
  // Reads the session's socket until it ends; reports a loss to the supervisor itself.
  virtual net::awaitable<void> upstream_reader() = 0;
  // The core's next wake-up in steady-clock ms; nullopt: none.
  [[nodiscard]] virtual std::optional<std::int64_t> core_wakeup() const = 0;
  // The timer expired at step_at_: step the supervisor (on_timer) when `supervisor_due`, and the core.
  virtual void on_timer_expired(bool supervisor_due) = 0;
  // Opens the socket of an upstream session the supervisor asked for; `request` outlives the wait.
  virtual net::awaitable<net::connect_result> dial(const net::connect_request& request);
  // For the upstream writer: times its writes; null: not timed.
  [[nodiscard]] virtual net::ws_writer::write_observer upstream_write_observer() { return nullptr; }

  // --- shared -------------------------------------------------------------------------------------
  // Runs `sockets` (the call's socket coroutines, upstream_task() among them) beside timers() until
  // both are finished or the closing grace aborts them, then tells the supervisor. An unexpected
  // failure of `sockets` is logged once and ends the call as upstream_error.
  net::awaitable<void> run_until_closed(net::awaitable<void> sockets);
  // Opens an upstream socket each time the supervisor asks for one, and runs it until it is finished.
  net::awaitable<void> upstream_task();
  // The supervisor's actions on the upstream session and the timer.
  void perform(const call::connect_upstream&);
  void perform(const call::arm_timer& a) { supervisor_wakeup_ = a.at; }  // execute() re-arms the timer
  void perform(const call::close_upstream& a);
  // Re-arms the timer when the earliest wake-up moved.
  void rearm_timer();
  // Carries out one of the supervisor's actions with `perform`, but for its log lines: they are the
  // bridge's own decisions (a loss, a reconnect, a rollover), a few per upstream session whatever the
  // peers send, so no peer budget silences them.
  template <class Perform>
  void perform_supervised(const call::supervisor_action& action, Perform&& perform) {
    if (const auto* line = std::get_if<call::log_line>(&action))
      log_decision(*line);
    else
      std::visit(std::forward<Perform>(perform), action);
  }
  void log_decision(const call::log_line& line) const;
  // One input from outside the sockets (an operator's command, a webhook's or a REST API's answer) is
  // a step of its own while the call runs: `step(now_ms)` feeds the core, then execute().
  template <class Step>
  void step_outside(Step&& step) {
    if (supervisor_.ending()) return;
    step_at_ = steady::now();
    step(ms_of(step_at_));
    execute();
  }
  // Once the call ends: gives up a connect in progress.
  void wake_upstream_task() { upstream_wake_.cancel(); }

  static std::int64_t ms_of(steady::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }

  const bridge_context& ctx_;
  metrics::bridge_metrics& m_;
  call_metrics call_metrics_;
  call::call_supervisor supervisor_;
  std::vector<call::supervisor_action> supervisor_actions_;
  upstream_socket upstream_;
  std::string label_;
  call::end_reason reason_;  // from close_call
  std::string detail_;
  steady::time_point step_at_;  // when the input being handled arrived (or the timer woke)
  bool sockets_aborted_ = false;

 private:
  net::awaitable<void> guarded(net::awaitable<void> sockets);
  net::awaitable<void> timers();
  net::awaitable<void> wait_for_end();
  [[nodiscard]] steady::time_point timer_target() const;

  asio::steady_timer timer_;
  steady::time_point armed_at_;
  steady::time_point supervisor_wakeup_ = steady::time_point::max();  // its last arm_timer
  asio::steady_timer upstream_wake_;  // cancelled when a connect is wanted or the call ends
  bool connect_wanted_ = false;
};

}  // namespace mb::bridge
