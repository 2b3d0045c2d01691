#pragma once
// How long a caller waits for an answer, turn by turn: the waterfall of one assistant turn (docs/latency.md,
// "A call's waterfall"). A turn starts when the caller stops speaking and records, from there, the
// answer's first delta (transcript or audio), its first audio written to Twilio, and Twilio's first mark
// echo after that, which says the audio is being heard; plus the bridge's own share of the first audio:
// the upstream message carrying it read from the socket -> its media message written to Twilio.
//
// The caller's end of speech is the provider's caller_speech_stopped. A provider that never sends one
// (GPT-Live, Gemini Live; or Realtime without turn detection) gets the bridge's estimate instead: the
// arrival of the last caller frame loud enough to be speech (voiced_ulaw_b64) before the first delta of
// a new answer. Once a provider has sent a speech-stopped, the call's turns are the provider's only: an
// answer without one (a greeting, a tool's follow-up) was not a reply to the caller's speech.
//
// A turn is complete at the first mark echo after its first audio, or when the caller cuts it (speech
// started) before that echo: to_heard is then unset. A turn whose answer was cut before any of its audio
// was written records nothing, nor do late deltas of an answer the caller cut.
//
// Events in, records out; no clock of its own: every event carries the shell's steady-clock time.
// Nothing is allocated per relayed frame (the item id and the decoding scratch keep their capacity).
//
// Thread safety: none. One per call, used on that call's executor only.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "call/events.hpp"
#include "upstream/event.hpp"

namespace mb::call {

// A 20 ms frame of caller speech, not line noise: its RMS reaches this level (a normal voice is
// -30…-15 dBFS, a phone line's noise below -50 dBFS).
inline constexpr double voiced_level_dbfs = -40.0;

// Whether base64 μ-law audio reaches voiced_level_dbfs (RMS over all its samples). `scratch` holds the
// decoded codes and keeps its capacity. Invalid base64 or no audio: false.
[[nodiscard]] bool voiced_ulaw_b64(std::string_view payload_b64, std::string& scratch);

class turn_latency {
 public:
  using clock = std::chrono::steady_clock;

  // One complete turn.
  struct record {
    std::int64_t turn = 0;  // 1, 2, ... within the call, in the order turns complete
    std::string item_id;    // the answer's item, from its first delta
    bool stopped_by_provider = false;
    clock::time_point stopped_at{};
    clock::duration to_first_delta{};
    clock::duration to_first_audio{};  // written to Twilio
    std::optional<clock::duration> to_heard;
    clock::duration bridge{};  // the first audio's upstream message read -> written to Twilio
  };

  // One caller media frame (base64 μ-law), as read. Analysed only while the estimate may be needed.
  void on_caller_audio(std::string_view payload_b64, clock::time_point now);
  // One neutral upstream event, after call_state has handled it. `late`: an assistant delta of an
  // answer call_state cut (the caller will not hear it). A cut turn comes back complete.
  std::optional<record> on_upstream(const upstream::event& ev, bool late, clock::time_point now);
  // A timed message was written to Twilio: `since`, when the message it relays was read (media: the
  // step that queued it). The first one at or after the turn's first audio was read is that audio.
  std::optional<record> on_twilio_written(clock::time_point since, clock::time_point written);
  // Twilio echoed a mark: after the turn's first audio was written, the turn is complete.
  std::optional<record> on_mark_echo(clock::time_point now);

  // Set when the last on_upstream() read the first audio of a turn the provider's speech-stopped began:
  // the time since then (what mediabridge_turn_first_delta_seconds measures, as it happens).
  [[nodiscard]] std::optional<clock::duration> provider_turn_first_audio() const noexcept {
    return provider_turn_first_audio_;
  }

 private:
  enum class phase {
    idle,            // no turn: waiting for the caller to stop speaking
    awaiting_delta,  // the caller stopped; no answer yet
    awaiting_audio,  // the answer's first delta was a transcript
    awaiting_write,  // its first audio is queued for Twilio
    awaiting_echo,   // written: waiting for Twilio's mark echo
  };

  void begin_turn(clock::time_point stopped_at, bool by_provider);
  void on_answer_delta(const upstream::event& ev, clock::time_point now);
  void on_first_audio(clock::time_point now);
  record complete(std::optional<clock::time_point> heard_at);

  phase phase_ = phase::idle;
  clock::time_point stopped_at_{};
  bool stopped_by_provider_ = false;
  clock::time_point first_delta_at_{};
  clock::time_point first_audio_read_at_{};
  clock::time_point first_audio_written_at_{};
  bool cut_before_written_ = false;  // the caller spoke while the first audio was being written
  std::optional<clock::duration> provider_turn_first_audio_;
  std::string item_id_;
  std::int64_t turns_ = 0;

  // The answer whose deltas came last: a turn's answer is a response other than the one under way
  // when the caller stopped.
  std::string last_response_;
  bool provider_signals_stop_ = false;
  std::optional<clock::time_point> last_voiced_at_;  // since the last answer began
  std::string decoded_;
};

// The listeners' event for a complete turn. `now` and `unix_ms_now`: the same moment on the steady and
// the wall clock, to place the caller's end of speech in wall-clock time.
[[nodiscard]] turn_waterfall waterfall_event(const turn_latency::record& r, turn_latency::clock::time_point now,
                                             std::int64_t unix_ms_now);

}  // namespace mb::call
