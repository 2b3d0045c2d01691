#include "call/latency_summary.hpp"

#include <algorithm>

namespace mb::call {

std::optional<span_summary> summarize_span(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  const auto median = values.begin() + static_cast<std::ptrdiff_t>((values.size() + 1) / 2 - 1);
  std::nth_element(values.begin(), median, values.end());
  return span_summary{*median, *std::max_element(values.begin(), values.end())};
}

latency_summary summarize_turns(std::span<const turn_waterfall> turns) {
  std::vector<double> delta, audio, heard, bridge;
  for (const auto& t : turns) {
    delta.push_back(t.to_first_delta_ms);
    audio.push_back(t.to_first_audio_ms);
    if (t.to_heard_ms) heard.push_back(*t.to_heard_ms);
    bridge.push_back(t.bridge_ms);
  }
  return {turns.size(), summarize_span(std::move(delta)), summarize_span(std::move(audio)),
          summarize_span(std::move(heard)), summarize_span(std::move(bridge))};
}

}  // namespace mb::call
