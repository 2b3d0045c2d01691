#include "call/heard_text.hpp"

namespace mb::call {
namespace {

struct code_point {
  char32_t value = 0;
  std::size_t bytes = 1;
};

// The code point starting at `pos`. A byte that does not start a complete sequence counts as one
// code point of its own (transcripts come from parsed JSON, so this is only defensive).
code_point decode_at(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 1;
  char32_t value = lead;
  if (lead >= 0xC0 && lead <= 0xDF) {
    length = 2;
    value = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    value = lead & 0x0Fu;
  } else if (lead >= 0xF0 && lead <= 0xF7) {
    length = 4;
    value = lead & 0x07u;
  }
  if (length == 1 || pos + length > text.size()) return {lead, 1};
  for (std::size_t i = 1; i < length; ++i) {
    const auto next = static_cast<unsigned char>(text[pos + i]);
    if ((next & 0xC0u) != 0x80u) return {lead, 1};
    value = (value << 6) | (next & 0x3Fu);
  }
  return {value, length};
}

bool is_space(char32_t c) {
  return c == U' ' || (c >= U'\t' && c <= U'\r') || c == 0x3000;  // ideographic space
}

// Scripts written without spaces between words: each character is a word of its own.
bool is_spaceless_script(char32_t c) {
  return (c >= 0x0E00 && c <= 0x0EFF)      // Thai, Lao
         || (c >= 0x1000 && c <= 0x109F)   // Myanmar
         || (c >= 0x1780 && c <= 0x17FF)   // Khmer
         || (c >= 0x2E80 && c <= 0x9FFF)   // CJK radicals, punctuation, kana, ideographs
         || (c >= 0xF900 && c <= 0xFAFF)   // CJK compatibility ideographs
         || (c >= 0xFF00 && c <= 0xFFEF)   // half- and full-width forms
         || (c >= 0x20000 && c <= 0x3FFFF);  // CJK ideograph extensions
}

std::size_t count_code_points(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t pos = 0; pos < text.size(); pos += decode_at(text, pos).bytes) ++n;
  return n;
}

std::string_view without_trailing_space(std::string_view text) {
  while (!text.empty()) {
    // Whitespace is ASCII or U+3000 (E3 80 80): check the last one or three bytes.
    if (is_space(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    } else if (text.ends_with("\xE3\x80\x80")) {
      text.remove_suffix(3);
    } else {
      break;
    }
  }
  return text;
}

}  // namespace

std::string_view heard_prefix(std::string_view text, std::int64_t heard_ms, std::int64_t audio_ms) {
  if (heard_ms <= 0 || audio_ms <= 0) return {};
  if (heard_ms >= audio_ms) return text;
  // Characters × ms stays far below 2^64: transcripts are bounded by the upstream message size.
  const auto heard_points =
      count_code_points(text) * static_cast<std::size_t>(heard_ms) / static_cast<std::size_t>(audio_ms);
  std::size_t pos = 0;
  std::size_t word_end = 0;  // where the last word wholly heard ends
  for (std::size_t i = 0; i < heard_points; ++i) {
    const auto c = decode_at(text, pos);
    if (is_space(c.value)) word_end = pos;
    pos += c.bytes;
    if (is_spaceless_script(c.value)) word_end = pos;
  }
  // The first unheard character ends the word before it if it is not part of that word.
  if (pos < text.size()) {
    const auto next = decode_at(text, pos).value;
    if (is_space(next) || is_spaceless_script(next)) word_end = pos;
  } else {
    word_end = pos;
  }
  return without_trailing_space(text.substr(0, word_end));
}

}  // namespace mb::call
