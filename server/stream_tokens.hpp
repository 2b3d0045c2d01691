#pragma once
// Issues stream tokens at the webhook and redeems each at most once when its stream starts.
//
// @par Thread safety
// Thread-safe: issue() runs on HTTP threads, redeem() on call threads (once per call each).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mb::server {

class stream_tokens {
 public:
  // key: TWILIO_AUTH_TOKEN when set (so that every instance behind a balancer agrees), else random.
  stream_tokens(std::string key, std::chrono::seconds ttl);
  std::string issue(std::string_view call_sid);
  // "" when valid and unused (and now used), else why it is refused.
  std::string redeem(std::string_view call_sid, std::string_view token);
  // Whether `token` was issued for `call_sid` and has not expired, without using it up: a SIP call's
  // token comes with both of its webhook events (server/sip_webhook.hpp), which accept it once.
  [[nodiscard]] bool valid(std::string_view call_sid, std::string_view token) const;
  // How long an issued token is valid: also how long the webhook's admission reservation is held.
  [[nodiscard]] std::chrono::seconds ttl() const noexcept { return ttl_; }

 private:
  std::string key_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> used_;  // token → expiry, forgotten after expiry
};

std::string random_key();

}  // namespace mb::server
