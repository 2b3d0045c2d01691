#pragma once
// A call's turn latencies in brief (GET /v1/calls/{sid} "latency"; docs/latency.md, "A call's
// waterfall"): per span of the turn.latency events, the median and the largest value.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "call/events.hpp"

namespace mb::call {

struct span_summary {
  double p50 = 0;  // by nearest rank (summarize_span)
  double max = 0;
};

struct latency_summary {
  std::size_t turns = 0;
  // Unset when no turn measured the span (to_heard: every turn was cut before it was heard).
  std::optional<span_summary> to_first_delta_ms;
  std::optional<span_summary> to_first_audio_ms;
  std::optional<span_summary> to_heard_ms;
  std::optional<span_summary> bridge_ms;
};

// p50 by nearest rank: the ⌈n/2⌉-th smallest value (of 4 values, the 2nd), so it is always one of the
// measured values. nullopt for no values.
[[nodiscard]] std::optional<span_summary> summarize_span(std::vector<double> values);

[[nodiscard]] latency_summary summarize_turns(std::span<const turn_waterfall> turns);

}  // namespace mb::call
