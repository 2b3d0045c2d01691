#pragma once
// A streaming sample-rate converter for one direction of one call: libsoxr on signed 16-bit mono
// samples, its filter state carried from one chunk to the next, so that chunk borders are inaudible.
//
// Each preset is a libsoxr recipe and phase response; tests/unit/codec/resampler_quality_test.cpp
// measures them (passband ripple, aliasing rejection, SNR, added delay) and docs/performance.md says
// why the bridge uses the ones it does.
//
// Allocation: libsoxr builds its filter (17-21 heap blocks) at construction, and its FIFOs grow two
// or three times in the first second and the first flush() or reset(); then nothing, however long the
// chunks: process() feeds libsoxr in pieces of a bounded size, and flush() and reset() feed it silence
// rather than rebuild it (resampler.cpp). tests/alloc/codec_alloc_test.cpp counts.
//
// @par Thread Safety
// None: one instance belongs to one call's direction.

#include <cstddef>
#include <cstdint>
#include <span>

namespace mb::codec {

enum class resample_quality {
  quick,   // cubic interpolation: no anti-aliasing to speak of
  low,     // 16-bit precision, a wide rolloff: flat only to 0.68 of the lower Nyquist (2.7 kHz at 8 kHz)
  medium,  // 16-bit precision, a medium rolloff
  high,    // 20-bit precision
  // 16-bit precision with G.712's telephone mask, relative to the lower rate's Nyquist: flat to 0.85
  // (3.4 kHz at 8 kHz), stopband from 1.15 (4.6 kHz). What leaks in 4.0-4.6 kHz folds to 3.4-4.0 kHz,
  // outside the telephone band; the wide transition makes the filter, and so the delay, short.
  telephone,
};

enum class resample_phase {
  linear,        // symmetric filter: no phase distortion, the longest delay
  intermediate,
  minimum,       // the shortest delay, phase distorted near the band edge
};

struct resample_preset {
  resample_quality quality = resample_quality::medium;
  resample_phase phase = resample_phase::intermediate;
};

class resampler {
 public:
  // Throws std::runtime_error when libsoxr refuses the rates (not positive) or runs out of memory.
  resampler(double in_rate, double out_rate, resample_preset preset);
  ~resampler();
  resampler(resampler&& other) noexcept;
  resampler& operator=(resampler&& other) noexcept;
  resampler(const resampler&) = delete;
  resampler& operator=(const resampler&) = delete;

  // Converts `in`, writing at most out.size() samples; returns how many were written. Give `out` at
  // least max_output(in.size()) samples: input whose output does not fit is lost.
  std::size_t process(std::span<const std::int16_t> in, std::span<std::int16_t> out);
  // The end of a stretch of signal: writes what the filter still holds, then starts afresh (like reset()).
  // Returns how many samples were written; `out` needs room for max_tail().
  std::size_t flush(std::span<std::int16_t> out);
  // Forgets the filter's state (a barge-in: the rest of the old signal must not leak into the next).
  void reset();

  // The most samples process() can write for `in_samples` input samples.
  [[nodiscard]] std::size_t max_output(std::size_t in_samples) const noexcept;
  // The most samples flush() can write.
  [[nodiscard]] std::size_t max_tail() const noexcept;
  // The output samples the filter holds back now (libsoxr's delay): what flush() would release, and
  // the latency it adds, since an output sample leaves only once the input after it has arrived.
  [[nodiscard]] double delay_samples() const noexcept;

 private:
  // Feeds as much of `in` as `out` has room for; returns the samples written, sets `used`.
  std::size_t feed(std::span<const std::int16_t> in, std::span<std::int16_t> out, std::size_t& used);
  // Flushes without ending libsoxr's input (resampler.cpp says why), writing the tail to `tail` or dropping it.
  std::size_t drain(std::span<std::int16_t> tail, bool keep_tail);
  // The output libsoxr owes for the input so far, to the nearest sample.
  [[nodiscard]] std::size_t owed_samples() const noexcept;

  void* handle_ = nullptr;        // soxr_t, kept out of this header
  double ratio_ = 1;              // out_rate / in_rate
  std::size_t input_period_ = 1;  // input samples per whole number of output samples
  std::size_t input_phase_ = 0;   // input samples fed, modulo input_period_
  std::size_t to_drop_ = 0;       // output of drained silence libsoxr still owes
};

}  // namespace mb::codec
