#include "call/token_bucket.hpp"

#include <algorithm>

namespace mb::call {

token_bucket::token_bucket(std::uint32_t per_second, std::uint32_t burst) noexcept
    : per_second_(per_second), capacity_(std::int64_t{burst} * milli), tokens_(capacity_) {}

bool token_bucket::take(std::int64_t now_ms) noexcept {
  if (seen_ && now_ms > last_ms_ && per_second_ > 0) {
    // Capped before multiplying: a long pause must not overflow.
    const auto elapsed = std::min(now_ms - last_ms_, capacity_ / per_second_ + 1);
    tokens_ = std::min(capacity_, tokens_ + elapsed * per_second_);
  }
  if (!seen_ || now_ms > last_ms_) last_ms_ = now_ms;
  seen_ = true;
  if (tokens_ < milli) return false;
  tokens_ -= milli;
  return true;
}

}  // namespace mb::call
