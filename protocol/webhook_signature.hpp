#pragma once
// The signature on mediabridge's own outgoing webhooks (tool calls; docs/tools.md, "Verifying the
// signature"): X-Mediabridge-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret,
// "<t>.<body>")>. The timestamp is signed with the body, so a receiver can refuse replays older than
// its tolerance.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb::protocol {

inline constexpr std::string_view webhook_signature_header = "X-Mediabridge-Signature";

// The header's value for `body` sent at `unix_s`.
[[nodiscard]] std::string sign_webhook(std::string_view secret, std::int64_t unix_s, std::string_view body);

// The headers of a JSON webhook mediabridge posts (tool calls, probe alerts): Content-Type, and the
// signature when `secret` is not empty.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> json_webhook_headers(std::string_view secret,
                                                                                   std::int64_t unix_s,
                                                                                   std::string_view body);

// Why `url` may not receive mediabridge's webhooks (tool calls, probe alerts), or nullopt: https://, or
// http:// to a loopback host (tests, a local relay); no credentials in it; at most `max_chars` long.
[[nodiscard]] std::optional<std::string> webhook_url_problem(std::string_view url, std::size_t max_chars);

enum class webhook_check { valid, malformed, bad_signature, stale };

// What a receiver concludes: the header parsed, its v1 matches (constant time), and its t is within
// `tolerance_s` of `now_unix_s` either way. An empty secret never validates.
[[nodiscard]] webhook_check check_webhook_signature(std::string_view secret, std::string_view header,
                                                    std::string_view body, std::int64_t now_unix_s,
                                                    std::int64_t tolerance_s = 300);

[[nodiscard]] const char* to_string(webhook_check c);

}  // namespace mb::protocol
