#pragma once
// The recognisable assistant audio of the upstream simulator: pure functions, shared by the
// simulator (which sends it) and tests (which check what reached the caller). μ-law at 8 kHz for
// the OpenAI protocols; 16-bit PCM (Gemini Live at 24 kHz, GPT-Live confirmed as audio/pcm) below.
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

// The same tone as 16-bit PCM at `rate_hz` (16000 or 24000 or any divisor of the table below):
// sample `offset` of response n is A · sin(2π · f(n) · offset / rate_hz), rounded, with its least
// significant bit XOR-ed with the pseudo-random bit of (n, offset). Resampled to 8 kHz, it is still
// a tone of f(n) Hz, so a test on the far side of a resampler can tell the responses apart.
inline constexpr std::uint32_t assistant_pcm_table_hz = 48000;

namespace detail {

inline const std::array<std::int16_t, assistant_pcm_table_hz>& pcm_sine_table() noexcept {
  static const auto table = [] {
    std::array<std::int16_t, assistant_pcm_table_hz> t{};
    for (std::size_t i = 0; i < t.size(); ++i)
      t[i] = static_cast<std::int16_t>(std::lround(
          assistant_tone_amplitude * std::sin(2.0 * std::numbers::pi * static_cast<double>(i) / assistant_pcm_table_hz)));
    return t;
  }();
  return table;
}

}  // namespace detail

// rate_hz must divide 48000 (8000, 16000, 24000, 48000).
[[nodiscard]] inline std::int16_t assistant_pcm16_sample(std::uint32_t response_index, std::uint64_t offset,
                                                         std::uint32_t rate_hz) noexcept {
  const std::uint64_t step = assistant_pcm_table_hz / rate_hz;
  const std::uint64_t phase = (offset % rate_hz) * assistant_tone_hz(response_index) % rate_hz * step;
  const auto bit = static_cast<std::int16_t>((detail::noise_word(response_index, offset) >> (offset & 63)) & 1U);
  return static_cast<std::int16_t>(detail::pcm_sine_table()[phase] ^ bit);
}

// Writes samples [offset, offset + out.size() / 2) of response n as little-endian bytes.
inline void fill_assistant_pcm16(std::uint32_t response_index, std::uint64_t offset, std::uint32_t rate_hz,
                                 std::span<std::uint8_t> out) noexcept {
  for (std::size_t i = 0; i + 1 < out.size(); i += 2) {
    const auto s = static_cast<std::uint16_t>(assistant_pcm16_sample(response_index, offset + i / 2, rate_hz));
    out[i] = static_cast<std::uint8_t>(s & 0xff);
    out[i + 1] = static_cast<std::uint8_t>(s >> 8);
  }
}

// Whether little-endian `bytes` are samples [offset, …) of response n.
[[nodiscard]] inline bool is_assistant_pcm16(std::uint32_t response_index, std::uint64_t offset, std::uint32_t rate_hz,
                                             std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    const auto s = static_cast<std::int16_t>(bytes[i] | bytes[i + 1] << 8);
    if (s != assistant_pcm16_sample(response_index, offset + i / 2, rate_hz)) return false;
  }
  return true;
}

}  // namespace mb::simulator
