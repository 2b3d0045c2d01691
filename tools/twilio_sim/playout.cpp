#include "tools/twilio_sim/playout.hpp"

#include <algorithm>

namespace mb::tools::twilio {

void playout::advance(clock::time_point now) {
  if (playing_) {
    const auto elapsed = std::max(now - anchor_time_, clock::duration::zero());
    const auto reached = anchor_pos_ + static_cast<std::uint64_t>(elapsed / byte_duration);
    const auto next = std::min(reached, end_);
    if (record_ && next > played_) {
      const auto n = static_cast<std::size_t>(next - played_);
      played_audio_.append(fifo_, fifo_head_, n);
      fifo_head_ += n;
      // Compact once the consumed prefix dominates, so the FIFO does not grow for the whole call.
      if (fifo_head_ > 4096 && fifo_head_ * 2 > fifo_.size()) {
        fifo_.erase(0, fifo_head_);
        fifo_head_ = 0;
      }
    }
    played_ = next;
    if (played_ == end_) {
      playing_ = false;  // underrun: the clock pauses until more audio arrives
      if (stale_from_) dry_since_ = anchor_time_ + byte_duration * static_cast<std::int64_t>(end_ - anchor_pos_);
    }
  }
  while (!pending_.empty() && pending_.front().position <= played_) {
    due_.push_back({std::move(pending_.front().name), pending_.front().received, false});
    pending_.pop_front();
  }
}

void playout::add_audio(std::size_t bytes, std::string_view data, clock::time_point now) {
  advance(now);
  if (bytes == 0) return;
  if (dry_since_) {
    // Audio after a long silence is a new answer: the interrupted one stopped when the queue ran dry.
    if (now - *dry_since_ > stopped_after) end_stale_watch();
    dry_since_.reset();
  }
  if (!playing_) {
    playing_ = true;
    anchor_time_ = now;
    anchor_pos_ = played_;
  }
  end_ += bytes;
  if (record_) fifo_.append(data.substr(0, bytes));
}

void playout::add_mark(std::string name, clock::time_point now) {
  advance(now);
  pending_.push_back({std::move(name), now, end_});
  advance(now);  // due at once when nothing is queued
}

clear_stats playout::clear(clock::time_point now) {
  advance(now);
  clear_stats stats{played_ - cleared_at_, end_ - played_, pending_.size()};
  end_stale_watch();
  for (auto& m : pending_) due_.push_back({std::move(m.name), m.received, true});
  pending_.clear();
  end_ = played_;
  cleared_at_ = played_;
  playing_ = false;
  fifo_.clear();
  fifo_head_ = 0;
  return stats;
}

void playout::watch_stale_audio(clock::time_point onset, clock::time_point now) {
  advance(now);
  if (!playing_ || stale_from_) return;
  // The position at the onset; audio that started playing after it counts from its start.
  const auto since_anchor = std::max(onset - anchor_time_, clock::duration::zero());
  stale_from_ = std::min(played_, anchor_pos_ + static_cast<std::uint64_t>(since_anchor / byte_duration));
}

void playout::finish_stale_watch(clock::time_point now) {
  advance(now);
  end_stale_watch();
}

void playout::end_stale_watch() {
  if (!stale_from_) return;
  stale_.push_back(played_ - *stale_from_);
  stale_from_.reset();
  dry_since_.reset();
}

std::optional<clock::time_point> playout::next_mark_time() const {
  if (pending_.empty() || !playing_) return std::nullopt;
  const auto bytes = static_cast<std::int64_t>(pending_.front().position - anchor_pos_);
  return anchor_time_ + std::chrono::duration_cast<clock::duration>(byte_duration * bytes);
}

}  // namespace mb::tools::twilio
