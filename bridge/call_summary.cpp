#include "bridge/call_summary.hpp"

#include <string>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>

#include "log/escape.hpp"

namespace mb::bridge {

void report_call_end(const call_identity& call, std::string_view label, const call_outcome& outcome,
                     std::string_view counts, const protocol::token_usage& usage, event_sink* events,
                     metrics::bridge_metrics& m) {
  const auto duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - outcome.started_at);
  const auto level = (outcome.reason == call::end_reason::caller_hung_up || outcome.reason == call::end_reason::shutdown)
                         ? spdlog::level::info
                         : spdlog::level::warn;
  // An admitted call's summary is always written: its peer passed authorisation.
  spdlog::log(level, "call {}: ended reason={} duration_ms={} {} log_lines_suppressed={} detail=\"{}\"", label,
              call::to_string(outcome.reason), duration.count(), counts, outcome.log_lines_suppressed,
              log::escape_for_log(outcome.detail, log::reason_bytes));
  if (events) events->call_ended(call, call_summary{outcome.reason, std::string(outcome.detail), duration, usage});
  m.calls_ended(call::to_string(outcome.reason)).inc();
}

void report_call_end(call::call_state& state, const call_identity& call, std::string_view label,
                     const call_outcome& outcome, event_sink* events, metrics::bridge_metrics& m) {
  std::vector<call::action> pending;
  state.finish(pending);
  for (auto& a : pending)
    if (auto* p = std::get_if<call::publish>(&a); p && events) events->publish(call, p->event);
  const auto& st = state.stats();
  const auto counts = fmt::format(
      "caller_frames={} assistant_chunks={} barge_ins={} truncates={} late_deltas_dropped={} invalid_frames={} "
      "dtmf_dropped={}",
      st.caller_frames, st.assistant_chunks, st.barge_ins, st.truncates_sent, st.late_deltas_dropped,
      st.invalid_frames, st.dtmf_dropped);
  report_call_end(call, label, outcome, counts, st.usage, events, m);
}

}  // namespace mb::bridge
