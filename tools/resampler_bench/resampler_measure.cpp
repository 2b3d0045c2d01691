#include "tools/resampler_bench/resampler_measure.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>

namespace mb::tools::resampler_bench {
namespace {

constexpr double amplitude = 16384;  // half of int16 full scale
constexpr double chunk_ms = 20;
constexpr double two_pi = 2 * std::numbers::pi;

using waveform = std::function<double(double seconds)>;

std::size_t samples_for(double seconds, double rate) { return static_cast<std::size_t>(std::lround(seconds * rate)); }

std::vector<std::int16_t> sampled(const waveform& w, double rate, double seconds) {
  std::vector<std::int16_t> out(samples_for(seconds, rate));
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::int16_t>(std::lround(std::clamp(w(static_cast<double>(i) / rate), -32768.0, 32767.0)));
  }
  return out;
}

std::vector<std::int16_t> resample_waveform(direction d, codec::resample_preset preset, const waveform& w, double seconds) {
  const auto in = sampled(w, d.in_rate, seconds);
  return resample(d, preset, in, samples_for(chunk_ms / 1000, d.in_rate));
}

// The least-squares amplitude of a sinusoid at `hz` in out[first, last): exact for a pure tone
// whatever the number of periods in the window.
double amplitude_at(std::span<const std::int16_t> out, double rate, double hz, std::size_t first, std::size_t last) {
  double cc = 0, ss = 0, cs = 0, xc = 0, xs = 0;
  for (std::size_t i = first; i < last && i < out.size(); ++i) {
    const double phase = two_pi * hz * static_cast<double>(i) / rate;
    const double c = std::cos(phase), s = std::sin(phase), x = out[i];
    cc += c * c, ss += s * s, cs += c * s, xc += x * c, xs += x * s;
  }
  const double det = cc * ss - cs * cs;
  const double a = (xc * ss - xs * cs) / det;
  const double b = (xs * cc - xc * cs) / det;
  return std::hypot(a, b);
}

double rms(std::span<const std::int16_t> out, std::size_t first, std::size_t last) {
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = first; i < last && i < out.size(); ++i, ++n) sum += static_cast<double>(out[i]) * out[i];
  return n == 0 ? 0 : std::sqrt(sum / static_cast<double>(n));
}

double db(double ratio) { return 20 * std::log10(ratio); }

// Tones last 0.4 s and are measured over 0.1-0.3 s of the output, clear of both edges.
constexpr double tone_seconds = 0.4;
constexpr double window_start = 0.1, window_end = 0.3;

waveform tone(double hz) {
  return [hz](double t) { return amplitude * std::sin(two_pi * hz * t); };
}

struct partial {
  double hz;
  double amp;
  double phase;
};

// A signal's parts: what goes in, and the ideal output (the part the output band keeps).
struct signal_parts {
  waveform input;
  waveform ideal;
  double seconds;
};

signal_parts sweep_parts() {
  constexpr double f0 = band_low_hz, f1 = band_high_hz, seconds = 2;
  const double k = std::log(f1 / f0) / seconds;
  waveform w = [k](double t) { return amplitude * std::sin(two_pi * f0 * (std::exp(k * t) - 1) / k); };
  return {w, w, seconds};
}

// The transition band of the telephone mask (resampler.hpp, `telephone`): harmonics there have no
// single right answer, so the speech-like signal leaves them out.
bool in_transition(double hz) { return hz > band_high_hz && hz < 4600; }

