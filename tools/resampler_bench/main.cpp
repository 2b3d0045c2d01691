// mediabridge-resampler-bench: the "Resampling (libsoxr)" table of docs/performance.md, for every
// preset and both directions of a Gemini call: quality (resampler_measure.hpp) and CPU per 20 ms
// frame through the transcoders the bridge runs. A benchmark, not a test: ctest does not run it, and
// nothing here asserts a time.
//
//   build/tools/resampler_bench/mediabridge-resampler-bench [--cpu-only]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "codec/transcoder.hpp"
#include "tools/resampler_bench/resampler_measure.hpp"

namespace {

using namespace mb;
using namespace mb::tools::resampler_bench;
using clock_type = std::chrono::steady_clock;

const char* name_of(codec::resample_quality q) {
  switch (q) {
    case codec::resample_quality::quick: return "quick";
    case codec::resample_quality::low: return "low";
    case codec::resample_quality::medium: return "medium";
    case codec::resample_quality::high: return "high";
    case codec::resample_quality::telephone: return "telephone";
  }
  return "?";
}

const char* name_of(codec::resample_phase p) {
  switch (p) {
    case codec::resample_phase::linear: return "linear";
    case codec::resample_phase::intermediate: return "intermediate";
    case codec::resample_phase::minimum: return "minimum";
  }
  return "?";
}

double micros_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - start).count();
}

constexpr int provider_rate = 24000;  // Gemini's output; its input is 16 kHz
constexpr int caller_provider_rate = 16000;
constexpr int frames = 5000;  // 100 s of audio per direction and run
// The fastest of several runs: the others lost time to whatever else the machine was doing.
constexpr int runs = 5;

template <typename Run>
double fastest(Run run) {
  double best = run();
  for (int i = 1; i < runs; ++i) best = std::min(best, run());
  return best;
}

// µs per 20 ms frame: the caller's 160-byte μ-law frames to 16 kHz PCM.
double caller_cpu_us(codec::resample_preset preset) {
  codec::ulaw_to_pcm16 t(caller_provider_rate, preset);
  std::vector<std::uint8_t> frame(codec::phone_frame_bytes);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 37);
  std::size_t sink = 0;
  for (int i = 0; i < 100; ++i) sink += t.convert(frame).size();  // warm-up
  const auto start = clock_type::now();
  for (int i = 0; i < frames; ++i) sink += t.convert(frame).size();
  const double us = micros_since(start) / frames;
  return sink == 0 ? -1 : us;
}

// µs per 20 ms of audio: Gemini's 24 kHz PCM in 100 ms chunks to μ-law frames.
double assistant_cpu_us(codec::resample_preset preset) {
  codec::pcm16_to_ulaw t(provider_rate, preset);
  constexpr int chunk_ms = 100;
  std::string chunk(provider_rate / 1000 * chunk_ms * 2, '\0');
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i * 37);
  std::size_t sink = 0;
  for (int i = 0; i < 20; ++i) sink += t.convert(chunk).size();
  const int chunks = frames * 20 / chunk_ms;
  const auto start = clock_type::now();
  for (int i = 0; i < chunks; ++i) sink += t.convert(chunk).size();
  const double us = micros_since(start) / frames;
  return sink == 0 ? -1 : us;
}

// µs for the end of a turn: flush() of the assistant's direction after 100 ms of audio.
double flush_us(codec::resample_preset preset) {
  codec::pcm16_to_ulaw t(provider_rate, preset);
  const std::string chunk(provider_rate / 1000 * 100 * 2, '\1');
  constexpr int turns = 200;
  double total = 0;
  std::size_t sink = 0;
  for (int i = 0; i < turns; ++i) {
    sink += t.convert(chunk).size();
    const auto start = clock_type::now();
    sink += t.flush().size();
    total += micros_since(start);
  }
  return sink == 0 ? -1 : total / turns;
}

}  // namespace

int main(int argc, char** argv) {
  const bool cpu_only = argc > 1 && std::strcmp(argv[1], "--cpu-only") == 0;
  std::printf("| preset | direction | ripple 300-3400 Hz (dB) | alias rejection (dB) | SNR sweep (dB) | "
              "SNR speech (dB) | offset (ms) | held back mean / max (ms) | CPU per 20 ms (µs) | flush (µs) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (auto q : {codec::resample_quality::quick, codec::resample_quality::low, codec::resample_quality::medium,
                 codec::resample_quality::high, codec::resample_quality::telephone}) {
    for (auto p : {codec::resample_phase::linear, codec::resample_phase::intermediate, codec::resample_phase::minimum}) {
      const codec::resample_preset preset{q, p};
      for (bool caller : {true, false}) {
        const direction d = caller ? caller_direction : assistant_direction;
        const double cpu = caller ? fastest([&] { return caller_cpu_us(preset); })
                                  : fastest([&] { return assistant_cpu_us(preset); });
        // The caller's direction is never flushed: the phone's audio does not end in turns.
        const std::string flush = caller ? "–" : std::to_string(std::lround(fastest([&] { return flush_us(preset); })));
        const std::string preset_name = std::string(name_of(q)) + " " + name_of(p);
        const char* dir_name = caller ? "8→16 kHz" : "24→8 kHz";
        if (cpu_only) {
          std::printf("| %s | %s | | | | | | | %.2f | %s |\n", preset_name.c_str(), dir_name, cpu, flush.c_str());
          continue;
        }
        const auto sweep = snr_against_ideal(d, preset, test_signal::sweep);
        const auto speech = snr_against_ideal(d, preset, test_signal::speech);
        const auto held = held_back_ms(d, preset);
        std::printf("| %s | %s | %.3f | %.1f | %.1f | %.1f | %.3f | %.1f / %.1f | %.2f | %s |\n", preset_name.c_str(),
                    dir_name, passband_ripple_db(d, preset), alias_rejection_db(d, preset), sweep.snr_db, speech.snr_db,
                    sweep.offset_ms, held.mean_ms, held.max_ms, cpu, flush.c_str());
        std::fflush(stdout);
      }
    }
  }
}
