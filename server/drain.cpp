#include "server/drain.hpp"

#include <csignal>
#include <cstdlib>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace mb::server {

signal_drain::signal_drain(asio::io_context& context, bridge::call_registry& registry, std::atomic<bool>& draining,
                           std::chrono::seconds timeout, std::function<void()> shutdown)
    : context_(context),
      registry_(registry),
      draining_(draining),
      timeout_(timeout),
      shutdown_(std::move(shutdown)),
      signals_(context, SIGINT, SIGTERM),
      deadline_(context) {}

void signal_drain::start() {
  signals_.async_wait([this](const error_code& ec, int signo) {
    if (ec) return;
    if (++signals_seen_ > 1) {
      spdlog::warn("second signal: exiting now");
      std::_Exit(0);
    }
    drain(signo);
    start();
  });
}

void signal_drain::drain(int signo) {
  spdlog::info("signal {}: draining {} active call(s) for up to {} s", signo, registry_.active(), timeout_.count());
  draining_ = true;
  if (drain_started_) drain_started_();
  deadline_.expires_after(timeout_);
  deadline_.async_wait([this](const error_code& ec) {
    if (ec) return;
    spdlog::info("drain timeout: closing {} remaining call(s)", registry_.active());
    registry_.stop_all();
  });
  // on_idle runs on whichever thread ended the last call.
  registry_.on_idle([this] {
    asio::post(context_, [this] {
      deadline_.cancel();
      spdlog::info("no active calls: exiting");
      shutdown_();
    });
  });
}

}  // namespace mb::server