signal_parts speech_parts(direction d) {
  constexpr double f0 = 140, seconds = 2;
  const double top = 0.95 * d.in_rate / 2;
  std::vector<partial> all;
  std::uint32_t seed = 12345;  // a fixed LCG: the same phases on every run
  for (double hz = f0; hz <= top; hz += f0) {
    if (in_transition(hz)) continue;
    seed = seed * 1664525u + 1013904223u;
    const double phase = two_pi * seed / 4294967296.0;
    double gain = 0.1 * f0 / hz;  // the glottal tilt, −6 dB per octave
    for (auto [formant, width] : {std::pair{500.0, 80.0}, {1500.0, 120.0}, {2500.0, 160.0}}) {
      const double x = (hz - formant) / width;
      gain += 1 / (1 + x * x);
    }
    if (hz >= 4600) gain = 0.1;  // sibilance: what downsampling must not fold into the band
    all.push_back({hz, gain, phase});
  }
  double total = 0;
  for (const auto& p : all) total += p.amp;
  for (auto& p : all) p.amp *= 0.9 * 32767 / total;  // peak within full scale even at the envelope's top
  auto syllables = [](double t) { return 0.55 + 0.45 * std::sin(two_pi * 4 * t); };
  auto sum_of = [syllables](std::vector<partial> parts) {
    return [parts = std::move(parts), syllables](double t) {
      double x = 0;
      for (const auto& p : parts) x += p.amp * std::sin(two_pi * p.hz * t + p.phase);
      return x * syllables(t);
    };
  };
  std::vector<partial> kept;
  std::copy_if(all.begin(), all.end(), std::back_inserter(kept), [](const partial& p) { return p.hz <= band_high_hz; });
  return {sum_of(all), sum_of(kept), seconds};
}

// The squared error of `out` against the ideal shifted later by `offset` seconds, over [first, last).
double error_energy(std::span<const std::int16_t> out, double rate, const waveform& ideal, double offset,
                    std::size_t first, std::size_t last) {
  double e = 0;
  for (std::size_t i = first; i < last; ++i) {
    const double diff = out[i] - ideal(static_cast<double>(i) / rate - offset);
    e += diff * diff;
  }
  return e;
}

}  // namespace

std::vector<std::int16_t> sine(double hz, double rate, std::size_t samples, double amplitude) {
  return sampled([=](double t) { return amplitude * std::sin(two_pi * hz * t); }, rate, static_cast<double>(samples) / rate);
}

std::vector<std::int16_t> resample(direction d, codec::resample_preset preset, std::span<const std::int16_t> in,
                                   std::size_t chunk_samples) {
  codec::resampler r(d.in_rate, d.out_rate, preset);
  std::vector<std::int16_t> out;
  std::vector<std::int16_t> buffer;
  for (std::size_t at = 0; at < in.size(); at += chunk_samples) {
    const auto chunk = in.subspan(at, std::min(chunk_samples, in.size() - at));
    buffer.resize(r.max_output(chunk.size()));
    out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.process(chunk, buffer)));
  }
  buffer.resize(r.max_tail());
  out.insert(out.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(r.flush(buffer)));
  return out;
}

double tone_gain_db(direction d, codec::resample_preset preset, double hz) {
  const auto out = resample_waveform(d, preset, tone(hz), tone_seconds);
  return db(amplitude_at(out, d.out_rate, hz, samples_for(window_start, d.out_rate), samples_for(window_end, d.out_rate)) /
            amplitude);
}

double passband_ripple_db(direction d, codec::resample_preset preset) {
  double lowest = std::numeric_limits<double>::infinity(), highest = -lowest;
  for (double hz = band_low_hz; hz <= band_high_hz; hz += 50) {
    const double gain = tone_gain_db(d, preset, hz);
    lowest = std::min(lowest, gain);
    highest = std::max(highest, gain);
  }
  return highest - lowest;
}

