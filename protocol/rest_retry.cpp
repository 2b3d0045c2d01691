#include "protocol/rest_retry.hpp"

#include <algorithm>

namespace mb::protocol {

bool succeeded(const rest_attempt& attempt) noexcept { return attempt.status >= 200 && attempt.status <= 299; }

int retry_after_ms(std::string_view header_value) noexcept {
  constexpr int max_seconds = 60;
  if (header_value.empty() || header_value.size() > 6) return 0;
  int seconds = 0;
  for (char c : header_value) {
    if (c < '0' || c > '9') return 0;
    seconds = seconds * 10 + (c - '0');
  }
  return std::min(seconds, max_seconds) * 1000;
}

int backoff_ms(const retry_policy& policy, int attempts_made, int retry_after_ms) noexcept {
  const int shift = std::clamp(attempts_made - 1, 0, 20);
  const long long backoff = std::min<long long>(static_cast<long long>(std::max(policy.base_backoff_ms, 0)) << shift,
                                                policy.max_backoff_ms);
  const long long delay = std::max<long long>(backoff, std::min(retry_after_ms, policy.max_backoff_ms));
  return static_cast<int>(std::max<long long>(delay, 0));
}

}  // namespace mb::protocol
