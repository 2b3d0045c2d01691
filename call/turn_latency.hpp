#pragma once
// How long a caller waits for an answer, in two steps: from the end of the caller's speech (the
// provider's speech-stopped) to the first assistant audio relayed to Twilio, and on to Twilio's first
// mark echo after it, which says that audio is being heard. Events in, durations out; no clock of its
// own: every event carries the shell's steady-clock time.
//
// Thread safety: none. One per call, used on that call's executor only.

#include <chrono>
#include <optional>

#include "upstream/event.hpp"

namespace mb::call {

class turn_latency {
 public:
  using clock = std::chrono::steady_clock;

  // One neutral upstream event, after call_state has handled it. `dropped_late`: call_state dropped
  // this assistant audio as a late delta of a cut answer, so the caller will not hear it. Returns the
  // time from the caller's speech stopping to the answer's first relayed audio, once per turn.
  std::optional<clock::duration> on_upstream(upstream::event_kind kind, bool dropped_late, clock::time_point now) noexcept;
  // Twilio echoed a mark. Returns the time from the caller's speech stopping to the first echo after
  // the answer's first relayed audio, once per turn.
  std::optional<clock::duration> on_mark_echo(clock::time_point now) noexcept;

 private:
  enum class phase { idle, awaiting_audio, awaiting_echo };
  phase phase_ = phase::idle;
  clock::time_point speech_stopped_at_{};
};

}  // namespace mb::call
