#pragma once
// A token bucket for what a peer causes (DTMF events, log lines): up to `burst` at once, then one more
// per `refill_interval_ms` on average; the excess is refused. Pure: the caller passes its monotonic
// time in ms.
//
// @par Thread Safety
// None: one owner, or the owner's lock.

#include <cstdint>

namespace mb::limits {

struct rate {
  std::uint32_t burst = 1;
  std::int64_t refill_interval_ms = 1000;  // 0: nothing is refilled after the burst
};

class token_bucket {
 public:
  // The bucket starts full.
  explicit token_bucket(rate r) noexcept;

  // True, spending a token, when an event at `now_ms` is within the rate; false when it is not.
  // A time earlier than one seen before refills nothing (another thread's slightly older reading).
  bool take(std::int64_t now_ms) noexcept;

  // How long after `now_ms` take() will next succeed: 0 when it would now, -1 when never (a bucket
  // that does not refill and is empty). Spends nothing.
  [[nodiscard]] std::int64_t wait_ms(std::int64_t now_ms) const noexcept;

 private:
  // The credit `now_ms` finds, refilled since the last event (nothing for an earlier time).
  [[nodiscard]] std::int64_t credit_at(std::int64_t now_ms) const noexcept;

  // Credit is counted in ms of refill time, so that any interval refills exactly: a token costs one
  // interval's worth.
  std::int64_t cost_;       // credit per token: the refill interval (1 when nothing refills)
  std::int64_t capacity_;   // burst * cost_
  std::int64_t credit_;
  bool refills_;
  std::int64_t last_ms_ = 0;
  bool seen_ = false;       // last_ms_ is set
};

}  // namespace mb::limits
