#include "limits/token_bucket.hpp"

#include <algorithm>

namespace mb::limits {

token_bucket::token_bucket(rate r) noexcept
    : cost_(std::max<std::int64_t>(1, r.refill_interval_ms)),
      capacity_(std::int64_t{r.burst} * cost_),
      credit_(capacity_),
      refills_(r.refill_interval_ms > 0) {}

bool token_bucket::take(std::int64_t now_ms) noexcept {
  if (seen_ && now_ms > last_ms_ && refills_)
    // Capped before adding: a long pause must not overflow, and a full bucket banks nothing.
    credit_ = std::min(capacity_, credit_ + std::min(now_ms - last_ms_, capacity_));
  if (!seen_ || now_ms > last_ms_) last_ms_ = now_ms;
  seen_ = true;
  if (credit_ < cost_) return false;
  credit_ -= cost_;
  return true;
}

}  // namespace mb::limits
