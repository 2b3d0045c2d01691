#include "limits/accept_backoff.hpp"

#include <algorithm>
#include <cerrno>

namespace mb::limits {
namespace {

std::string_view description(accept_failure f) noexcept {
  return f == accept_failure::fd_exhausted ? "out of file descriptors" : "other errors";
}

// "5.0 s", to the nearest tenth
std::string seconds(std::chrono::milliseconds d) {
  const auto tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

}  // namespace

accept_failure classify_accept_error(int error_number) noexcept {
  return error_number == EMFILE || error_number == ENFILE ? accept_failure::fd_exhausted : accept_failure::other;
}

std::string_view label(accept_failure f) noexcept { return f == accept_failure::fd_exhausted ? "fd_exhausted" : "other"; }

accept_backoff::accept_backoff(accept_backoff_options options) : options_(options), log_(options.log_interval) {}

std::optional<std::string> accept_backoff::record_failure(accept_failure kind, std::string_view error, time_point now) {
  ++unreported_[static_cast<std::size_t>(kind)];
  last_error_ = error;
  const auto report = log_.note(now);
  if (!report) return std::nullopt;
  return describe(*report, "retrying with backoff up to " + std::to_string(options_.max_wait.count()) +
                               " ms, at most one line per " + seconds(options_.log_interval));
}

std::chrono::milliseconds accept_backoff::next_wait() {
  wait_ = wait_ == std::chrono::milliseconds{0} ? options_.first_wait : std::min(wait_ * 2, options_.max_wait);
  return wait_;
}

std::optional<std::string> accept_backoff::record_success(time_point now) {
  wait_ = std::chrono::milliseconds{0};
  const auto report = log_.flush(now);
  if (!report) return std::nullopt;
  return describe(*report, "accepting again");
}

std::string accept_backoff::describe(const interval_log::report& r, std::string_view then) {
  std::string line;
  if (r.occurrences == 1) {
    const auto kind = unreported_[static_cast<std::size_t>(accept_failure::fd_exhausted)] > 0 ? accept_failure::fd_exhausted
                                                                                             : accept_failure::other;
    line = "accept failed (" + std::string(description(kind)) + "): " + last_error_;
  } else {
    line = "accept failed " + std::to_string(r.occurrences) + " times in " + seconds(r.span) + " (";
    for (std::size_t k = 0; k < accept_failure_count; ++k) {
      if (k > 0) line += ", ";
      line += std::to_string(unreported_[k]) + " " + std::string(description(static_cast<accept_failure>(k)));
    }
    line += "; last: " + last_error_ + ")";
  }
  unreported_ = {};
  return line + "; " + std::string(then);
}

}  // namespace mb::limits
