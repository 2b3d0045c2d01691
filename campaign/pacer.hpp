#pragma once
// When a campaign places its next call (docs/tools.md, "Outbound calls and campaigns"). Rows are
// dialled in order, spaced at least 1/calls_per_second apart (a fractional rate spaces them by more
// than a second), with at most max_active rows queued, ringing or in progress, and only while the
// server has room (the caller's answer: MAX_CONCURRENT_CALLS). A row counts as active from the moment
// it is placed until its final status.
//
// Every event takes `now` and returns what to do: place a row's call, or arm the one timer (the
// shell then calls on_timer at that time). Cancelling stops dialling; calls already placed run on.
//
// @par Thread Safety
// Not thread-safe: one campaign's events come from one strand.

#include <chrono>
#include <cstddef>
#include <variant>
#include <vector>

#include "campaign/call_status.hpp"

namespace mb::campaign {

using clock = std::chrono::steady_clock;

struct pacer_options {
  double calls_per_second = 1;  // > 0
  std::size_t max_active = 5;   // >= 1
  // Without room, the pacer looks again after this long (a full server sends no event when a slot frees).
  std::chrono::milliseconds room_retry{500};
};

namespace pace {
struct place_call {
  std::size_t row;  // index among the dialable rows
  bool operator==(const place_call&) const = default;
};
struct arm_timer {
  clock::time_point at;
  bool operator==(const arm_timer&) const = default;
};
}  // namespace pace

using pacer_action = std::variant<pace::place_call, pace::arm_timer>;

enum class campaign_state { running, done, cancelled };

class pacer {
 public:
  pacer(std::size_t rows, pacer_options options);

  // The campaign starts, or the armed timer fires. `has_room`: the server can take one more call.
  [[nodiscard]] std::vector<pacer_action> on_timer(clock::time_point now, bool has_room);
  // Placing the row's call failed (the REST request): the row is failed, freeing its place.
  [[nodiscard]] std::vector<pacer_action> on_place_failed(std::size_t row, clock::time_point now, bool has_room);
  // A status callback (or the create response) for the row; out-of-order and repeated ones change nothing.
  [[nodiscard]] std::vector<pacer_action> on_status(std::size_t row, call_status status, clock::time_point now,
                                                    bool has_room);
  // Rows not dialled yet become canceled.
  void cancel();

  [[nodiscard]] campaign_state state() const;
  [[nodiscard]] call_status status(std::size_t row) const { return rows_.at(row); }
  [[nodiscard]] std::size_t active() const noexcept { return active_; }
  [[nodiscard]] std::size_t size() const noexcept { return rows_.size(); }

 private:
  std::vector<pacer_action> advance(clock::time_point now, bool has_room);
  void set(std::size_t row, call_status status);

  pacer_options options_;
  clock::duration interval_;
  std::vector<call_status> rows_;
  std::size_t next_row_ = 0;
  std::size_t active_ = 0;
  bool cancelled_ = false;
  clock::time_point next_allowed_ = clock::time_point::min();
  clock::time_point armed_ = clock::time_point::max();
};

}  // namespace mb::campaign
