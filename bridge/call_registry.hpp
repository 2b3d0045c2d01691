#pragma once
// The live calls of the process: counted for /healthz and admission control, reachable for shutdown.
//
// @par Thread safety
// All members are thread-safe. Calls register and unregister once each (never per frame).

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "net/asio.hpp"

namespace mb::bridge {

class call_registry {
 public:
  using stop_fn = std::function<void()>;  // runs on the call's executor; asks the call to close cleanly

  std::uint64_t add(asio::any_io_executor ex, stop_fn stop);
  void remove(std::uint64_t id);
  [[nodiscard]] std::size_t active() const noexcept { return active_.load(std::memory_order_relaxed); }
  // Asks every call to end (close frames on both sides).
  void stop_all();
  // Runs `fn` (on an unspecified thread) once no call is active; at once if none is.
  void on_idle(std::function<void()> fn);

 private:
  struct entry {
    asio::any_io_executor executor;
    stop_fn stop;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, entry> calls_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::size_t> active_{0};
  std::function<void()> idle_;
};

}  // namespace mb::bridge
