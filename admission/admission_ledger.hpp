#pragma once
// Admission control for media streams (docs/security.md, "Admission control"): which CallSids are live,
// which slots webhooks have reserved for streams they announced, and how many upgraded streams have
// not yet sent an authorised start.
//
// - A slot is reserved when a webhook answers <Connect><Stream> (or the softphone creates a call), for
//   the stream token's lifetime, so that a burst of webhooks cannot exceed the limit before the streams
//   arrive. The stream's admission converts the reservation; expiry frees it.
// - Only an authorised stream is admitted, and only one per CallSid.
// - Streams that have not yet sent an authorised start are counted separately (`pending`) and never hold
//   a call slot, so that idle unauthenticated sockets cannot turn real calls away.
//
// Times are milliseconds on one monotonic clock of the caller's choice (`now_ms` in every operation
// that depends on it), which lets the tests use a fake clock.
//
// @par Thread Safety
// None: bridge::call_registry serialises access. Every operation is O(log n) in the entries held, plus
// the expired reservations it forgets.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace mb::admission {

struct admission_limits {
  std::size_t calls = 0;    // MAX_CONCURRENT_CALLS: live streams plus unexpired reservations; 0: no limit
  std::size_t pending = 0;  // MAX_PENDING_STREAMS: upgraded streams without an authorised start; 0: no limit
};

enum class reserve_result {
  reserved,      // a slot is held until the expiry (a second reservation of the same CallSid extends it)
  already_live,  // a stream for this CallSid is running: a replayed webhook
  full,          // no free slot
};

enum class admit_result {
  admitted,      // the CallSid is live; release() it when the stream ends
  already_live,  // a stream for this CallSid is running
  full,          // no reservation and no free slot
};

class admission_ledger {
 public:
  explicit admission_ledger(admission_limits limits) : limits_(limits) {}

  reserve_result reserve(std::string_view call_sid, std::int64_t expires_at_ms, std::int64_t now_ms);
  // Converts the CallSid's reservation, or takes a free slot when it holds none (a token another
  // instance issued, or a reservation that expired just before the stream started).
  admit_result admit(std::string_view call_sid, std::int64_t now_ms);
  // The live stream of `call_sid` ended. A reservation is never released early: only its own stream's
  // admission or its expiry ends it, so that nobody but that stream can free (or take) its slot.
  void release(std::string_view call_sid);

  // False at the pending limit; otherwise the caller must close_pending() exactly once.
  [[nodiscard]] bool open_pending();
  void close_pending();

  // Live streams plus unexpired reservations: what the call limit counts. Forgets expired reservations,
  // hence not const.
  [[nodiscard]] std::size_t occupied(std::int64_t now_ms);
  [[nodiscard]] bool full(std::int64_t now_ms);
  [[nodiscard]] std::size_t live() const noexcept { return live_.size(); }
  [[nodiscard]] std::size_t reserved(std::int64_t now_ms) { return occupied(now_ms) - live(); }
  [[nodiscard]] std::size_t pending() const noexcept { return pending_; }
  [[nodiscard]] bool is_live(std::string_view call_sid) const { return live_.contains(call_sid); }

 private:
  void forget_expired(std::int64_t now_ms);
  void drop_reservation(std::map<std::string, std::int64_t, std::less<>>::iterator it);

  admission_limits limits_;
  std::set<std::string, std::less<>> live_;
  std::map<std::string, std::int64_t, std::less<>> reservations_;  // CallSid → expiry
  std::set<std::pair<std::int64_t, std::string>> by_expiry_;        // the same, oldest expiry first
  std::size_t pending_ = 0;
};

}  // namespace mb::admission
