#pragma once
// What call_state counted since the shell last looked: the shell adds it to the process's counters
// after every step, so that the counters move while a call runs rather than at its end.
//
// Thread safety: none. One per call, used on that call's executor only.

#include <cstdint>

#include "call/call_state.hpp"

namespace mb::call {

// The counts of call_stats that grow during a call, as increments.
struct stats_delta {
  std::uint64_t caller_frames = 0;
  std::uint64_t caller_bytes = 0;
  std::uint64_t assistant_chunks = 0;
  std::uint64_t assistant_bytes = 0;
  std::uint64_t barge_ins = 0;
  std::uint64_t truncates_sent = 0;
  std::uint64_t late_deltas_dropped = 0;
  std::uint64_t dtmf_dropped = 0;
};

class stats_progress {
 public:
  // The increments from the previous look to `now` (all zero when nothing changed).
  [[nodiscard]] stats_delta advance(const call_stats& now) noexcept;

 private:
  call_stats counted_;
};

}  // namespace mb::call
