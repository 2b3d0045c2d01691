#include "sip/replay_guard.hpp"

namespace mb::sip {

replay_guard::replay_guard(std::size_t capacity, std::int64_t keep_s) : capacity_(capacity), keep_s_(keep_s) {}

void replay_guard::forget_expired(std::int64_t now_unix_s) {
  while (!order_.empty()) {
    const auto it = expiry_.find(order_.front());
    if (it != expiry_.end() && it->second > now_unix_s) break;
    if (it != expiry_.end()) expiry_.erase(it);
    order_.pop_front();
  }
}

bool replay_guard::first_time(std::string_view id, std::int64_t now_unix_s) {
  forget_expired(now_unix_s);
  std::string key(id);
  if (const auto it = expiry_.find(key); it != expiry_.end()) return false;
  if (capacity_ == 0) return true;
  while (expiry_.size() >= capacity_) {
    expiry_.erase(order_.front());
    order_.pop_front();
  }
  expiry_.emplace(key, now_unix_s + keep_s_);
  order_.push_back(std::move(key));
  return true;
}

}  // namespace mb::sip