double alias_rejection_db(direction d, codec::resample_preset preset) {
  const std::size_t first = samples_for(window_start, d.out_rate), last = samples_for(window_end, d.out_rate);
  double weakest = std::numeric_limits<double>::infinity();
  if (d.out_rate < d.in_rate) {
    for (double hz = d.out_rate / 2 + 100; hz < d.in_rate / 2; hz += 100) {
      const double folded = std::abs(hz - d.out_rate * std::round(hz / d.out_rate));
      if (folded < band_low_hz || folded > band_high_hz) continue;
      const auto out = resample_waveform(d, preset, tone(hz), tone_seconds);
      weakest = std::min(weakest, db(amplitude / (std::sqrt(2.0) * rms(out, first, last))));
    }
  } else {
    for (double hz = band_low_hz; hz <= band_high_hz; hz += 100) {
      const auto out = resample_waveform(d, preset, tone(hz), tone_seconds);
      weakest = std::min(weakest, db(amplitude / amplitude_at(out, d.out_rate, d.in_rate - hz, first, last)));
    }
  }
  return weakest;
}

snr_result snr_against_ideal(direction d, codec::resample_preset preset, test_signal signal) {
  const signal_parts parts = signal == test_signal::sweep ? sweep_parts() : speech_parts(d);
  const auto out = resample_waveform(d, preset, parts.input, parts.seconds);
  const std::size_t first = samples_for(0.1, d.out_rate);
  const std::size_t last = std::min(out.size(), samples_for(parts.seconds - 0.1, d.out_rate));

  // The whole-sample shift first (−2 ms to +20 ms), on the ideal sampled once ...
  std::vector<double> ideal(out.size());
  for (std::size_t i = 0; i < ideal.size(); ++i) ideal[i] = parts.ideal(static_cast<double>(i) / d.out_rate);
  const auto earliest = -static_cast<std::ptrdiff_t>(samples_for(0.002, d.out_rate));
  const auto latest = static_cast<std::ptrdiff_t>(samples_for(0.020, d.out_rate));
  std::ptrdiff_t best_lag = 0;
  double best_error = std::numeric_limits<double>::infinity();
  for (std::ptrdiff_t lag = earliest; lag <= latest; ++lag) {
    double e = 0;
    for (std::size_t i = first; i < last; ++i) {
      const double diff = out[i] - ideal[static_cast<std::size_t>(static_cast<std::ptrdiff_t>(i) - lag)];
      e += diff * diff;
    }
    if (e < best_error) best_error = e, best_lag = lag;
  }
  // ... then the fraction, by golden-section search on the analytic ideal within a sample either side.
  const double step = 1 / d.out_rate;
  double lo = (static_cast<double>(best_lag) - 1) * step, hi = (static_cast<double>(best_lag) + 1) * step;
  const double golden = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 40; ++i) {
    const double a = hi - golden * (hi - lo), b = lo + golden * (hi - lo);
    if (error_energy(out, d.out_rate, parts.ideal, a, first, last) < error_energy(out, d.out_rate, parts.ideal, b, first, last)) {
      hi = b;
    } else {
      lo = a;
    }
  }
  const double offset = (lo + hi) / 2;
  double energy = 0;
  for (std::size_t i = first; i < last; ++i) {
    const double x = parts.ideal(static_cast<double>(i) / d.out_rate - offset);
    energy += x * x;
  }
  return {10 * std::log10(energy / error_energy(out, d.out_rate, parts.ideal, offset, first, last)), offset * 1000};
}

held_back held_back_ms(direction d, codec::resample_preset preset) {
  const auto in = sampled(sweep_parts().input, d.in_rate, 2);
  const std::size_t chunk = samples_for(chunk_ms / 1000, d.in_rate);
  codec::resampler r(d.in_rate, d.out_rate, preset);
  std::vector<std::int16_t> buffer;
  double sum = 0, highest = 0;
  std::size_t counted = 0;
  for (std::size_t at = 0; at + chunk <= in.size(); at += chunk) {
    buffer.resize(r.max_output(chunk));
    (void)r.process(std::span(in).subspan(at, chunk), buffer);
    if (at < in.size() / 4) continue;  // past the start, where the filter is still filling
    const double ms = r.delay_samples() * 1000 / d.out_rate;
    sum += ms, highest = std::max(highest, ms), ++counted;
  }
  return {sum / static_cast<double>(counted), highest};
}

}  // namespace mb::tools::resampler_bench
