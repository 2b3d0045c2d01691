#include "protocol/webhook_signature.hpp"

#include <charconv>

#include <boost/url/parse.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "protocol/local_access.hpp"

namespace mb::protocol {
namespace {

std::string hex_hmac(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(mac_len * 2, '0');
  for (unsigned int i = 0; i < mac_len; ++i) {
    hex[2 * i] = digits[mac[i] >> 4];
    hex[2 * i + 1] = digits[mac[i] & 0xF];
  }
  return hex;
}

}  // namespace

std::string sign_webhook(std::string_view secret, std::int64_t unix_s, std::string_view body) {
  const auto t = std::to_string(unix_s);
  return "t=" + t + ",v1=" + hex_hmac(secret, t, body);
}

std::vector<std::pair<std::string, std::string>> json_webhook_headers(std::string_view secret, std::int64_t unix_s,
                                                                    std::string_view body) {
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
  if (!secret.empty()) headers.emplace_back(webhook_signature_header, sign_webhook(secret, unix_s, body));
  return headers;
}

std::optional<std::string> webhook_url_problem(std::string_view url, std::size_t max_chars) {
  if (url.size() > max_chars) return "longer than " + std::to_string(max_chars) + " characters";
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->encoded_host().empty()) return "expected an absolute https:// URL";
  if (parsed->has_userinfo()) return "credentials do not belong in the URL (the body is signed instead)";
  if (parsed->scheme() == "https") return std::nullopt;
  if (parsed->scheme() == "http" && is_loopback_host(parsed->encoded_authority())) return std::nullopt;
  return "expected https://, or http:// to a loopback host (127.0.0.1, [::1], localhost)";
}

webhook_check check_webhook_signature(std::string_view secret, std::string_view header, std::string_view body,
                                      std::int64_t now_unix_s, std::int64_t tolerance_s) {
  if (!header.starts_with("t=")) return webhook_check::malformed;
  const auto comma = header.find(",v1=");
  if (comma == std::string_view::npos) return webhook_check::malformed;
  const auto t = header.substr(2, comma - 2);
  std::int64_t sent = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), sent);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size()) return webhook_check::malformed;
  if (secret.empty()) return webhook_check::bad_signature;
  const auto given = header.substr(comma + 4);
  const auto expected = hex_hmac(secret, t, body);
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0)
    return webhook_check::bad_signature;
  if (sent > now_unix_s + tolerance_s || sent < now_unix_s - tolerance_s) return webhook_check::stale;
  return webhook_check::valid;
}

const char* to_string(webhook_check c) {
  switch (c) {
    case webhook_check::valid: return "valid";
    case webhook_check::malformed: return "malformed";
    case webhook_check::bad_signature: return "bad signature";
    case webhook_check::stale: return "outside the time tolerance";
  }
  return "invalid";
}

}  // namespace mb::protocol
