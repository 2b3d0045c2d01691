#include "bridge/supervised_upstream.hpp"

#include <utility>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"

namespace mb::bridge {
namespace {

using namespace asio::experimental::awaitable_operators;

// Calls cut by one outage must not reconnect in step: each draws its own backoff jitter.
std::uint64_t jitter_seed(const void* call) {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
         static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(call));
}

}  // namespace

supervised_upstream::supervised_upstream(const bridge_context& ctx, call::supervisor_options options,
                                         asio::any_io_executor ex, std::string label, call::end_reason reason)
    : ctx_(ctx),
      m_(ctx.metrics ? *ctx.metrics : metrics::bridge_metrics::discard()),
      call_metrics_(m_),
      supervisor_(std::move(options), jitter_seed(this)),
      label_(std::move(label)),
      reason_(reason),
      timer_(ex),
      upstream_wake_(ex, steady::time_point::max()) {
  supervisor_actions_.reserve(8);
}

net::awaitable<void> supervised_upstream::run_until_closed(net::awaitable<void> sockets) {
  co_await (guarded(std::move(sockets)) || timers());
  supervisor_.on_sockets_closed(steady::now(), supervisor_actions_);
  supervisor_actions_.clear();  // it disarms the timer, which went with the `||`
}

// An unexpected failure ends the sockets here: were it to escape, `||` would wait for timers() to
// succeed, that is, for the maximum call duration.
net::awaitable<void> supervised_upstream::guarded(net::awaitable<void> sockets) {
  try {
    co_await std::move(sockets);
  } catch (const std::exception& e) {
    if (sockets_aborted_) co_return;  // cancelled by the `||` after the abort: expected
    spdlog::error("call {}: unexpected failure: {}", label_, e.what());
    m_.errors(metrics::error_kind::unexpected_exception).inc();
    if (!supervisor_.ending()) reason_ = call::end_reason::upstream_error, detail_ = e.what();
  }
}

net::awaitable<void> supervised_upstream::upstream_task() {
  for (;;) {
    if (!connect_wanted_ && !supervisor_.ending()) co_await upstream_wake_.async_wait(net::as_tuple_awaitable);
    if (supervisor_.ending()) co_return;
    if (!connect_wanted_) continue;
    connect_wanted_ = false;
    const auto connect_started_at = steady::now();
    const auto request = upstream_request();
    auto outcome = co_await (dial(request) || wait_for_end());
    if (outcome.index() != 0 || supervisor_.ending()) co_return;  // a socket that opened anyway is dropped
    auto& result = std::get<0>(outcome);
    step_at_ = steady::now();
    if (!result.socket) {
      m_.errors(metrics::error_kind::upstream_connect_failed).inc();
      supervisor_.on_upstream_connect_failed(result.failure, step_at_, supervisor_actions_);
      execute();
      continue;
    }
    upstream_.attach(std::move(result.socket), ctx_.writer_queue_messages, upstream_write_observer());
    spdlog::debug("call {}: upstream connected in {} ms", label_,
                  call_metrics_.on_upstream_connected(connect_started_at, step_at_).count());
    supervisor_.on_upstream_connected(step_at_, supervisor_actions_);
    execute();
    co_await (upstream_reader() && upstream_.writer().run());
    upstream_.detach();
    step_at_ = steady::now();
    supervisor_.on_upstream_closed(step_at_, supervisor_actions_);
    execute();
  }
}

net::awaitable<net::connect_result> supervised_upstream::dial(const net::connect_request& request) {
  co_return co_await net::connect_websocket(request, ctx_.tls);
}

net::awaitable<void> supervised_upstream::wait_for_end() {
  if (!supervisor_.ending()) co_await upstream_wake_.async_wait(net::as_tuple_awaitable);
}

// Returns once the sockets are aborted (the closing grace ran out): `||` then cancels what is left.
net::awaitable<void> supervised_upstream::timers() {
  for (;;) {
    armed_at_ = timer_target();
    timer_.expires_at(armed_at_);
    auto [ec] = co_await timer_.async_wait(net::as_tuple_awaitable);
    const auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;  // the sockets are finished
    if (ec) continue;  // re-armed
    step_at_ = steady::now();
    on_timer_expired(step_at_ >= supervisor_wakeup_);
    execute();
    if (sockets_aborted_) co_return;
  }
}

void supervised_upstream::perform(const call::connect_upstream&) {
  connect_wanted_ = true;
  upstream_wake_.cancel();
}

void supervised_upstream::perform(const call::close_upstream& a) {
  if (a.mode == call::close_mode::graceful)
    upstream_.close({1000, "session rollover"});
  else
    upstream_.abort_now();
}

void supervised_upstream::log_decision(const call::log_line& line) const {
  spdlog::log(to_spdlog(line.level), "call {}: {}", label_, line.text);
}

void supervised_upstream::rearm_timer() {
  if (timer_target() != armed_at_) timer_.cancel();
}

supervised_upstream::steady::time_point supervised_upstream::timer_target() const {
  const auto wakeup = supervisor_.ending() ? std::nullopt : core_wakeup();
  return wakeup ? std::min(steady::time_point(std::chrono::milliseconds(*wakeup)), supervisor_wakeup_)
                : supervisor_wakeup_;
}

}  // namespace mb::bridge
