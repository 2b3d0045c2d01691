// simulator/audio_pattern.hpp: pure and header-only, so it is tested without sockets.

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <numeric>
#include <span>
#include <vector>

#include "codec/g711.hpp"
#include "simulator/audio_pattern.hpp"

namespace {

namespace sim = mb::simulator;

std::vector<std::uint8_t> pattern(std::uint32_t response, std::uint64_t offset, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  sim::fill_assistant_audio(response, offset, out);
  return out;
}

// Goertzel power of `hz` in one second of decoded μ-law.
double power_at(const std::vector<std::uint8_t>& codes, double hz) {
  const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * hz / 8000.0);
  double s1 = 0, s2 = 0;
  for (const auto c : codes) {
    const double s = mb::codec::ulaw_to_linear(c) + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

std::size_t mismatches(const std::vector<std::uint8_t>& a, std::uint32_t response, std::uint64_t offset) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += a[i] != sim::assistant_audio_byte(response, offset + i);
  return n;
}

}  // namespace

TEST_CASE("assistant audio is a tone at the response's frequency and moderate level", "[simulator][audio_pattern]") {
  for (std::uint32_t n : {0U, 1U, 7U, 15U}) {
    const auto second = pattern(n, 0, 8000);
    const double hz = sim::assistant_tone_hz(n);
    CHECK(power_at(second, hz) > 1000 * power_at(second, hz + 40));
    CHECK(power_at(second, hz) > 1000 * power_at(second, 1500));
    double sum_sq = 0;
    for (const auto c : second) sum_sq += std::pow(mb::codec::ulaw_to_linear(c), 2);
    CHECK(std::sqrt(sum_sq / 8000) == Approx(sim::assistant_tone_amplitude / std::sqrt(2.0)).epsilon(0.05));
  }
  CHECK(sim::assistant_tone_hz(0) == 400);
  CHECK(sim::assistant_tone_hz(16) == 400);
}

TEST_CASE("assistant audio differs from the plain tone only in the last bit, about half the time",
          "[simulator][audio_pattern]") {
  std::size_t flipped = 0;
  for (std::uint64_t i = 0; i < 8000; ++i) {
    const double tone = sim::assistant_tone_amplitude * std::sin(2 * std::numbers::pi * 400 * static_cast<double>(i) / 8000);
    const auto code = mb::codec::linear_to_ulaw(static_cast<std::int16_t>(std::lround(tone)));
    const auto diff = code ^ sim::assistant_audio_byte(0, i);
    REQUIRE(diff <= 1);
    flipped += diff;
  }
  CHECK(flipped > 3600);
  CHECK(flipped < 4400);
}

TEST_CASE("a chunk in the wrong place or from another response does not match", "[simulator][audio_pattern]") {
  const auto frame = pattern(0, 8000, 160);
  // Every shift, including whole periods of the tone, leaves many mismatching bytes.
  for (std::int64_t shift = -1600; shift <= 1600; ++shift) {
    if (shift == 0) continue;
    INFO("shift " << shift);
    REQUIRE(mismatches(frame, 0, static_cast<std::uint64_t>(8000 + shift)) > 40);
  }
  CHECK(mismatches(frame, 16, 8000) > 40);  // same tone, other noise
  CHECK(mismatches(frame, 1, 8000) > 40);
  CHECK(mismatches(frame, 0, 8000) == 0);
}

TEST_CASE("fill, byte and mismatch helpers agree", "[simulator][audio_pattern]") {
  auto chunk = pattern(5, 123456789, 800);
  for (std::size_t i = 0; i < chunk.size(); ++i) REQUIRE(chunk[i] == sim::assistant_audio_byte(5, 123456789 + i));
  CHECK(sim::is_assistant_audio(5, 123456789, chunk));
  chunk[321] ^= 0x80;
  CHECK(sim::first_assistant_audio_mismatch(5, 123456789, chunk) == 321);
  CHECK_FALSE(sim::is_assistant_audio(5, 123456789, chunk));
  CHECK(sim::first_assistant_audio_mismatch(5, 0, std::span<const std::uint8_t>{}) == 0);
}

TEST_CASE("assistant PCM16 pattern: a tone of the response's frequency, every position unique, checkable by offset",
          "[unit][simulator][audio_pattern]") {
  const std::uint32_t rate = GENERATE(24000u, 16000u);
  INFO(rate);
  std::vector<std::uint8_t> second(rate * 2);
  sim::fill_assistant_pcm16(3, 0, rate, second);
  // Goertzel power at the response's tone against a neighbour's.
  const auto power = [&](double hz) {
    const double coeff = 2.0 * std::cos(2.0 * std::numbers::pi * hz / rate);
    double s1 = 0, s2 = 0;
    for (std::size_t i = 0; i < second.size(); i += 2) {
      const double s = static_cast<std::int16_t>(second[i] | second[i + 1] << 8) + coeff * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    return s1 * s1 + s2 * s2 - coeff * s1 * s2;
  };
  CHECK(power(sim::assistant_tone_hz(3)) > 1000 * power(sim::assistant_tone_hz(4)));

  const std::span<const std::uint8_t> all(second);
  CHECK(sim::is_assistant_pcm16(3, 0, rate, all));
  CHECK(sim::is_assistant_pcm16(3, 1000, rate, all.subspan(2000, 4000)));
  CHECK_FALSE(sim::is_assistant_pcm16(3, 1001, rate, all.subspan(2000, 4000)));  // shifted by one sample
  CHECK_FALSE(sim::is_assistant_pcm16(4, 1000, rate, all.subspan(2000, 4000)));  // another response
  CHECK_FALSE(sim::is_assistant_pcm16(3, 0, rate, all.subspan(0, 3)));           // half a sample
  // A period of the tone later the tone repeats, the pattern does not.
  const std::uint64_t period = rate / std::gcd(rate, sim::assistant_tone_hz(3));
  CHECK_FALSE(sim::is_assistant_pcm16(3, period, rate, all.subspan(0, 400)));
}
