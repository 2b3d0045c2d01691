#pragma once
// The recognisable assistant audio of the Realtime simulator: pure functions, shared by the
// simulator (which sends it) and tests (which check what reached the caller).
//
// Byte `offset` of response `n` (0-based per session; offset counts μ-law bytes across all audio
// items of the response, in output order) is the μ-law code of a sine tone
//     s(t) = A · sin(2π · f(n) · t / 8000),  t = offset,  f(n) = 400 + 40 · (n mod 16) Hz,  A = 6000
// whose least significant code bit is XOR-ed with a pseudo-random bit derived from (n, offset).
// The tone makes the audio audible on a call (a 400–1000 Hz beep, about -18 dBFS RMS); the
// pseudo-random bit makes every position unique, so a lost, duplicated or reordered chunk
// mismatches in about half of its bytes even where the tone's period repeats. Flipping the last
// bit moves a sample by one quantisation step of its μ-law segment, which is inaudible.
//
// @par Thread Safety
// All functions are pure and reentrant (the lookup table is a function-local static).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>

#include "codec/g711.hpp"

namespace mb::simulator {

inline constexpr std::int32_t assistant_tone_amplitude = 6000;  // peak, linear 16-bit
inline constexpr std::uint32_t assistant_sample_rate_hz = 8000;

[[nodiscard]] constexpr std::uint32_t assistant_tone_hz(std::uint32_t response_index) noexcept {
  return 400 + 40 * (response_index % 16);
}

namespace detail {

// splitmix64's finaliser: a cheap, well-mixed hash.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// 64 pseudo-random bits covering offsets [64·k, 64·k + 63] of response n.
[[nodiscard]] constexpr std::uint64_t noise_word(std::uint32_t response_index, std::uint64_t offset) noexcept {
  return mix64((offset >> 6) * 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{response_index} << 32 | 0x5eedU));
}

// μ-law codes of one second of a 1 Hz sine at the pattern amplitude: the tone of f Hz at sample t
// is entry (t·f) mod 8000, exactly, for every integer f.
inline const std::array<std::uint8_t, assistant_sample_rate_hz>& ulaw_sine_table() noexcept {
  static const auto table = [] {
    std::array<std::uint8_t, assistant_sample_rate_hz> t{};
    for (std::size_t i = 0; i < t.size(); ++i) {
      const double phase = 2.0 * std::numbers::pi * static_cast<double>(i) / assistant_sample_rate_hz;
      const auto sample = static_cast<std::int16_t>(std::lround(assistant_tone_amplitude * std::sin(phase)));
      t[i] = codec::linear_to_ulaw(sample);
    }
    return t;
  }();
  return table;
}

}  // namespace detail

[[nodiscard]] inline std::uint8_t assistant_audio_byte(std::uint32_t response_index, std::uint64_t offset) noexcept {
  const std::uint64_t phase = (offset % assistant_sample_rate_hz) * assistant_tone_hz(response_index) % assistant_sample_rate_hz;
  const auto bit = static_cast<std::uint8_t>((detail::noise_word(response_index, offset) >> (offset & 63)) & 1U);
  return static_cast<std::uint8_t>(detail::ulaw_sine_table()[phase] ^ bit);
}

// Writes bytes [offset, offset + out.size()) of response n.
inline void fill_assistant_audio(std::uint32_t response_index, std::uint64_t offset, std::span<std::uint8_t> out) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = assistant_audio_byte(response_index, offset + i);
}

// Index of the first byte of `bytes` that differs from response n's pattern starting at `offset`;
// bytes.size() when all match.
[[nodiscard]] inline std::size_t first_assistant_audio_mismatch(std::uint32_t response_index, std::uint64_t offset,
                                                                std::span<const std::uint8_t> bytes) noexcept {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != assistant_audio_byte(response_index, offset + i)) return i;
  return bytes.size();
}

[[nodiscard]] inline bool is_assistant_audio(std::uint32_t response_index, std::uint64_t offset,
                                             std::span<const std::uint8_t> bytes) noexcept {
  return first_assistant_audio_mismatch(response_index, offset, bytes) == bytes.size();
}

}  // namespace mb::simulator
