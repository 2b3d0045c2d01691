#include "log/escape.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace mb::log {
namespace {

// Length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 when it does not start with one.
std::size_t utf8_sequence_length(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) length = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) length = 3;
  else if (b0 >= 0xF0 && b0 <= 0xF4) length = 4;
  else return 0;
  if (b0 == 0xE0) second_min = 0xA0;  // overlong
  if (b0 == 0xED) second_max = 0x9F;  // surrogates
  if (b0 == 0xF0) second_min = 0x90;  // overlong
  if (b0 == 0xF4) second_max = 0x8F;  // above U+10FFFF
  if (s.size() < length) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return length;
}

std::uint32_t code_point(std::string_view seq) {
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(seq[i])); };
  switch (seq.size()) {
    case 1: return byte(0);
    case 2: return (byte(0) & 0x1F) << 6 | (byte(1) & 0x3F);
    case 3: return (byte(0) & 0x0F) << 12 | (byte(1) & 0x3F) << 6 | (byte(2) & 0x3F);
    default: return (byte(0) & 0x07) << 18 | (byte(1) & 0x3F) << 12 | (byte(2) & 0x3F) << 6 | (byte(3) & 0x3F);
  }
}

// Characters that are valid but break lines or reorder them in a terminal or viewer.
bool is_disguising(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

constexpr std::array<char, 16> hex_digits{'0', '1', '2', '3', '4', '5', '6', '7',
                                          '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

// The escaped form of one input byte (\xNN, \n, \r, \t), written to `out`; returns its length.
std::size_t escape_byte(unsigned char b, std::array<char, 10>& out) {
  out[0] = '\\';
  switch (b) {
    case '\n': out[1] = 'n'; return 2;
    case '\r': out[1] = 'r'; return 2;
    case '\t': out[1] = 't'; return 2;
    default:
      out[1] = 'x';
      out[2] = hex_digits[b >> 4];
      out[3] = hex_digits[b & 0xF];
      return 4;
  }
}

std::size_t escape_code_point(std::uint32_t cp, std::array<char, 10>& out) {
  out[0] = '\\';
  out[1] = 'u';
  for (int i = 0; i < 4; ++i) out[2 + i] = hex_digits[(cp >> (12 - 4 * i)) & 0xF];
  return 6;
}

}  // namespace

std::string escape_for_log(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 24);
  std::array<char, 10> escaped{};
  std::size_t i = 0;
  while (i < text.size()) {
    const auto rest = text.substr(i);
    const auto length = utf8_sequence_length(rest);
    std::string_view piece;
    if (length == 0) {
      piece = {escaped.data(), escape_byte(static_cast<unsigned char>(rest[0]), escaped)};
    } else if (const auto cp = code_point(rest.substr(0, length)); cp < 0x20 || cp == 0x7F) {
      piece = {escaped.data(), escape_byte(static_cast<unsigned char>(cp), escaped)};
    } else if (is_disguising(cp)) {
      piece = {escaped.data(), escape_code_point(cp, escaped)};
    } else {
      piece = rest.substr(0, length);
    }
    if (piece.size() > max_bytes - out.size()) break;
    out.append(piece);
    i += length == 0 ? 1 : length;
  }
  if (i < text.size()) out.append("...[cut ").append(std::to_string(text.size() - i)).append(" bytes]");
  return out;
}

}  // namespace mb::log
