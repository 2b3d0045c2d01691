#include "bridge/call_registry.hpp"

#include <boost/asio/post.hpp>
#include <vector>

namespace mb::bridge {

std::int64_t call_registry::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

call_registry::call_registry(admission::admission_limits limits) : ledger_(limits) {}

admission::reserve_result call_registry::reserve(std::string_view call_sid, std::chrono::milliseconds lifetime) {
  const auto now = now_ms();
  std::lock_guard lock(mutex_);
  return ledger_.reserve(call_sid, now + lifetime.count(), now);
}

call_registry::admit_outcome call_registry::admit(std::string_view call_sid, asio::any_io_executor ex, stop_fn stop,
                                                  command_fn command) {
  const auto now = now_ms();
  std::lock_guard lock(mutex_);
  const auto result = ledger_.admit(call_sid, now);
  if (result != admission::admit_result::admitted) return {result, 0};
  const auto id = next_id_++;
  calls_.emplace(id, entry{std::move(ex), std::move(stop), std::move(command), std::string(call_sid)});
  active_.store(calls_.size(), std::memory_order_relaxed);
  return {result, id};
}

bool call_registry::send_command(std::string_view call_sid, call::operator_command command) {
  std::lock_guard lock(mutex_);
  for (const auto& [id, e] : calls_) {
    if (e.call_sid != call_sid || !e.command) continue;
    asio::post(e.executor, [fn = e.command, command = std::move(command)]() mutable { fn(std::move(command)); });
    return true;
  }
  return false;
}

void call_registry::remove(std::uint64_t id) {
  std::function<void()> idle;
  {
    std::lock_guard lock(mutex_);
    const auto it = calls_.find(id);
    if (it == calls_.end()) return;
    ledger_.release(it->second.call_sid);
    calls_.erase(it);
    active_.store(calls_.size(), std::memory_order_relaxed);
    if (calls_.empty()) idle = std::exchange(idle_, nullptr);
  }
  if (idle) idle();
}

std::optional<call_registry::pending_slot> call_registry::open_pending() {
  std::lock_guard lock(mutex_);
  if (!ledger_.open_pending()) return std::nullopt;
  return pending_slot(this);
}

void call_registry::pending_slot::release() noexcept {
  if (!owner_) return;
  std::lock_guard lock(owner_->mutex_);
  owner_->ledger_.close_pending();
  owner_ = nullptr;
}

std::size_t call_registry::reserved() const {
  const auto now = now_ms();
  std::lock_guard lock(mutex_);
  return ledger_.reserved(now);
}

std::size_t call_registry::pending() const {
  std::lock_guard lock(mutex_);
  return ledger_.pending();
}

bool call_registry::full() const {
  const auto now = now_ms();
  std::lock_guard lock(mutex_);
  return ledger_.full(now);
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
