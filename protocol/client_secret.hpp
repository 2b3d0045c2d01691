#pragma once
// Client secrets for browsers and apps (docs/protocols.md K1): what a client asks mediabridge for, the
// request mediabridge sends to OpenAI's POST /v1/realtime/client_secrets, and OpenAI's answer. The secret
// lets a browser open a Realtime session of its own, with the agent profile's configuration attached,
// without ever holding the API key. The I/O is server/client_secrets.
//
// @par Thread Safety
// Pure functions and plain values.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "protocol/rest_retry.hpp"
#include "protocol/session_config.hpp"

namespace mb::protocol {

inline constexpr std::string_view client_secrets_path = "/v1/realtime/client_secrets";

// A client's request body: {} or {"agent":"<profile>"}; empty means {}.
inline constexpr std::size_t max_client_secret_request_bytes = 4096;
inline constexpr std::size_t max_agent_name_bytes = 64;

struct client_secret_request {
  std::string agent;  // empty: the default profile; otherwise as sent, at most max_agent_name_bytes
};

// The request, or a sentence saying what is wrong with the body (safe to answer: no body text).
[[nodiscard]] std::variant<client_secret_request, std::string> parse_client_secret_request(std::string_view body);

// The upstream request's JSON: expires_after {anchor "created_at", seconds ttl_s} and the session a call
// of the profile gets (realtime_session) with `model`, but no audio format: a browser's WebRTC
// connection negotiates its own, and a WebSocket client gets the service's default (K1).
[[nodiscard]] std::string client_secret_upstream_body(const session_config& session, std::string_view model,
                                                      int ttl_s);

// What mediabridge keeps of OpenAI's answer {"value":"ek_…","expires_at":<unix s>,"session":{…}}.
struct client_secret {
  std::string value;
  std::int64_t expires_at = 0;  // unix seconds
  std::string model;            // session.model; empty when the answer names none
};

inline constexpr std::size_t max_client_secret_bytes = 1024;

// nullopt when the answer is not JSON, or its value is missing, empty, longer than
// max_client_secret_bytes or not printable ASCII, or expires_at is not a positive integer.
[[nodiscard]] std::optional<client_secret> parse_client_secret(std::string_view body);

// Whether a failed mint is sent once more (never more than once): when it failed before reaching OpenAI
// (resolve, connect, TLS), or OpenAI answered 429 or 5xx. A second secret minted by a retry is harmless:
// unused, it expires. A timeout after the request left is not retried: the client waited long enough.
[[nodiscard]] retry_decision decide_client_secret_retry(const rest_attempt& last, int attempts_made) noexcept;

// `text` with every occurrence of `credential` (when not empty) and every word that starts like an
// OpenAI API key ("sk-") replaced by "***": upstream error messages may quote a key, masked or not.
[[nodiscard]] std::string without_credentials(std::string_view text, std::string_view credential);

// The client address a trusted proxy reports: the last entry of its X-Forwarded-For (the one it added),
// trimmed; nullopt when the header is empty or that entry does not look like an IPv4 or IPv6 address
// (hex digits, '.', ':' only, at most 45 characters).
[[nodiscard]] std::optional<std::string_view> last_forwarded_address(std::string_view x_forwarded_for);

}  // namespace mb::protocol
