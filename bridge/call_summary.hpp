#pragma once
// The end of an admitted call: call_state's last transcripts published, the summary line, the
// call_ended event and the calls_ended metric.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "bridge/event_sink.hpp"
#include "call/call_state.hpp"
#include "metrics/bridge_metrics.hpp"

namespace mb::bridge {

struct call_outcome {
  call::end_reason reason;
  std::string_view detail;
  std::chrono::steady_clock::time_point started_at;  // the stream's upgrade
  std::uint64_t log_lines_suppressed;  // the lines its peers caused that the budgets left out
};

// `label`: the call's name in log lines (its CallSid). `events` may be null.
void report_call_end(call::call_state& state, const call_identity& call, std::string_view label,
                     const call_outcome& outcome, event_sink* events, metrics::bridge_metrics& m);

}  // namespace mb::bridge
