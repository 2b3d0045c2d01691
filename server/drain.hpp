#pragma once
// SIGINT and SIGTERM (docker stop, Ctrl-C). The first signal drains: the webhook answers fallback
// TwiML (`draining`), running calls may finish for up to DRAIN_TIMEOUT_S and are then closed, and
// once no call is left `shutdown` runs. A second signal exits the process at once, with status 0.
//
// @par Thread Safety
// Construct and start() on the thread that runs `context`; every handler runs on `context`.

#include <atomic>
#include <chrono>
#include <functional>

#include <boost/asio/signal_set.hpp>

#include "bridge/call_registry.hpp"
#include "net/asio.hpp"

namespace mb::server {

class signal_drain {
 public:
  // `shutdown` runs on `context` when the last call has ended: it closes what keeps the process
  // running (the listening socket, the listener hub, the workers).
  signal_drain(asio::io_context& context, bridge::call_registry& registry, std::atomic<bool>& draining,
               std::chrono::seconds timeout, std::function<void()> shutdown);
  signal_drain(const signal_drain&) = delete;
  signal_drain& operator=(const signal_drain&) = delete;

  // Runs on `context` when the first signal starts the drain, before the calls are waited for (PREWARM:
  // closes the sessions no call has claimed).
  void on_drain_started(std::function<void()> f) { drain_started_ = std::move(f); }
  // Waits for the signals.
  void start();

 private:
  void drain(int signo);

  asio::io_context& context_;
  bridge::call_registry& registry_;
  std::atomic<bool>& draining_;
  std::chrono::seconds timeout_;
  std::function<void()> shutdown_;
  std::function<void()> drain_started_;
  asio::signal_set signals_;
  asio::steady_timer deadline_;
  int signals_seen_ = 0;
};

}  // namespace mb::server
