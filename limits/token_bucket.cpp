#include "limits/token_bucket.hpp"

#include <algorithm>

namespace mb::limits {

token_bucket::token_bucket(rate r) noexcept
    : cost_(std::max<std::int64_t>(1, r.refill_interval_ms)),
      capacity_(std::int64_t{r.burst} * cost_),
      credit_(capacity_),
      refills_(r.refill_interval_ms > 0) {}

std::int64_t token_bucket::credit_at(std::int64_t now_ms) const noexcept {
  if (!seen_ || now_ms <= last_ms_ || !refills_) return credit_;
  // Capped before adding: a long pause must not overflow, and a full bucket banks nothing.
  return std::min(capacity_, credit_ + std::min(now_ms - last_ms_, capacity_));
}

bool token_bucket::take(std::int64_t now_ms) noexcept {
  credit_ = credit_at(now_ms);
  if (!seen_ || now_ms > last_ms_) last_ms_ = now_ms;
  seen_ = true;
  if (credit_ < cost_) return false;
  credit_ -= cost_;
  return true;
}

std::int64_t token_bucket::wait_ms(std::int64_t now_ms) const noexcept {
  const std::int64_t credit = credit_at(now_ms);
  if (credit >= cost_) return 0;
  return refills_ ? cost_ - credit : -1;
}

}  // namespace mb::limits
