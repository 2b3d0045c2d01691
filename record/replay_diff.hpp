#pragma once
// Compares a recorded call's event log with the log a replay observed (docs/recording.md "Comparing
// two runs"). Both logs use record/log_format's entries with directions from the bridge's point of
// view, so the same fields are compared on both sides:
//   - barge-in points: the times of the clears sent to Twilio (twilio_out clear), within clear_ms;
//   - the truncates' audio_end_ms (the provider's truncate message, or the barge_in/truncate call
//     events when the protocol has none), within audio_end_ms;
//   - the transcripts (transcript events: role and text), exactly;
//   - the number of marks sent to Twilio, exactly;
//   - the end reason (the call.ended event), exactly;
//   - the per-turn latency (turn.latency events), within latency_ms;
//   - the sequence of non-media message types sent each way (Twilio and provider), exactly.
//
// @par Thread Safety
// Pure functions.

#include <string>
#include <vector>

#include "record/log_format.hpp"

namespace mb::record {

// How far a timed value of the replay may be from the recording's and still count as the same, in ms.
struct replay_tolerance {
  double clear_ms = 120;
  double audio_end_ms = 80;
  double latency_ms = 200;
};

struct replay_difference {
  std::string what;      // which value differs, e.g. "barge-in 2 time" or "twilio_out types"
  std::string expected;  // the recording's value
  std::string actual;    // the replay's value
};

struct replay_report {
  std::vector<replay_difference> differences;
  std::vector<std::string> summary_lines;  // what was compared, one line per kind
  [[nodiscard]] bool passed() const { return differences.empty(); }
};

[[nodiscard]] replay_report compare_runs(const std::vector<log_entry>& recorded,
                                         const std::vector<log_entry>& replayed,
                                         const replay_tolerance& tolerance);

// Human-readable: the summary lines, one line per difference, then a last line PASS or FAIL.
[[nodiscard]] std::string format_report(const replay_report& report);

}  // namespace mb::record
