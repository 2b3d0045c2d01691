#include "codec/g711.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <stdexcept>

namespace mb::codec {
namespace {

// The encoders follow the ITU-T G.191 reference (STL g711.c): a negative sample's magnitude is taken
// as its one's complement (~x == -x - 1), which keeps the quantiser symmetric around zero and makes
// every decoded value encode back to its own code.

constexpr int ulaw_bias = 33;          // 14-bit units; G.711 Table 2a segment offsets
constexpr int ulaw_max_biased = 0x1FFF;  // magnitude + bias is clipped to 13 bits

// G.711 Table 2a: segment e, mantissa m reconstructs to ((2m + 33) << e) - 33 in 14-bit units.
constexpr std::int16_t ulaw_value(std::uint8_t code) {
  const unsigned u = ~code & 0xFFu;
  const unsigned segment = (u >> 4) & 0x7u;
  const unsigned mantissa = u & 0xFu;
  const int magnitude = 4 * ((static_cast<int>(2 * mantissa + ulaw_bias) << segment) - ulaw_bias);
  return static_cast<std::int16_t>((u & 0x80u) != 0 ? -magnitude : magnitude);
}

// G.711 Table 1a: segment 0 reconstructs to 2m + 1, segment e >= 1 to (2m + 33) << (e - 1), in
// 13-bit units. The sign bit set means positive (the opposite of μ-law).
constexpr std::int16_t alaw_value(std::uint8_t code) {
  const unsigned a = code ^ 0x55u;
  const unsigned segment = (a >> 4) & 0x7u;
  const unsigned mantissa = a & 0xFu;
  const int magnitude =
      8 * static_cast<int>(segment == 0 ? 2 * mantissa + 1 : (2 * mantissa + 33) << (segment - 1));
  return static_cast<std::int16_t>((a & 0x80u) != 0 ? magnitude : -magnitude);
}

constexpr std::array<std::int16_t, 256> make_table(std::int16_t (*value)(std::uint8_t)) {
  std::array<std::int16_t, 256> table{};
  for (unsigned code = 0; code < table.size(); ++code) {
    table[code] = value(static_cast<std::uint8_t>(code));
  }
  return table;
}

constexpr auto ulaw_table = make_table(ulaw_value);
constexpr auto alaw_table = make_table(alaw_value);

constexpr unsigned one_complement_magnitude(std::int16_t sample) {
  return static_cast<unsigned>(sample < 0 ? ~sample : sample);
}

}  // namespace

std::int16_t ulaw_to_linear(std::uint8_t code) noexcept { return ulaw_table[code]; }

std::int16_t alaw_to_linear(std::uint8_t code) noexcept { return alaw_table[code]; }

std::uint8_t linear_to_ulaw(std::int16_t sample) noexcept {
  const unsigned biased =
      std::min((one_complement_magnitude(sample) >> 2) + ulaw_bias, unsigned{ulaw_max_biased});
  // biased is in [33, 8191]: 6 to 13 significant bits select segments 0 to 7.
  const unsigned segment = static_cast<unsigned>(std::bit_width(biased)) - 6;
  const unsigned mantissa = (biased >> (segment + 1)) & 0xFu;
  const unsigned sign = sample < 0 ? 0x80u : 0x00u;
  return static_cast<std::uint8_t>(~(sign | segment << 4 | mantissa));
}

std::uint8_t linear_to_alaw(std::int16_t sample) noexcept {
  const unsigned magnitude = one_complement_magnitude(sample) >> 4;  // 12 bits
  // Segments 0 and 1 share the finest step; from segment 1 on, the leading 1 sits at bit segment + 3.
  const unsigned segment = std::max(static_cast<unsigned>(std::bit_width(magnitude)), 4u) - 4;
  const unsigned mantissa = (magnitude >> (std::max(segment, 1u) - 1)) & 0xFu;
  const unsigned sign = sample < 0 ? 0x00u : 0x80u;
  return static_cast<std::uint8_t>((sign | segment << 4 | mantissa) ^ 0x55u);
}

void decode_ulaw(std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  if (in.size() != out.size()) {
    throw std::length_error("decode_ulaw: input and output sizes differ");
  }
  std::transform(in.begin(), in.end(), out.begin(), [](std::uint8_t c) { return ulaw_table[c]; });
}

void encode_ulaw(std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  if (in.size() != out.size()) {
    throw std::length_error("encode_ulaw: input and output sizes differ");
  }
  std::transform(in.begin(), in.end(), out.begin(), linear_to_ulaw);
}

}  // namespace mb::codec
