#include "log/line_budget.hpp"

#include <algorithm>

namespace mb::log {

bool shared_line_budget::try_take(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  return budget_.take(now_ms);
}

void shared_line_budget::count_suppressed() noexcept {
  unreported_.fetch_add(1, std::memory_order_relaxed);
  total_.fetch_add(1, std::memory_order_relaxed);
}

std::string suppression_note(const suppressed_before& s) {
  if (s.this_peer == 0 && s.all_peers == 0) return {};
  std::string note = " (log lines suppressed: ";
  if (s.this_peer > 0) note += std::to_string(s.this_peer) + " from this peer";
  if (s.this_peer > 0 && s.all_peers > 0) note += ", ";
  if (s.all_peers > 0) note += std::to_string(s.all_peers) + " from all peers";
  return note + ")";
}

std::optional<suppressed_before> connection_lines::admit(std::int64_t now_ms) {
  if (!own_.take(now_ms)) return suppress();
  return admit_closing(now_ms);
}

std::optional<suppressed_before> connection_lines::admit_closing(std::int64_t now_ms) {
  if (shared_ && !shared_->try_take(now_ms)) return suppress();
  return written();
}

std::optional<suppressed_before> connection_lines::suppress() {
  ++unreported_;
  ++total_;
  if (shared_) shared_->count_suppressed();
  return std::nullopt;
}

suppressed_before connection_lines::written() {
  suppressed_before s{unreported_, shared_ ? shared_->take_unreported() : 0};
  unreported_ = 0;
  return s;
}

}  // namespace mb::log
