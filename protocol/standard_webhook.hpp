#pragma once
// The signature OpenAI puts on its webhooks (the Standard Webhooks scheme; docs/protocols.md J1):
// three headers, webhook-id, webhook-timestamp and webhook-signature. The key is the secret after its
// "whsec_" prefix, base64-decoded; the signature is base64(HMAC-SHA256(key, "<id>.<timestamp>.<raw
// body>")), the timestamp exactly as its header's text. webhook-signature is a space-separated list
// (several during a key rotation), each entry "v1,<base64>"; any one matching is enough.
//
// @par Thread Safety
// Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::protocol {

inline constexpr std::string_view standard_webhook_id_header = "webhook-id";
inline constexpr std::string_view standard_webhook_timestamp_header = "webhook-timestamp";
inline constexpr std::string_view standard_webhook_signature_header = "webhook-signature";
// How far a delivery's timestamp may be from our clock, either way.
inline constexpr std::int64_t standard_webhook_tolerance_s = 300;
// A webhook-signature header longer than this is refused unread (a rotation lists two or three).
inline constexpr std::size_t max_standard_webhook_signature_bytes = 1024;

// The HMAC key of a "whsec_<base64>" secret; nullopt when the prefix is missing, the rest is not
// base64, or it decodes to nothing.
[[nodiscard]] std::optional<std::string> standard_webhook_key(std::string_view secret);

// "v1,<base64>": the signature of one delivery, for senders (the simulator) and tests.
[[nodiscard]] std::string sign_standard_webhook(std::string_view key, std::string_view id, std::string_view timestamp,
                                                std::string_view body);

enum class standard_webhook_check {
  valid,
  missing_header,  // webhook-id, webhook-timestamp or webhook-signature absent or empty
  bad_timestamp,   // not an integer number of seconds
  too_old,         // more than the tolerance in the past
  too_new,         // more than the tolerance in the future
  no_match,        // no listed signature matches (constant-time compare)
};

struct standard_webhook_headers {
  std::string_view id;
  std::string_view timestamp;
  std::string_view signature;
};

// Checks one delivery against `key` (standard_webhook_key). Signatures are compared before the clock,
// so a forged request learns nothing about our time. Entries of other schemes ("v1a," ed25519) are skipped.
[[nodiscard]] standard_webhook_check check_standard_webhook(std::string_view key, const standard_webhook_headers& headers,
                                                            std::string_view body, std::int64_t now_unix_s,
                                                            std::int64_t tolerance_s = standard_webhook_tolerance_s);

[[nodiscard]] const char* to_string(standard_webhook_check c);

}  // namespace mb::protocol
