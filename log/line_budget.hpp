#pragma once
// Rate limits for the log lines that peers cause (bad input, unknown events, refused requests): each
// connection has its own budget, and all connections share a process-wide one, so that neither one
// socket nor many can flood the log. What is suppressed is counted, and the next line written says so.
//
// Times are milliseconds on one monotonic clock, passed in by the caller.
//
// @par Thread Safety
// connection_lines: one thread (strand) at a time. shared_line_budget: any thread.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "limits/token_bucket.hpp"

namespace mb::log {

// `burst` lines back to back, then one more per `refill_interval_ms`.
using budget_options = limits::rate;

// One connection: enough for the distinct warnings of a call that misbehaves a little (each is logged
// once), then one line a second.
inline constexpr budget_options per_connection_budget{10, 1000};
// All connections together: 50 lines a second (about 10 KB/s of log at most), bursts of 100.
inline constexpr budget_options process_budget{100, 20};

// The process-wide budget, and the count of every peer-caused line not written (for /metrics).
class shared_line_budget {
 public:
  explicit shared_line_budget(budget_options options = process_budget) noexcept : budget_(options) {}
  shared_line_budget(const shared_line_budget&) = delete;
  shared_line_budget& operator=(const shared_line_budget&) = delete;

  bool try_take(std::int64_t now_ms);
  // Counts a line that was not written, by either budget.
  void count_suppressed() noexcept;
  // The lines suppressed since the last call, for the note on the line about to be written.
  std::uint64_t take_unreported() noexcept { return unreported_.exchange(0, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t suppressed_total() const noexcept { return total_.load(std::memory_order_relaxed); }

 private:
  std::mutex mutex_;  // taken only for lines a connection's own budget let through
  limits::token_bucket budget_;
  std::atomic<std::uint64_t> unreported_{0};
  std::atomic<std::uint64_t> total_{0};
};

// What was suppressed before a line that is written.
struct suppressed_before {
  std::uint64_t this_peer = 0;  // this connection's lines since its last written one
  std::uint64_t all_peers = 0;  // all connections' lines (this one's included) since the last written one
};

// " (log lines suppressed: 3 from this peer, 120 from all peers)", or "" when nothing was suppressed.
std::string suppression_note(const suppressed_before& s);

// One connection's lines: its own budget first, then the shared one (null: its own only).
class connection_lines {
 public:
  explicit connection_lines(shared_line_budget* shared, budget_options own = per_connection_budget) noexcept
      : shared_(shared), own_(own) {}

  // nullopt: leave the line out (it is counted). Otherwise write it, with suppression_note() of the result.
  std::optional<suppressed_before> admit(std::int64_t now_ms);
  // For the one line a connection causes as it closes (its summary): the shared budget only, so that
  // a connection that spent its own budget still gets it, and many connections do not flood with it.
  std::optional<suppressed_before> admit_closing(std::int64_t now_ms);
  // This connection's lines not written, in total.
  [[nodiscard]] std::uint64_t suppressed() const noexcept { return total_; }

 private:
  std::optional<suppressed_before> suppress();
  suppressed_before written();

  shared_line_budget* shared_;
  limits::token_bucket own_;
  std::uint64_t unreported_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace mb::log
