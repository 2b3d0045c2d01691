#pragma once
// Twilio request validation: the X-Twilio-Signature header (arrives lowercase, x-twilio-signature).
//
// signature = base64(HMAC-SHA1(key = auth token, data = url + for each name in byte-wise order, for
// each distinct value of that name in byte-wise order: name + value)) [twilio-doc "Security";
// twilio-node src/webhooks/webhooks.ts]. `url` is the full URL Twilio requested, scheme to end of
// query, encoding untouched. Query parameters are not added again: they are already in the URL.
// For application/json webhooks Twilio instead puts bodySHA256=<sha256_hex(body)> in the query and
// signs with no params.
//
// @par Thread Safety
// Pure functions.

#include <string>
#include <string_view>

#include "protocol/form.hpp"

namespace mb::protocol {

// The header value Twilio would send (28 base64 characters).
[[nodiscard]] std::string twilio_signature(std::string_view auth_token, std::string_view url, const form_fields& params);

// True when `signature_header` matches the signature of one of the URLs Twilio may have signed
// for `url`, as twilio-node accepts them:
//  - `url` as given;
//  - for http/ws (port 80) and https/wss (port 443): with the port removed when present, with the
//    default port added when absent (Twilio signs HTTPS voice callbacks without the port, others
//    with it; twilio-node tries both);
//  - each of those with the query percent-encoded the way the WHATWG URL parser does it for these
//    schemes (' " < > space, controls and non-ASCII as %XX), since newer twilio-node signs that form.
// Compares in constant time. False for an empty header or an empty auth token (an unset token must
// never validate anything).
[[nodiscard]] bool validate_twilio_signature(std::string_view auth_token, std::string_view url,
                                             const form_fields& params, std::string_view signature_header);

// For the Media Streams WebSocket upgrade (a GET with no body, so no params): `wss_url` is the
// wss://host/path Twilio connected to, rebuilt from the public host and request target. Twilio's
// doc suggests retrying with a trailing '/' when validation fails, so that path is tried too, each
// with the variants of validate_twilio_signature.
[[nodiscard]] bool validate_twilio_stream_signature(std::string_view auth_token, std::string_view wss_url,
                                                    std::string_view signature_header);

// Lowercase hex SHA-256, for the bodySHA256 query parameter of JSON webhooks.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

}  // namespace mb::protocol
