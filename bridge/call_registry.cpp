#include "bridge/call_registry.hpp"

#include <boost/asio/post.hpp>
#include <vector>

namespace mb::bridge {

std::uint64_t call_registry::add(asio::any_io_executor ex, stop_fn stop) {
  std::lock_guard lock(mutex_);
  const auto id = next_id_++;
  calls_.emplace(id, entry{std::move(ex), std::move(stop)});
  active_.store(calls_.size(), std::memory_order_relaxed);
  return id;
}

void call_registry::remove(std::uint64_t id) {
  std::function<void()> idle;
  {
    std::lock_guard lock(mutex_);
    calls_.erase(id);
    active_.store(calls_.size(), std::memory_order_relaxed);
    if (calls_.empty()) idle = std::exchange(idle_, nullptr);
  }
  if (idle) idle();
}

void call_registry::stop_all() {
  std::vector<entry> targets;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : calls_) targets.push_back(e);
  }
  for (auto& e : targets) asio::post(e.executor, e.stop);
}

void call_registry::on_idle(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    if (!calls_.empty()) {
      idle_ = std::move(fn);
      return;
    }
  }
  fn();
}

}  // namespace mb::bridge
