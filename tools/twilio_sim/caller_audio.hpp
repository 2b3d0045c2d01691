#pragma once
// What the simulated caller says: a script of speech and silence, or recorded μ-law bytes, cut into the
// 20 ms frames Twilio sends (protocols.md B6: μ-law 8 kHz mono, 8 bytes per ms, 160 bytes per frame).
//
// @par Thread Safety
// caller_audio is a plain value: not thread-safe, cheap to create per call. speech_frame() is safe to
// call from any thread.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb::tools::twilio {

inline constexpr int frame_ms = 20;
inline constexpr std::size_t ulaw_bytes_per_ms = 8;
inline constexpr std::size_t frame_bytes = frame_ms * ulaw_bytes_per_ms;

// When a frame due at `due` leaves: at once, or with `grid` > 0 at the next multiple of `grid` on the
// clock, so that the calls whose frames fall due within one period of the grid share one wake-up.
// A load generator driving many calls uses it to spend less of its CPU on wake-ups
// (docs/performance.md, "A cheaper load generator").
[[nodiscard]] inline std::chrono::steady_clock::time_point send_time_on_grid(std::chrono::steady_clock::time_point due,
                                                                              std::chrono::steady_clock::duration grid) {
  if (grid <= grid.zero()) return due;
  const auto rest = due.time_since_epoch() % grid;
  return rest == rest.zero() ? due : due - rest + grid;
}

enum class audio_kind { silence, speech };

struct audio_segment {
  audio_kind kind = audio_kind::silence;
  int ms = 0;  // any length; segments join sample-exactly, the last frame is padded with silence
};

// One 20 ms frame of "speech": tones at 450, 1150 and 2350 Hz (inside the 300–3400 Hz phone band)
// with a combined level of -10 dBFS (RMS relative to a full-scale sine). All three are multiples of
// 50 Hz, so the signal repeats every 160 samples and any frame of continuous speech equals this one.
[[nodiscard]] std::string_view speech_frame();

class caller_audio {
 public:
  caller_audio() = default;  // no audio: the first next_frame() is already empty
  explicit caller_audio(std::vector<audio_segment> script);
  // Recorded μ-law (shared, so many simulated calls can play one buffer without copies).
  explicit caller_audio(std::shared_ptr<const std::string> ulaw);

  // The next 160-byte frame, or an empty view once the audio is exhausted. The view stays valid until
  // the next call (it may point into this object).
  [[nodiscard]] std::string_view next_frame();
  // Where in the frame next_frame() last returned a scripted speech segment starts, in bytes (8 per
  // ms); nullopt: none starts in it.
  [[nodiscard]] std::optional<std::size_t> speech_began_at() const noexcept { return speech_began_at_; }

  [[nodiscard]] std::size_t total_bytes() const noexcept { return total_bytes_; }
  [[nodiscard]] bool done() const noexcept { return position_ >= total_bytes_; }

 private:
  std::vector<audio_segment> script_;
  std::shared_ptr<const std::string> ulaw_;
  std::size_t total_bytes_ = 0;
  std::size_t position_ = 0;       // bytes already framed
  std::size_t segment_ = 0;        // script: current segment
  std::size_t segment_used_ = 0;   // script: bytes of the current segment already framed
  std::optional<std::size_t> speech_began_at_;
  std::string frame_;
};

}  // namespace mb::tools::twilio
