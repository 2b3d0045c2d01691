#pragma once
// application/x-www-form-urlencoded bodies (Twilio webhooks POST them) and URL query strings.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb::protocol {

// Decoded name/value pairs in wire order; a repeated name appears once per occurrence.
using form_fields = std::vector<std::pair<std::string, std::string>>;

// Parses "a=1&b=x+y&c" (no leading '?'). '+' decodes to a space and %XX to its byte, in names and
// values. A field without '=' has an empty value; empty fields ("a=1&&b=2", a trailing '&') are
// skipped, as the WHATWG URL Standard's parser does. Returns nullopt for a malformed percent-escape
// or a character RFC 3986 does not allow in a query (raw space, '"', '<', '#', control or non-ASCII
// bytes): a conforming encoder escapes them, so their presence means the body is not what it claims.
// Decoded bytes are returned as they are; nothing checks that they are UTF-8.
[[nodiscard]] std::optional<form_fields> parse_form(std::string_view body);

// "a=1&b=x+y": the fields as browsers and Twilio write a form (WHATWG URL Standard): space as '+',
// ALPHA DIGIT * - . _ as they are, every other byte as %XX. parse_form() reads it back.
[[nodiscard]] std::string encode_form(const form_fields& fields);

// The value of the first field called `name`, or an empty view when there is none.
// The view points into `fields`.
[[nodiscard]] std::string_view form_value(const form_fields& fields, std::string_view name) noexcept;

// A query's count parameter (limit=): a whole decimal number in min..max, or nullopt.
[[nodiscard]] std::optional<std::size_t> count_in_range(std::string_view text, std::size_t min,
                                                        std::size_t max) noexcept;

}  // namespace mb::protocol
