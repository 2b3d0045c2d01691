#include "protocol/standard_webhook.hpp"

#include <charconv>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "protocol/base64.hpp"

namespace mb::protocol {
namespace {

constexpr std::string_view secret_prefix = "whsec_";
constexpr std::string_view v1_prefix = "v1,";

std::string raw_signature(std::string_view key, std::string_view id, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(id.size() + timestamp.size() + body.size() + 2);
  message.append(id).append(".").append(timestamp).append(".").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> standard_webhook_key(std::string_view secret) {
  if (!secret.starts_with(secret_prefix)) return std::nullopt;
  auto key = base64_decode(secret.substr(secret_prefix.size()));
  if (!key || key->empty()) return std::nullopt;
  return key;
}

std::string sign_standard_webhook(std::string_view key, std::string_view id, std::string_view timestamp,
                                  std::string_view body) {
  return std::string(v1_prefix) + base64_encode(raw_signature(key, id, timestamp, body));
}

standard_webhook_check check_standard_webhook(std::string_view key, const standard_webhook_headers& headers,
                                              std::string_view body, std::int64_t now_unix_s, std::int64_t tolerance_s) {
  if (headers.id.empty() || headers.timestamp.empty() || headers.signature.empty())
    return standard_webhook_check::missing_header;
  std::int64_t sent = 0;
  const auto& ts = headers.timestamp;
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), sent);
  if (ec != std::errc{} || end != ts.data() + ts.size()) return standard_webhook_check::bad_timestamp;
  if (key.empty() || headers.signature.size() > max_standard_webhook_signature_bytes)
    return standard_webhook_check::no_match;

  const auto expected = base64_encode(raw_signature(key, headers.id, headers.timestamp, body));
  bool matched = false;
  std::string_view list = headers.signature;
  while (!list.empty()) {
    const auto space = list.find(' ');
    auto entry = list.substr(0, space);
    list = space == std::string_view::npos ? std::string_view{} : list.substr(space + 1);
    if (entry.empty()) continue;
    // A bare signature is accepted as v1, as OpenAI's own SDK does; other schemes are not ours.
    if (entry.starts_with(v1_prefix))
      entry.remove_prefix(v1_prefix.size());
    else if (entry.find(',') != std::string_view::npos)
      continue;
    matched = same(entry, expected) || matched;  // no early exit: every entry costs the same
  }
  if (!matched) return standard_webhook_check::no_match;
  if (sent < now_unix_s - tolerance_s) return standard_webhook_check::too_old;
  if (sent > now_unix_s + tolerance_s) return standard_webhook_check::too_new;
  return standard_webhook_check::valid;
}

const char* to_string(standard_webhook_check c) {
  switch (c) {
    case standard_webhook_check::valid: return "valid";
    case standard_webhook_check::missing_header: return "missing webhook-id, webhook-timestamp or webhook-signature";
    case standard_webhook_check::bad_timestamp: return "webhook-timestamp is not a number";
    case standard_webhook_check::too_old: return "webhook-timestamp too old";
    case standard_webhook_check::too_new: return "webhook-timestamp in the future";
    case standard_webhook_check::no_match: return "no matching signature";
  }
  return "invalid";
}

}  // namespace mb::protocol
