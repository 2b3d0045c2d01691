#pragma once
// Runs a function once a window of fixed length has passed since arm(): a consumer thread that
// takes work in batches (the call store, the listener hub) arms it when the first item of a batch
// arrives, and takes everything that arrived meanwhile when it runs.
//
// @par Thread safety
// arm() and cancel() only on the thread that runs the io_context.

#include <chrono>
#include <functional>
#include <utility>

#include "net/asio.hpp"

namespace mb::net {

class window_timer {
 public:
  window_timer(asio::io_context& ioc, std::chrono::milliseconds length, std::function<void()> on_close)
      : timer_(ioc), length_(length), on_close_(std::move(on_close)) {}

  // Opens the window (again: a window already open starts over and runs on_close once).
  void arm() {
    timer_.expires_after(length_);
    timer_.async_wait([this](const error_code& ec) {
      if (!ec) on_close_();
    });
  }
  // Closes the window without running on_close (its work was taken some other way).
  void cancel() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  std::chrono::milliseconds length_;
  std::function<void()> on_close_;
};

}  // namespace mb::net
