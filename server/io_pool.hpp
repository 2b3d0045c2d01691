#pragma once
// One io_context per worker thread. A call is handed to one context and stays there, so its hot
// path never takes a lock (a strand on a shared context would).

#include <memory>
#include <thread>
#include <vector>

#include "net/asio.hpp"

namespace mb::server {

class io_pool {
 public:
  explicit io_pool(std::size_t threads);
  asio::io_context& next();  // round-robin; thread-safe
  asio::io_context& first() { return *contexts_.front(); }
  // Runs every context (the caller's thread runs the first) until stop() or they run out of work.
  void run();
  void stop();
  [[nodiscard]] std::size_t size() const noexcept { return contexts_.size(); }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace mb::server
