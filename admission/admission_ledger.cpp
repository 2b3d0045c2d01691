#include "admission/admission_ledger.hpp"

namespace mb::admission {

void admission_ledger::forget_expired(std::int64_t now_ms) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now_ms) {
    reservations_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

void admission_ledger::drop_reservation(std::map<std::string, std::int64_t, std::less<>>::iterator it) {
  by_expiry_.erase({it->second, it->first});
  reservations_.erase(it);
}

std::size_t admission_ledger::occupied(std::int64_t now_ms) {
  forget_expired(now_ms);
  return live_.size() + reservations_.size();
}

bool admission_ledger::full(std::int64_t now_ms) { return limits_.calls > 0 && occupied(now_ms) >= limits_.calls; }

reserve_result admission_ledger::reserve(std::string_view call_sid, std::int64_t expires_at_ms, std::int64_t now_ms) {
  forget_expired(now_ms);
  if (live_.contains(call_sid)) return reserve_result::already_live;
  if (auto it = reservations_.find(call_sid); it != reservations_.end()) {
    // The same call announced again (a retried webhook): one slot, held until the later expiry.
    if (expires_at_ms > it->second) {
      by_expiry_.erase({it->second, it->first});
      it->second = expires_at_ms;
      by_expiry_.emplace(expires_at_ms, it->first);
    }
    return reserve_result::reserved;
  }
  if (full(now_ms)) return reserve_result::full;
  reservations_.emplace(std::string(call_sid), expires_at_ms);
  by_expiry_.emplace(expires_at_ms, std::string(call_sid));
  return reserve_result::reserved;
}

admit_result admission_ledger::admit(std::string_view call_sid, std::int64_t now_ms) {
  forget_expired(now_ms);
  if (live_.contains(call_sid)) return admit_result::already_live;
  if (auto it = reservations_.find(call_sid); it != reservations_.end()) {
    drop_reservation(it);
  } else if (full(now_ms)) {
    return admit_result::full;
  }
  live_.emplace(call_sid);
  return admit_result::admitted;
}

void admission_ledger::release(std::string_view call_sid) {
  if (auto it = live_.find(call_sid); it != live_.end()) live_.erase(it);
}

bool admission_ledger::open_pending() {
  if (limits_.pending > 0 && pending_ >= limits_.pending) return false;
  ++pending_;
  return true;
}

void admission_ledger::close_pending() {
  if (pending_ > 0) --pending_;
}

}  // namespace mb::admission
