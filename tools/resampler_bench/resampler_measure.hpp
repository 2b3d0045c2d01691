#pragma once
// Measurements of a codec::resampler preset on phone audio (docs/performance.md, "Resampling"): the
// unit tests assert thresholds on them (tests/unit/codec/resampler_quality_test.cpp) and
// mediabridge-resampler-bench prints them as the table in the docs.
//
// Every signal is generated analytically, so the ideal output (the same signal sampled at the output
// rate, without what the output band cannot hold) is exact. Input is int16 at half of full scale and
// goes through the resampler in 20 ms chunks, then flush(), as the bridge drives it.
//
// @par Thread Safety
// All functions are pure and reentrant.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/resampler.hpp"

namespace mb::tools::resampler_bench {

// The telephone band whose flatness and freedom from aliases the bridge needs.
inline constexpr double band_low_hz = 300;
inline constexpr double band_high_hz = 3400;

struct direction {
  double in_rate = 8000;
  double out_rate = 16000;
};
inline constexpr direction caller_direction{8000, 16000};     // the phone to Gemini
inline constexpr direction assistant_direction{24000, 8000};  // Gemini to the phone

// `samples` of a sine at `hz`, sampled at `rate`, rounded to int16.
[[nodiscard]] std::vector<std::int16_t> sine(double hz, double rate, std::size_t samples, double amplitude = 12000);

// Runs `in` through a fresh resampler in chunks of `chunk_samples`, then flushes it.
[[nodiscard]] std::vector<std::int16_t> resample(direction d, codec::resample_preset preset,
                                                 std::span<const std::int16_t> in, std::size_t chunk_samples);

// Gain in dB of a tone at `hz` (in the passband: 0 is perfect).
[[nodiscard]] double tone_gain_db(direction d, codec::resample_preset preset, double hz);

// The spread (max − min) of tone_gain_db over 300-3400 Hz in 50 Hz steps.
[[nodiscard]] double passband_ripple_db(direction d, codec::resample_preset preset);

// The weakest rejection, in dB below the tone, of the spurious products the conversion puts in the
// telephone band: downsampling, tones above the output's Nyquist whose alias folds into 300-3400 Hz
// (the whole output is alias); upsampling, the images of 300-3400 Hz tones above the input's Nyquist.
[[nodiscard]] double alias_rejection_db(direction d, codec::resample_preset preset);

enum class test_signal {
  sweep,   // a logarithmic sine sweep 300 → 3400 Hz over 2 s
  speech,  // harmonics of 140 Hz under three formants and a syllable-rate envelope, with the
           // sibilant-like harmonics from 4.6 kHz up when the input rate has room for them
};

struct snr_result {
  double snr_db = 0;     // against the ideal output, shifted by offset_ms
  double offset_ms = 0;  // the shift of the output against the input that fits best (≥ 0: later)
};
// SNR of the resampled signal against the ideal output, aligned by the measured offset (found to a
// fraction of a sample). Measured away from the edges, where the signal starts and stops abruptly.
[[nodiscard]] snr_result snr_against_ideal(direction d, codec::resample_preset preset, test_signal signal);

struct held_back {
  double mean_ms = 0;
  double max_ms = 0;
};
// The audio the resampler holds back after each 20 ms chunk, in steady state: the latency it adds on
// top of offset_ms (an output sample leaves only once later input has arrived).
[[nodiscard]] held_back held_back_ms(direction d, codec::resample_preset preset);

}  // namespace mb::tools::resampler_bench
