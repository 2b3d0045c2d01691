#pragma once
// The phone's audio (G.711 μ-law, 8 kHz) and a provider's linear PCM (signed 16-bit little-endian mono at
// the provider's rate), one direction each, for providers that cannot take or send μ-law
// (docs/protocols.md F3). Bytes in, bytes out; base64 stays with the caller.
//
// Both keep their buffers between calls, sized at construction for chunks up to 500 ms: after the
// resampler's first second and first flush or reset (resampler.hpp), nothing allocates, neither a
// chunk nor a flush or reset (tests/alloc/codec_alloc_test.cpp).
//
// @par Thread Safety
// None: one instance belongs to one call's direction.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/resampler.hpp"

namespace mb::codec {

inline constexpr int phone_rate = 8000;
// Twilio plays μ-law in 20 ms frames: 160 bytes at 8 kHz.
inline constexpr std::size_t phone_frame_bytes = 160;

// The presets the bridge uses each way (measured in tests/unit/codec/resampler_quality_test.cpp;
// docs/performance.md, "Resampling").
// The telephone mask keeps the band flat and free of aliases with a quarter of medium's delay; linear
// phase keeps the waveform (SNR ≥ 76 dB, where other phases measure 12-21 dB) and costs 2-3 ms
// more than minimum phase.
inline constexpr resample_preset caller_preset{resample_quality::telephone, resample_phase::linear};
inline constexpr resample_preset assistant_preset{resample_quality::telephone, resample_phase::linear};

// Caller μ-law at 8 kHz → PCM16 LE at the provider's rate.
class ulaw_to_pcm16 {
 public:
  ulaw_to_pcm16(int provider_rate, resample_preset preset);

  // The PCM bytes for `ulaw`; valid until the next call.
  [[nodiscard]] std::string_view convert(std::span<const std::uint8_t> ulaw);
  void reset() { resampler_.reset(); }

 private:
  resampler resampler_;
  std::vector<std::int16_t> linear_;
  std::vector<std::int16_t> resampled_;
  std::string bytes_;
};

// Provider PCM16 LE at its rate → μ-law at 8 kHz in whole 20 ms frames. A chunk's last partial frame
// (and an odd trailing byte) is held for the next chunk, so that every frame sent to Twilio is whole.
class pcm16_to_ulaw {
 public:
  pcm16_to_ulaw(int provider_rate, resample_preset preset);

  // The μ-law bytes of the whole frames that `pcm` completes; valid until the next call.
  [[nodiscard]] std::string_view convert(std::string_view pcm);
  // The end of the assistant's turn: what the resampler and the held partial frame still hold, padded
  // with silence to a whole frame, so no tail is lost. Starts the next turn afresh.
  [[nodiscard]] std::string_view flush();
  // A barge-in: drops what is held, so nothing of the cut turn is heard later.
  void reset();

 private:
  // Encodes `samples` after the held partial frame and moves whole frames to out_.
  void emit(std::span<const std::int16_t> samples);

  resampler resampler_;
  std::vector<std::int16_t> linear_;
  std::vector<std::int16_t> resampled_;
  std::string held_;   // μ-law of a partial frame
  std::string out_;
  bool odd_byte_ = false;
  char pending_byte_ = 0;  // the low byte of a sample split between chunks
};

}  // namespace mb::codec
