#pragma once
// A token bucket for events a peer sends: up to `burst` at once, then `per_second` on average; the
// excess is refused. Pure: the caller passes its monotonic time in ms.
//
// @par Thread Safety
// None: one owner (e.g. a call_state).

#include <cstdint>

namespace mb::call {

class token_bucket {
 public:
  // The bucket starts full. per_second 0 refuses everything after the first `burst`.
  token_bucket(std::uint32_t per_second, std::uint32_t burst) noexcept;

  // True, spending a token, when an event at `now_ms` is within the rate; false when it is not.
  // Time that goes backwards refills nothing.
  bool take(std::int64_t now_ms) noexcept;

 private:
  // Tokens are counted in thousandths, so that a rate of n per second refills n per ms exactly.
  static constexpr std::int64_t milli = 1000;
  std::int64_t per_second_;
  std::int64_t capacity_;   // burst * milli
  std::int64_t tokens_;     // thousandths of a token
  std::int64_t last_ms_ = 0;
  bool seen_ = false;       // last_ms_ is set
};

}  // namespace mb::call
