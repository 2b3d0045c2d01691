#include "protocol/stream_token.hpp"

#include <charconv>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "protocol/base64.hpp"

namespace mb::protocol {
namespace {

std::string signature(std::string_view key, std::string_view call_sid, std::string_view expires) {
  const std::string message = std::string(call_sid) + "." + std::string(expires);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &mac_len);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace

std::string make_stream_token(std::string_view key, std::string_view call_sid, std::int64_t expires_unix_s) {
  const auto expires = std::to_string(expires_unix_s);
  return expires + "." + signature(key, call_sid, expires);
}

token_check check_stream_token(std::string_view key, std::string_view token, std::string_view call_sid,
                               std::int64_t now_unix_s) {
  const auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0) return token_check::malformed;
  const auto expires_text = token.substr(0, dot);
  std::int64_t expires = 0;
  auto [p, ec] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(), expires);
  if (ec != std::errc{} || p != expires_text.data() + expires_text.size()) return token_check::malformed;
  const auto expected = signature(key, call_sid, expires_text);
  const auto given = token.substr(dot + 1);
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0)
    return token_check::bad_signature;
  if (now_unix_s > expires) return token_check::expired;
  return token_check::valid;
}

const char* to_string(token_check c) {
  switch (c) {
    case token_check::valid: return "valid";
    case token_check::malformed: return "malformed";
    case token_check::bad_signature: return "not issued for this call";
    case token_check::expired: return "expired";
  }
  return "invalid";
}

}  // namespace mb::protocol
