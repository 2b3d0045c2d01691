#pragma once
// The API token of the listener and history endpoints (API_TOKEN).
//
// @par Thread Safety
// Pure functions.

#include <string>
#include <string_view>

namespace mb::protocol {

// The token a request presents: "Authorization: Bearer <token>" (scheme case-insensitive, RFC 6750
// section 2.1), else the `token` query parameter, which browsers need because EventSource and
// WebSocket cannot set headers. Empty when it presents none.
[[nodiscard]] std::string presented_token(std::string_view authorization_header, std::string_view query);

// Compares SHA-256 digests in constant time, so timing reveals neither the token nor its length.
// False when `expected` is empty: an unset token never matches.
[[nodiscard]] bool token_matches(std::string_view presented, std::string_view expected);

}  // namespace mb::protocol
