#pragma once
// At most one log line per interval for a condition that can repeat at any rate (accept failures,
// connections shed at the limit): the first occurrence after a quiet interval is reported at once,
// later ones are counted and reported together with the next occurrence after the interval.
//
// @par Thread Safety
// None: one owner (the accept loop) calls it.

#include <chrono>
#include <cstdint>
#include <optional>

namespace mb::limits {

class interval_log {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit interval_log(std::chrono::milliseconds interval) : interval_(interval) {}

  struct report {
    std::uint64_t occurrences;       // since the previous line, this one included
    std::chrono::milliseconds span;  // from the first of them to now (zero for a single one)
  };
  // Counts one occurrence at `now`; returns what to log when a line is due.
  std::optional<report> note(time_point now);
  // Occurrences still unreported once the interval since the previous line has passed (say, when
  // the condition has ended); nothing otherwise.
  std::optional<report> flush(time_point now);

  [[nodiscard]] std::chrono::milliseconds interval() const noexcept { return interval_; }

 private:
  [[nodiscard]] bool due(time_point now) const;
  report take(time_point now);

  std::chrono::milliseconds interval_;
  std::optional<time_point> last_line_;
  time_point first_unreported_{};
  std::uint64_t unreported_ = 0;
};

}  // namespace mb::limits
