#pragma once
// The end of an admitted call: its last transcripts published, the summary line, the call_ended event
// and the calls_ended metric. A Media Streams call reports through its call_state; a SIP call, which
// has none, through the general form.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "bridge/event_sink.hpp"
#include "call/call_state.hpp"
#include "metrics/bridge_metrics.hpp"
#include "protocol/realtime_events.hpp"

namespace mb::bridge {

struct call_outcome {
  call::end_reason reason;
  std::string_view detail;
  std::chrono::steady_clock::time_point started_at;  // the stream's upgrade, or the SIP call's admission
  std::uint64_t log_lines_suppressed;  // the lines its peers caused that the budgets left out
};

// `label`: the call's name in log lines (its CallSid). `counts`: the call's own counters for the
// summary line, as space-separated key=value fields. `events` may be null.
void report_call_end(const call_identity& call, std::string_view label, const call_outcome& outcome,
                     std::string_view counts, const protocol::token_usage& usage, event_sink* events,
                     metrics::bridge_metrics& m);

// A Media Streams call: call_state's last transcripts first, its counters in the summary line.
void report_call_end(call::call_state& state, const call_identity& call, std::string_view label,
                     const call_outcome& outcome, event_sink* events, metrics::bridge_metrics& m);

}  // namespace mb::bridge
