#pragma once
// A call recording's stereo WAV (docs/recording.md "The WAV"), built from the event log's entries as
// they come, in bounded memory. Sample 0 is the log's t = 0 (8 samples per ms of t):
// - left: the caller as Twilio sent it, each media frame placed at its media.timestamp, moved earlier
//   by the offset the caller's frames show when they arrive before their own timestamp (the bridge's
//   Twilio clock, call/call_state.hpp), so a frame is never placed after the bridge received it;
// - right: the assistant as the caller heard it: what the bridge sent Twilio, played in order from
//   when it was sent, re-anchored by each mark's echo (the audio before a mark ended when its echo
//   came back), cut where a clear took effect: the first echo of a mark pending at the clear, as
//   Twilio echoes them all at once then (docs/protocols.md B5), or the clear itself when none comes.
// 16-bit PCM, 8 kHz, 2 channels, samples interleaved left, right.
//
// Content is final once no later entry can change it; content that waits longer than wav_hold_ms
// (for a mark's echo, or for caller frames that do not come) is written as it stands, and anything
// that later falls before what is written is dropped (stats().dropped_samples).
//
// Memory: at most wav_max_held_bytes for the audio and bookkeeping not yet written (held_bytes()),
// plus the JSON parser's buffers for the largest message parsed (at most wav_max_message_bytes).
// Twilio messages that are malformed or exceed a bound are ignored and counted.
//
// @par Thread Safety
// Not thread-safe; one builder per recording.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "record/log_format.hpp"

namespace mb::record {

inline constexpr int wav_sample_rate = 8000;
inline constexpr std::size_t wav_header_bytes = 44;
inline constexpr std::size_t wav_bytes_per_sample = 4;  // 2 channels × 16 bits

// How long content may wait for what could still change it (a mark's echo, caller frames).
inline constexpr double wav_hold_ms = 10000;
// Twilio messages longer than this are ignored (about 24 s of audio as base64).
inline constexpr std::size_t wav_max_message_bytes = 256 * 1024;
// The bound on held_bytes(): 160 kB of caller audio (twice wav_hold_ms), 960 kB of assistant audio
// sent but not yet written (two minutes: far beyond PACING_LEAD_MS), 4096 queued marks and clears,
// 4096 gaps per channel, and their records.
inline constexpr std::size_t wav_max_held_bytes = 2 * 1024 * 1024;

// The RIFF header of a stereo 16-bit 8 kHz WAV whose data chunk is `data_bytes` long (clamped to
// what RIFF's 32-bit sizes can say).
[[nodiscard]] std::array<char, wav_header_bytes> wav_header(std::uint64_t data_bytes);

struct wav_builder_stats {
  std::uint64_t ignored_messages = 0;  // Twilio messages that were malformed, unusable or too long
  std::uint64_t dropped_samples = 0;   // audio samples not written: too late, or beyond a bound
};

class wav_builder {
 public:
  wav_builder();
  ~wav_builder();
  wav_builder(wav_builder&&) noexcept;
  wav_builder& operator=(wav_builder&&) noexcept;

  // One entry of the log; only Twilio's media, mark and clear messages matter, but every entry's t_ms
  // moves the clock on. `message_json` is the entry's minified message (payload_kind::json), empty
  // otherwise.
  void on_entry(direction dir, double t_ms, std::string_view message_json);
  // Appends the interleaved samples whose content is now final (little-endian).
  void take_ready(std::string& out);
  // The call ended at t_ms: appends everything left, up to t_ms; later entries are ignored.
  void finish(double t_ms, std::string& out);
  [[nodiscard]] std::uint64_t data_bytes() const noexcept;

  // Bytes of audio and bookkeeping held for samples not yet written; never above wav_max_held_bytes.
  [[nodiscard]] std::size_t held_bytes() const noexcept;
  [[nodiscard]] const wav_builder_stats& stats() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::record
