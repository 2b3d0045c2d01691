#include "protocol/base64.hpp"

#include <openssl/evp.h>

#include <array>
#include <climits>
#include <stdexcept>

namespace mb::protocol {
namespace {

constexpr std::array<bool, 256> make_alphabet() {
  std::array<bool, 256> table{};
  for (char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")) {
    table[static_cast<unsigned char>(c)] = true;
  }
  return table;
}

constexpr auto alphabet = make_alphabet();

std::size_t padding(std::string_view valid_b64) noexcept {
  const std::size_t n = valid_b64.size();
  if (n == 0 || valid_b64[n - 1] != '=') return 0;
  return valid_b64[n - 2] == '=' ? 2 : 1;
}

}  // namespace

bool is_base64(std::string_view text) noexcept {
  if (text.size() % 4 != 0) return false;
  const std::size_t body = text.size() - padding(text);
  // Branch-free accumulation: valid payloads are the common case, so an early exit buys nothing.
  bool valid = true;
  for (std::size_t i = 0; i < body; ++i) {
    valid &= alphabet[static_cast<unsigned char>(text[i])];
  }
  return valid;
}

std::size_t base64_decoded_size(std::string_view valid_b64) noexcept {
  return valid_b64.size() / 4 * 3 - padding(valid_b64);
}

bool base64_decode(std::string_view text, std::string& out) {
  if (text.size() > std::size_t{INT_MAX} || !is_base64(text)) return false;
  out.resize(text.size() / 4 * 3);
  // EVP_DecodeBlock writes and counts 3 bytes for every group, padding included; the real size comes
  // from the padding. The input is validated above, so it cannot fail.
  EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(base64_decoded_size(text));
  return true;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  if (!base64_decode(text, out)) return std::nullopt;
  return out;
}

void base64_encode(std::string_view bytes, std::string& out) {
  // Keeps the encoded length, which EVP_EncodeBlock returns as int, within INT_MAX.
  if (bytes.size() > std::size_t{INT_MAX} / 4 * 3) {
    throw std::length_error("base64_encode: input too large");
  }
  // EVP_EncodeBlock also writes a NUL after the output; std::string's terminator slot takes it.
  out.resize((bytes.size() + 2) / 3 * 4);
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_encode(bytes, out);
  return out;
}

}  // namespace mb::protocol
