#pragma once
// Remembers ids for a while, to answer each only once: webhook-ids (a redelivered or replayed webhook
// is acknowledged and nothing else, docs/security.md) and the call ids already accepted or rejected
// (one call raises two events, and each may be retried: exactly one is acted on, docs/protocols.md J5).
//
// Bounded: at most `capacity` ids, each kept `keep_s` seconds; when full, the oldest is forgotten
// first. Ids longer than max_remembered_id_bytes are refused by the caller, not stored.
//
// @par Thread Safety
// Not thread-safe: the webhook endpoint holds it under a mutex.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mb::sip {

inline constexpr std::size_t max_remembered_id_bytes = 256;

class replay_guard {
 public:
  replay_guard(std::size_t capacity, std::int64_t keep_s);

  // True the first time `id` is seen (it is remembered from now until now + keep_s), false while it
  // is remembered. `now_unix_s` may not go backwards by more than keep_s without ids living longer.
  bool first_time(std::string_view id, std::int64_t now_unix_s);

  [[nodiscard]] std::size_t size() const noexcept { return expiry_.size(); }

 private:
  void forget_expired(std::int64_t now_unix_s);

  std::size_t capacity_;
  std::int64_t keep_s_;
  std::unordered_map<std::string, std::int64_t> expiry_;  // id → unix s after which it is forgotten
  std::deque<std::string> order_;                          // oldest first
};

}  // namespace mb::sip
