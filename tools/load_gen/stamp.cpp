#include "tools/load_gen/stamp.hpp"


namespace mb::tools::load {
namespace {

constexpr std::uint8_t nibble_code = 0xF0;
constexpr std::size_t payload_bits = 128;

std::uint16_t checksum(std::uint64_t hi, std::uint64_t lo) noexcept {
  // splitmix64's finaliser over both words: every payload bit affects every checksum bit.
  std::uint64_t x = hi * 0x9e3779b97f4a7c15ULL ^ lo;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<std::uint16_t>(x ^ (x >> 16) ^ (x >> 32) ^ (x >> 48));
}

}  // namespace

void write_stamp(const stamp& s, std::span<std::uint8_t> out) noexcept {
  const std::uint64_t hi = std::uint64_t{s.call} << 48 | std::uint64_t{s.response} << 32 | s.seq;
  const std::uint64_t lo = std::uint64_t{s.sent_us} << 32 | s.offset;
  const std::uint16_t sum = checksum(hi, lo);
  for (std::size_t i = 0; i < stamp_bytes; ++i) {
    const std::size_t bit = 4 * i;
    std::uint64_t nibble = 0;
    if (bit < 64) nibble = hi >> (60 - bit);
    else if (bit < payload_bits) nibble = lo >> (124 - bit);
    else nibble = std::uint64_t{sum} >> (140 - bit);
    out[i] = static_cast<std::uint8_t>(nibble_code | (nibble & 0xF));
  }
}

std::optional<stamp> read_stamp(std::span<const std::uint8_t> in) noexcept {
  if (in.size() < stamp_bytes) return std::nullopt;
  std::uint64_t hi = 0, lo = 0;
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < stamp_bytes; ++i) {
    if ((in[i] & 0xF0) != nibble_code) return std::nullopt;
    const std::uint64_t nibble = in[i] & 0xF;
    const std::size_t bit = 4 * i;
    if (bit < 64) hi = hi << 4 | nibble;
    else if (bit < payload_bits) lo = lo << 4 | nibble;
    else sum = static_cast<std::uint16_t>(sum << 4 | nibble);
  }
  if (checksum(hi, lo) != sum) return std::nullopt;
  stamp s;
  s.call = static_cast<std::uint16_t>(hi >> 48);
  s.response = static_cast<std::uint16_t>(hi >> 32);
  s.seq = static_cast<std::uint32_t>(hi);
  s.sent_us = static_cast<std::uint32_t>(lo >> 32);
  s.offset = static_cast<std::uint32_t>(lo);
  return s;
}

}  // namespace mb::tools::load
