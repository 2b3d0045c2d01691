#include "call/stats_progress.hpp"

namespace mb::call {

stats_delta stats_progress::advance(const call_stats& now) noexcept {
  const stats_delta delta{
      .caller_frames = now.caller_frames - counted_.caller_frames,
      .caller_bytes = now.caller_bytes - counted_.caller_bytes,
      .assistant_chunks = now.assistant_chunks - counted_.assistant_chunks,
      .assistant_bytes = now.assistant_bytes - counted_.assistant_bytes,
      .barge_ins = now.barge_ins - counted_.barge_ins,
      .truncates_sent = now.truncates_sent - counted_.truncates_sent,
      .late_deltas_dropped = now.late_deltas_dropped - counted_.late_deltas_dropped,
      .dtmf_dropped = now.dtmf_dropped - counted_.dtmf_dropped,
  };
  counted_ = now;
  return delta;
}

}  // namespace mb::call
