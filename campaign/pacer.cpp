#include "campaign/pacer.hpp"

#include <algorithm>

namespace mb::campaign {

pacer::pacer(std::size_t rows, pacer_options options)
    : options_(options),
      interval_(std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>(1.0 / std::max(options.calls_per_second, 1e-3)))),
      rows_(rows, call_status::pending) {
  options_.max_active = std::max<std::size_t>(options_.max_active, 1);
}

std::vector<pacer_action> pacer::on_timer(clock::time_point now, bool has_room) {
  if (now >= armed_) armed_ = clock::time_point::max();
  return advance(now, has_room);
}

std::vector<pacer_action> pacer::on_place_failed(std::size_t row, clock::time_point now, bool has_room) {
  set(row, call_status::failed);
  return advance(now, has_room);
}

std::vector<pacer_action> pacer::on_status(std::size_t row, call_status status, clock::time_point now, bool has_room) {
  set(row, status);
  return advance(now, has_room);
}

void pacer::cancel() {
  cancelled_ = true;
  for (auto i = next_row_; i < rows_.size(); ++i) rows_[i] = call_status::canceled;
  next_row_ = rows_.size();
  armed_ = clock::time_point::max();
}

campaign_state pacer::state() const {
  if (cancelled_) return campaign_state::cancelled;
  return next_row_ == rows_.size() && active_ == 0 ? campaign_state::done : campaign_state::running;
}

void pacer::set(std::size_t row, call_status status) {
  if (row >= next_row_ || !moves_to(rows_[row], status)) return;
  if (is_active(rows_[row]) && !is_active(status)) --active_;
  rows_[row] = status;
}

std::vector<pacer_action> pacer::advance(clock::time_point now, bool has_room) {
  std::vector<pacer_action> actions;
  // One call per event at most: the next may follow only `interval_` later.
  if (next_row_ < rows_.size() && active_ < options_.max_active && now >= next_allowed_ && has_room) {
    rows_[next_row_] = call_status::queued;
    ++active_;
    actions.push_back(pace::place_call{next_row_++});
    next_allowed_ = now + interval_;
  }
  if (next_row_ == rows_.size() || active_ >= options_.max_active) return actions;  // a status frees a place
  const auto wake = now < next_allowed_ ? next_allowed_ : now + options_.room_retry;
  if (wake < armed_ || armed_ <= now) {
    armed_ = wake;
    actions.push_back(pace::arm_timer{wake});
  }
  return actions;
}

}  // namespace mb::campaign
