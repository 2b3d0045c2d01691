#pragma once
// Stamps that make relayed audio measurable: the generator writes one into the first bytes of every
// caller frame and every simulated assistant delta, and the receiving end reads it back. A stamp
// says which call the audio belongs to, its sequence number and when it was sent (the low 32 bits
// of CLOCK_MONOTONIC in µs: the generator, the simulator and the bridge run on one machine, so they
// share that clock), plus, for assistant audio, the response and the byte offset it starts at.
//
// On the wire a stamp is 36 μ-law bytes (4.5 ms; a multiple of 3, so it is exactly the first 48
// base64 characters of a payload): 144 bits, 4 per byte, coded as μ-law 0xF0–0xFF, whose linear
// values are 0…120 of 32767 (below -48 dBFS). The simulator's energy VAD therefore still hears
// silence as silence and speech as speech. 16 of the bits are a checksum, so audio that carries no
// stamp is recognised as such (a false match has a chance of 1 in 65536).
//
// @par Thread Safety
// Pure functions.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace mb::tools::load {

inline constexpr std::size_t stamp_bytes = 36;
inline constexpr std::size_t stamp_base64_chars = stamp_bytes / 3 * 4;

struct stamp {
  std::uint16_t call = 0;      // index of the call in the run
  std::uint32_t seq = 0;       // caller frame: Twilio's chunk number; assistant delta: per call, from 1
  std::uint32_t sent_us = 0;   // monotonic clock, µs, low 32 bits
  std::uint16_t response = 0;  // assistant delta: the simulator's response index
  std::uint32_t offset = 0;    // assistant delta: μ-law byte offset in that response
};

// out.size() >= stamp_bytes.
void write_stamp(const stamp& s, std::span<std::uint8_t> out) noexcept;
// nullopt when `in` is shorter than a stamp or does not start with a valid one.
[[nodiscard]] std::optional<stamp> read_stamp(std::span<const std::uint8_t> in) noexcept;

// The monotonic clock in µs, low 32 bits (wraps every 71 minutes).
[[nodiscard]] inline std::uint32_t now_us() noexcept {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
// `later - earlier` in µs across a wrap of the 32-bit clock (for spans under 35 minutes).
[[nodiscard]] inline std::int64_t elapsed_us(std::uint32_t earlier, std::uint32_t later) noexcept {
  return static_cast<std::int32_t>(later - earlier);
}

}  // namespace mb::tools::load
