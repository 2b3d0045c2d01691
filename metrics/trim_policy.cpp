#include "metrics/trim_policy.hpp"

#include <algorithm>

namespace mb::metrics {
namespace {

std::size_t slack(std::size_t resident_bytes, std::size_t in_use_bytes) noexcept {
  return resident_bytes > in_use_bytes ? resident_bytes - in_use_bytes : 0;
}

}  // namespace

bool trim_policy::should_trim(std::size_t resident_bytes, std::size_t in_use_bytes) noexcept {
  const auto now = slack(resident_bytes, in_use_bytes);
  if (!floor_) {
    floor_ = now;
    return false;
  }
  floor_ = std::min(*floor_, now);
  return now - *floor_ >= threshold_;
}

void trim_policy::trimmed(std::size_t resident_bytes, std::size_t in_use_bytes) noexcept {
  floor_ = slack(resident_bytes, in_use_bytes);
}

}  // namespace mb::metrics
