#pragma once
// One io_context per worker thread. A call is handed to one context and stays there, so its hot
// path never takes a lock (a strand on a shared context would). The server's connections and the
// load generator's simulated calls (tools/load_gen) run on one.
//
// Connections go to the context with the fewest open connections. Round-robin does not balance
// calls: each call is a webhook connection followed by a stream connection, so with two contexts
// every stream landed on the same one and the other thread idled (measured: 93% of the work on one
// thread at 300 calls).

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "net/asio.hpp"

namespace mb::server {

class io_pool {
 public:
  explicit io_pool(std::size_t threads);

  struct lease {
    asio::io_context& context;
    std::size_t index;
  };
  // The least-loaded context (ties: round-robin), counted until release(index). Thread-safe.
  lease acquire();
  void release(std::size_t index) noexcept;
  // The context acquire() would pick now, without counting it. Thread-safe.
  [[nodiscard]] std::size_t least_loaded() noexcept;
  // Counts one more connection on context `index`, until release(index): a connection moved there.
  void hold(std::size_t index) noexcept;
  asio::io_context& context(std::size_t index) { return *contexts_.at(index); }
  // Leases held on every context: open connections, plus one for a pending accept.
  [[nodiscard]] std::size_t connections() const noexcept;
  asio::io_context& first() { return *contexts_.front(); }
  // Runs every context (the caller's thread runs the first) until stop() or they run out of work.
  void run();
  // Like run(), for at most `limit`; each thread calls `on_thread` first (e.g. to register itself).
  void run_for(std::chrono::steady_clock::duration limit, const std::function<void()>& on_thread);
  // Lets the contexts run out of work: run() returns once every context's handlers have finished.
  // May be called while they run, from one thread at a time.
  void release_work();
  void stop();
  [[nodiscard]] std::size_t size() const noexcept { return contexts_.size(); }

 private:
  void run_each(const std::function<void(asio::io_context&)>& body);

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::atomic<std::size_t>> connections_;  // per context
  std::atomic<std::size_t> next_{0};
};

}  // namespace mb::server
