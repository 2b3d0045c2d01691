#pragma once
// A call recording's stereo WAV (docs/recording.md "The WAV"), built from the event log's entries as
// they come, in bounded memory:
// - left: the caller as Twilio sent it, each media frame placed at its media.timestamp;
// - right: the assistant as the caller heard it: what the bridge sent Twilio, played in order from
//   when it was sent, re-anchored by each mark's echo, cut where a clear took effect (docs/protocols.md
//   B5), placed on the same Twilio media clock (bridge time minus the offset the caller's frames show).
// 16-bit PCM, 8 kHz, 2 channels, samples interleaved left, right.
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

// The RIFF header of a stereo 16-bit 8 kHz WAV whose data chunk is `data_bytes` long (clamped to
// what RIFF's 32-bit sizes can say).
[[nodiscard]] std::array<char, wav_header_bytes> wav_header(std::uint64_t data_bytes);

class wav_builder {
 public:
  wav_builder();
  ~wav_builder();
  wav_builder(wav_builder&&) noexcept;
  wav_builder& operator=(wav_builder&&) noexcept;

  // One entry of the log; only Twilio's media, mark and clear messages matter. `message_json` is the
  // entry's minified message (payload_kind::json), empty otherwise.
  void on_entry(direction dir, double t_ms, std::string_view message_json);
  // Appends the interleaved samples whose content is now final (little-endian).
  void take_ready(std::string& out);
  // The call ended at t_ms: appends everything left.
  void finish(double t_ms, std::string& out);
  [[nodiscard]] std::uint64_t data_bytes() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::record
