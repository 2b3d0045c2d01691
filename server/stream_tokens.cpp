#include "server/stream_tokens.hpp"

#include <openssl/rand.h>

#include "protocol/base64.hpp"
#include "protocol/stream_token.hpp"

namespace mb::server {
namespace {
std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string random_key() {
  unsigned char bytes[32];
  RAND_bytes(bytes, sizeof bytes);
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

stream_tokens::stream_tokens(std::string key, std::chrono::seconds ttl) : key_(std::move(key)), ttl_(ttl) {}

std::string stream_tokens::issue(std::string_view call_sid) {
  return protocol::make_stream_token(key_, call_sid, unix_now() + ttl_.count());
}

bool stream_tokens::valid(std::string_view call_sid, std::string_view token) const {
  return !call_sid.empty() && protocol::check_stream_token(key_, token, call_sid, unix_now()) == protocol::token_check::valid;
}

std::string stream_tokens::redeem(std::string_view call_sid, std::string_view token) {
  if (token.empty()) return "no stream token (the stream was not created by this server's webhook)";
  const auto now = unix_now();
  const auto check = protocol::check_stream_token(key_, token, call_sid, now);
  if (check != protocol::token_check::valid) return std::string("stream token ") + protocol::to_string(check);
  std::lock_guard lock(mutex_);
  std::erase_if(used_, [now](const auto& entry) { return entry.second < now; });
  if (!used_.emplace(std::string(token), now + ttl_.count()).second) return "stream token already used";
  return {};
}

}  // namespace mb::server
