// simulator/energy_vad.hpp: the simulator's server-VAD stand-in (pure, header-only).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "codec/g711.hpp"
#include "simulator/energy_vad.hpp"

namespace {

namespace sim = mb::simulator;

std::vector<std::uint8_t> tone(int ms, double amplitude) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(ms) * 8);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = mb::codec::linear_to_ulaw(static_cast<std::int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / 8000))));
  return out;
}

std::vector<std::uint8_t> silence(int ms) {
  return std::vector<std::uint8_t>(static_cast<std::size_t>(ms) * 8, mb::codec::ulaw_silence);
}

struct recorder {
  std::vector<std::int64_t> starts;
  std::vector<std::int64_t> stops;
  void feed(sim::energy_vad& vad, const std::vector<std::uint8_t>& audio) {
    vad.push(audio, false, [this](std::int64_t ms) { starts.push_back(ms); },
             [this](std::int64_t ms) { stops.push_back(ms); });
  }
};

}  // namespace

TEST_CASE("energy VAD: a turn starts at its first loud window and stops after the silence duration",
          "[simulator][energy_vad]") {
  sim::energy_vad vad;
  vad.configure(sim::vad_params{});  // threshold 0.5 → -35 dBFS, silence 500 ms
  recorder r;
  r.feed(vad, silence(300));
  r.feed(vad, tone(500, 10000));
  CHECK(r.starts == std::vector<std::int64_t>{300});
  CHECK(vad.speaking());
  r.feed(vad, silence(480));
  CHECK(r.stops.empty());
  r.feed(vad, silence(20));
  CHECK(r.stops == std::vector<std::int64_t>{1300});
  CHECK_FALSE(vad.speaking());
}

TEST_CASE("energy VAD: the threshold sets the level", "[simulator][energy_vad]") {
  const auto quiet = tone(200, 100);  // about -53 dBFS RMS
  sim::vad_params p;
  sim::energy_vad normal;
  normal.configure(p);
  recorder a;
  a.feed(normal, quiet);
  CHECK(a.starts.empty());

  p.threshold = 0.0;  // -60 dBFS
  sim::energy_vad sensitive;
  sensitive.configure(p);
  recorder b;
  b.feed(sensitive, quiet);
  CHECK(b.starts == std::vector<std::int64_t>{0});
}

TEST_CASE("energy VAD: time runs while detection is off", "[simulator][energy_vad]") {
  sim::energy_vad vad;
  vad.configure(std::nullopt);
  recorder r;
  r.feed(vad, tone(1000, 10000));
  CHECK(r.starts.empty());
  vad.skip(8 * 500);  // 500 ms the detector cannot hear
  vad.configure(sim::vad_params{});
  r.feed(vad, tone(100, 10000));
  CHECK(r.starts == std::vector<std::int64_t>{1500});
  CHECK(vad.elapsed_ms() == 1600);  // heard or not, all audio is on the clock
}

namespace {

// `ms` of 16-bit little-endian PCM at `rate`: a 440 Hz tone of `amplitude`, or silence at 0.
std::vector<std::uint8_t> pcm_tone(int ms, double amplitude, std::uint32_t rate) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(ms) * rate / 1000 * 2);
  for (std::size_t i = 0; i < out.size() / 2; ++i) {
    const auto s = static_cast<std::uint16_t>(static_cast<std::int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / rate))));
    out[2 * i] = static_cast<std::uint8_t>(s & 0xff);
    out[2 * i + 1] = static_cast<std::uint8_t>(s >> 8);
  }
  return out;
}

}  // namespace

TEST_CASE("energy VAD: 16-bit PCM at 16 and 24 kHz is heard on the same millisecond clock as μ-law",
          "[unit][simulator][energy_vad]") {
  const std::uint32_t rate = GENERATE(16000u, 24000u, 8000u);
  INFO(rate);
  sim::energy_vad vad;
  vad.configure(sim::vad_params{});
  std::vector<std::int64_t> starts;
  std::vector<std::int64_t> stops;
  const auto feed = [&](const std::vector<std::uint8_t>& audio) {
    vad.push_pcm16(audio, rate, [&](std::int64_t ms) { starts.push_back(ms); },
                   [&](std::int64_t ms) { stops.push_back(ms); });
  };
  feed(pcm_tone(100, 0, rate));  // silence
  CHECK(vad.elapsed_ms() == 100);
  CHECK(starts.empty());
  feed(pcm_tone(300, 10000, rate));
  REQUIRE(starts.size() == 1);
  CHECK(starts[0] == 100);
  feed(pcm_tone(600, 0, rate));
  REQUIRE(stops.size() == 1);
  CHECK(stops[0] == 900);  // the last loud window ended at 400, then 500 ms of silence
  CHECK(vad.elapsed_ms() == 1000);
  // A trailing odd byte is no sample; skipped 8 kHz samples still count.
  feed({0x01});
  vad.skip(80);
  CHECK(vad.elapsed_ms() == 1010);
  CHECK(sim::energy_vad::pcm_rate_supported(rate));
  CHECK_FALSE(sim::energy_vad::pcm_rate_supported(44100));
}
