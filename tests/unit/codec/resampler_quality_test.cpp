// The quality the bridge's resampler presets must reach on phone audio, measured as
// tools/resampler_bench/resampler_measure.hpp describes (docs/performance.md, "Resampling (libsoxr)",
// has the whole table). Each threshold is set from the measurement with a margin, and each is shown
// to fail for a preset that really lacks the property: the measures can tell.

#include <catch2/catch.hpp>

#include "codec/transcoder.hpp"
#include "tools/resampler_bench/resampler_measure.hpp"

namespace {

using namespace mb::codec;
using namespace mb::tools::resampler_bench;

// Measured 0.000 dB both ways for the telephone presets (SoX's small rolloff: ≤ 0.01 dB).
constexpr double max_ripple_db = 0.1;
// Measured 96 dB (8→16) and 94 dB (24→8): the int16 floor of a half-scale tone. G.711 itself keeps
// about 38 dB, so 60 dB leaves the aliases far below what the phone can carry.
constexpr double min_alias_rejection_db = 60;
// Measured 90 dB (sweep) and 76-80 dB (speech-like) for linear phase.
constexpr double min_snr_db = 60;
// Measured means 16.1 ms (8→16) and 10.6 ms (24→8): libsoxr's DFT blocks, not the filter, set them.
constexpr double max_caller_held_ms = 20;
constexpr double max_assistant_held_ms = 14;

constexpr resample_preset quick{resample_quality::quick, resample_phase::linear};
constexpr resample_preset low{resample_quality::low, resample_phase::linear};
constexpr resample_preset medium{resample_quality::medium, resample_phase::linear};
constexpr resample_preset minimum_phase{resample_quality::telephone, resample_phase::minimum};

}  // namespace

TEST_CASE("resampler quality: the passband 300-3400 Hz is flat", "[resampler][quality]") {
  CHECK(passband_ripple_db(caller_direction, caller_preset) <= max_ripple_db);
  CHECK(passband_ripple_db(assistant_direction, assistant_preset) <= max_ripple_db);
  // low's band ends at 2.7 kHz: measured 7.9 dB down at 3.4 kHz.
  CHECK(passband_ripple_db(caller_direction, low) > max_ripple_db);
  // The ripple is a spread, not an absolute: a tone in the band keeps its level as well.
  CHECK(tone_gain_db(assistant_direction, assistant_preset, 1000) == Approx(0).margin(0.05));
}

TEST_CASE("resampler quality: aliases and images are rejected in the telephone band", "[resampler][quality]") {
  CHECK(alias_rejection_db(caller_direction, caller_preset) >= min_alias_rejection_db);
  CHECK(alias_rejection_db(assistant_direction, assistant_preset) >= min_alias_rejection_db);
  // Cubic interpolation has no anti-aliasing filter: measured 9.7 dB (8→16) and 0 dB (24→8).
  CHECK(alias_rejection_db(caller_direction, quick) < min_alias_rejection_db);
  CHECK(alias_rejection_db(assistant_direction, quick) < min_alias_rejection_db);
}

TEST_CASE("resampler quality: SNR against the ideal output", "[resampler][quality]") {
  for (auto signal : {test_signal::sweep, test_signal::speech}) {
    CAPTURE(static_cast<int>(signal));
    const auto caller = snr_against_ideal(caller_direction, caller_preset, signal);
    CHECK(caller.snr_db >= min_snr_db);
    CHECK(caller.offset_ms == Approx(0).margin(0.01));  // linear phase: libsoxr aligns the output
    const auto assistant = snr_against_ideal(assistant_direction, assistant_preset, signal);
    CHECK(assistant.snr_db >= min_snr_db);
    CHECK(assistant.offset_ms == Approx(0).margin(0.01));
  }
  // Minimum phase bends the waveform (measured 15 dB); low loses the band's top (52 dB, 38 dB speech).
  CHECK(snr_against_ideal(caller_direction, minimum_phase, test_signal::sweep).snr_db < min_snr_db);
  CHECK(snr_against_ideal(assistant_direction, low, test_signal::speech).snr_db < min_snr_db);
  // Cubic interpolation folds the speech-like signal's sibilance into the band (measured 9.5 dB).
  CHECK(snr_against_ideal(assistant_direction, quick, test_signal::speech).snr_db < min_snr_db);
}

TEST_CASE("resampler quality: the delay each direction adds", "[resampler][quality]") {
  const auto caller = held_back_ms(caller_direction, caller_preset);
  const auto assistant = held_back_ms(assistant_direction, assistant_preset);
  CHECK(caller.mean_ms <= max_caller_held_ms);
  CHECK(assistant.mean_ms <= max_assistant_held_ms);
  CHECK(caller.max_ms >= caller.mean_ms);
  // medium's steeper filter needs longer DFT blocks: measured 63 ms and 43 ms.
  CHECK(held_back_ms(caller_direction, medium).mean_ms > max_caller_held_ms);
  CHECK(held_back_ms(assistant_direction, medium).mean_ms > max_assistant_held_ms);
}
