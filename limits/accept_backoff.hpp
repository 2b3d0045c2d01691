#pragma once
// What the accept loop does after accept() fails. A failed accept leaves the connection queued, so the
// listening socket stays readable and an immediate retry fails again at once: out of file
// descriptors, a loop that retries at once spins a core and writes a log line per attempt. Instead
// each failure waits (first_wait, doubled per consecutive failure up to max_wait, back to first_wait
// once an accept succeeds), and failures are logged at most once per log_interval, with their count.
//
// @par Thread Safety
// None: the accept loop owns it.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "limits/interval_log.hpp"

namespace mb::limits {

enum class accept_failure : std::size_t {
  fd_exhausted,  // EMFILE / ENFILE: the process or the system is out of file descriptors
  other,
};
inline constexpr std::size_t accept_failure_count = 2;

// From accept()'s errno.
accept_failure classify_accept_error(int error_number) noexcept;
// The metric label: "fd_exhausted", "other".
std::string_view label(accept_failure f) noexcept;

struct accept_backoff_options {
  std::chrono::milliseconds first_wait{10};
  std::chrono::milliseconds max_wait{500};
  std::chrono::milliseconds log_interval{5000};
};

class accept_backoff {
 public:
  using time_point = interval_log::time_point;

  explicit accept_backoff(accept_backoff_options options = {});

  // One failed accept with its error text; returns the line to log now, if one is due.
  std::optional<std::string> record_failure(accept_failure kind, std::string_view error, time_point now);
  // How long to wait before the next accept: first_wait, doubled by each call up to max_wait.
  std::chrono::milliseconds next_wait();
  // An accepted connection: the wait starts over. Returns a line for failures not yet logged, once
  // the log interval has passed.
  std::optional<std::string> record_success(time_point now);

 private:
  std::string describe(const interval_log::report& r, std::string_view then);

  accept_backoff_options options_;
  interval_log log_;
  std::chrono::milliseconds wait_{0};
  std::array<std::uint64_t, accept_failure_count> unreported_{};
  std::string last_error_;
};

}  // namespace mb::limits
