#include "call/turn_latency.hpp"

namespace mb::call {

std::optional<turn_latency::clock::duration> turn_latency::on_upstream(upstream::event_kind kind, bool dropped_late,
                                                                       clock::time_point now) noexcept {
  switch (kind) {
    case upstream::event_kind::caller_speech_started:
      // The caller speaks again: the wait restarts at their next speech-stopped.
      phase_ = phase::idle;
      return std::nullopt;
    case upstream::event_kind::caller_speech_stopped:
      phase_ = phase::awaiting_audio;
      speech_stopped_at_ = now;
      return std::nullopt;
    case upstream::event_kind::assistant_audio:
      if (phase_ != phase::awaiting_audio || dropped_late) return std::nullopt;
      phase_ = phase::awaiting_echo;
      return now - speech_stopped_at_;
    default: return std::nullopt;
  }
}

std::optional<turn_latency::clock::duration> turn_latency::on_mark_echo(clock::time_point now) noexcept {
  if (phase_ != phase::awaiting_echo) return std::nullopt;
  phase_ = phase::idle;
  return now - speech_stopped_at_;
}

}  // namespace mb::call
