#include "protocol/bearer_token.hpp"

#include <array>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "protocol/form.hpp"

namespace mb::protocol {
namespace {

using digest = std::array<unsigned char, 32>;

digest sha256(std::string_view text) {
  digest out{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &size, EVP_sha256(), nullptr);
  return out;
}

}  // namespace

std::string presented_token(std::string_view authorization_header, std::string_view query) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization_header.size() > scheme.size() &&
      ::strncasecmp(authorization_header.data(), scheme.data(), scheme.size()) == 0) {
    auto token = authorization_header.substr(scheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    return std::string(token);
  }
  const auto fields = parse_form(query);
  return fields ? std::string(form_value(*fields, "token")) : std::string();
}

bool token_matches(std::string_view presented, std::string_view expected) {
  if (expected.empty()) return false;
  const auto a = sha256(presented);
  const auto b = sha256(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mb::protocol
