#pragma once
// Base64 with the standard alphabet and '=' padding (RFC 4648 section 4), as used by Twilio
// `media.payload` and OpenAI Realtime `audio` / `delta` fields.
//
// Sizes are in bytes (decoded) and characters (encoded).
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mb::protocol {

// True when `text` is strict base64: only A-Z a-z 0-9 + /, a length that is a multiple of 4,
// and '=' only as the last one or two characters. The empty string is valid (zero bytes). Line breaks
// and whitespace are rejected like any character outside the alphabet (RFC 4648 section 3.3). Unused
// bits in the last group are not checked, matching OpenSSL and most decoders.
// Runs on every audio frame: one pass, no allocation.
[[nodiscard]] bool is_base64(std::string_view text) noexcept;

// Exact number of bytes `valid_b64` decodes to. Precondition: is_base64(valid_b64).
[[nodiscard]] std::size_t base64_decoded_size(std::string_view valid_b64) noexcept;

// nullopt unless is_base64(text) and text fits OpenSSL's int length.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);
// The same into `out`, reusing its capacity (per-frame callers); false, `out` unspecified, when invalid.
[[nodiscard]] bool base64_decode(std::string_view text, std::string& out);

// Throws std::length_error when the encoded form would not fit OpenSSL's int length (about 1.5 GiB in).
[[nodiscard]] std::string base64_encode(std::string_view bytes);
// The same into `out`, reusing its capacity.
void base64_encode(std::string_view bytes, std::string& out);

}  // namespace mb::protocol
