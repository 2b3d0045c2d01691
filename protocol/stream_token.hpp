#pragma once
// Binds a Media Stream to the webhook call that created it. The webhook hands Twilio a token in a
// <Parameter>; Twilio returns it in start.customParameters (protocols.md B1/C5: parameters cannot be
// checked at upgrade time, only at start).
//
// token = "<expires unix s>.<base64(HMAC-SHA256(key, call_sid + "." + expires))>"

#include <cstdint>
#include <string>
#include <string_view>

namespace mb::protocol {

inline constexpr std::string_view stream_token_parameter = "mb_stream_token";

std::string make_stream_token(std::string_view key, std::string_view call_sid, std::int64_t expires_unix_s);

enum class token_check { valid, malformed, bad_signature, expired };
token_check check_stream_token(std::string_view key, std::string_view token, std::string_view call_sid,
                               std::int64_t now_unix_s);
const char* to_string(token_check c);

}  // namespace mb::protocol
