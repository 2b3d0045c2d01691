#include "limits/interval_log.hpp"

namespace mb::limits {

bool interval_log::due(time_point now) const { return !last_line_ || now - *last_line_ >= interval_; }

interval_log::report interval_log::take(time_point now) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const report r{unreported_, duration_cast<milliseconds>(now - first_unreported_)};
  last_line_ = now;
  unreported_ = 0;
  return r;
}

std::optional<interval_log::report> interval_log::note(time_point now) {
  if (unreported_++ == 0) first_unreported_ = now;
  if (!due(now)) return std::nullopt;
  return take(now);
}

std::optional<interval_log::report> interval_log::flush(time_point now) {
  if (unreported_ == 0 || !due(now)) return std::nullopt;
  return take(now);
}

}  // namespace mb::limits
