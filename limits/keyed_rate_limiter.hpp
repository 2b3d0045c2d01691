#pragma once
// One token bucket per key (a client address), in a bounded table: at most `max_keys` buckets, the least
// recently used one forgotten to make room for a new key. A forgotten key starts again with a full
// bucket, so the bound costs accuracy only when more than `max_keys` keys are active at once: an idle
// key's bucket has refilled anyway. Pure: the caller passes its monotonic time in ms.
//
// @par Thread Safety
// None: one owner, or the owner's lock.

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/token_bucket.hpp"

namespace mb::limits {

struct rate_verdict {
  bool allowed = false;
  std::int64_t retry_after_ms = 0;  // refused: when the key's next event would be allowed (-1: never)
};

class keyed_rate_limiter {
 public:
  // `max_keys` >= 1.
  keyed_rate_limiter(rate per_key, std::size_t max_keys);

  // Spends a token of `key`'s bucket when it has one.
  rate_verdict take(std::string_view key, std::int64_t now_ms);

  [[nodiscard]] std::size_t size() const noexcept { return buckets_.size(); }

 private:
  struct entry {
    std::string key;
    token_bucket bucket;
  };
  using order = std::list<entry>;  // most recently used first

  rate per_key_;
  std::size_t max_keys_;
  order entries_;
  std::unordered_map<std::string_view, order::iterator> buckets_;  // keys point into entries_
};

}  // namespace mb::limits
