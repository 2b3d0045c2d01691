#include "limits/keyed_rate_limiter.hpp"

#include <algorithm>

namespace mb::limits {

keyed_rate_limiter::keyed_rate_limiter(rate per_key, std::size_t max_keys)
    : per_key_(per_key), max_keys_(std::max<std::size_t>(1, max_keys)) {}

rate_verdict keyed_rate_limiter::take(std::string_view key, std::int64_t now_ms) {
  auto found = buckets_.find(key);
  if (found != buckets_.end()) {
    entries_.splice(entries_.begin(), entries_, found->second);
  } else {
    if (buckets_.size() >= max_keys_) {
      buckets_.erase(entries_.back().key);
      entries_.pop_back();
    }
    entries_.push_front(entry{std::string(key), token_bucket(per_key_)});
    found = buckets_.emplace(entries_.front().key, entries_.begin()).first;
  }
  auto& bucket = found->second->bucket;
  if (bucket.take(now_ms)) return {true, 0};
  return {false, bucket.wait_ms(now_ms)};
}

}  // namespace mb::limits
