#include "call/playback_ledger.hpp"

#include <algorithm>
#include <charconv>

namespace mb::call {

std::uint64_t playback_ledger::on_audio_received(std::string_view item_id, std::string_view response_id,
                                                 std::int64_t content_index, std::uint64_t bytes) {
  if (!items_.empty()) {
    item& last = items_.back();
    if (last.item_id == item_id && last.content_index == content_index) {
      last.received_bytes += bytes;
      return last.serial;
    }
  }
  item it;
  it.serial = next_serial_++;
  it.item_id = item_id;
  it.response_id = response_id;
  it.content_index = content_index;
  it.received_bytes = bytes;
  items_.push_back(std::move(it));
  return items_.back().serial;
}

void playback_ledger::on_audio_done(std::string_view item_id) {
  for (auto& it : items_)
    if (it.item_id == item_id) it.audio_done = true;
}

playback_ledger::item* playback_ledger::find_mutable(std::uint64_t serial) {
  if (items_.empty() || serial < items_.front().serial) return nullptr;
  const auto index = serial - items_.front().serial;
  return index < items_.size() ? &items_[index] : nullptr;
}

const playback_ledger::item* playback_ledger::find(std::uint64_t serial) const {
  return const_cast<playback_ledger*>(this)->find_mutable(serial);
}

const playback_ledger::item* playback_ledger::find(std::string_view item_id) const {
  for (const auto& it : items_)
    if (it.item_id == item_id) return &it;
  return nullptr;
}

std::string playback_ledger::on_sent(std::uint64_t serial, std::uint64_t bytes, std::int64_t clock_ms) {
  item* it = find_mutable(serial);
  if (it == nullptr) return {};
  // Twilio starts playing a chunk at once when nothing is queued before it.
  if (!has_unplayed()) {
    it->anchored = true;
    it->anchor_clock_ms = clock_ms;
    it->anchor_bytes = it->sent_bytes;
  }
  it->sent_bytes += bytes;
  const auto sequence = next_sequence_++;
  pending_marks_.push_back({sequence, serial, it->sent_bytes});
  return std::to_string(generation_) + "." + std::to_string(sequence);
}

void playback_ledger::anchor_next_after(std::uint64_t serial, std::int64_t clock_ms) {
  item* next = find_mutable(serial + 1);
  if (next != nullptr && next->sent_bytes > next->played_bytes) {
    next->anchored = true;
    next->anchor_clock_ms = clock_ms;
    next->anchor_bytes = next->played_bytes;
  }
}

playback_ledger::mark_result playback_ledger::on_mark(std::string_view name, std::int64_t clock_ms) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos) return mark_result::unknown;
  std::uint32_t gen = 0;
  std::uint64_t sequence = 0;
  const char* g_end = name.data() + dot;
  const char* s_end = name.data() + name.size();
  auto [gp, gec] = std::from_chars(name.data(), g_end, gen);
  auto [sp, sec] = std::from_chars(g_end + 1, s_end, sequence);
  if (gec != std::errc{} || gp != g_end || sec != std::errc{} || sp != s_end) return mark_result::unknown;
  if (gen != generation_) return gen < generation_ ? mark_result::stale : mark_result::unknown;
  if (pending_marks_.empty() || sequence < pending_marks_.front().sequence ||
      sequence > pending_marks_.back().sequence)
    return mark_result::unknown;

  // Twilio echoes in order; an echo also confirms every earlier mark.
  while (!pending_marks_.empty() && pending_marks_.front().sequence <= sequence) {
    const pending_mark m = pending_marks_.front();
    pending_marks_.pop_front();
    item* it = find_mutable(m.serial);
    if (it == nullptr) continue;
    it->played_bytes = std::max(it->played_bytes, m.end_bytes);
    it->anchored = true;
    it->anchor_clock_ms = clock_ms;
    it->anchor_bytes = it->played_bytes;
    if (it->played_bytes == it->sent_bytes) anchor_next_after(m.serial, clock_ms);
  }
  return mark_result::played;
}

std::int64_t playback_ledger::heard_ms(const item& it, std::int64_t clock_ms) const {
  const auto played_ms = static_cast<std::int64_t>(it.played_bytes / ulaw_bytes_per_ms);
  const auto sent_ms = static_cast<std::int64_t>(it.sent_bytes / ulaw_bytes_per_ms);
  if (!it.anchored || it.sent_bytes == it.played_bytes) return played_ms;
  const auto estimate =
      static_cast<std::int64_t>(it.anchor_bytes / ulaw_bytes_per_ms) + std::max<std::int64_t>(0, clock_ms - it.anchor_clock_ms);
  return std::clamp(estimate, played_ms, sent_ms);
}

std::vector<playback_ledger::cut> playback_ledger::cut_all(std::int64_t clock_ms) {
  std::vector<cut> cuts;
  for (const auto& it : items_) {
    if (it.received_bytes == 0) continue;  // the API rejects truncating an item with no audio
    cuts.push_back({it.item_id, it.response_id, it.content_index, heard_ms(it, clock_ms)});
  }
  // The item being heard goes first: it is the one whose truncation matters most.
  std::stable_partition(cuts.begin(), cuts.end(), [&](const cut& c) {
    const item* it = find(c.item_id);
    return it != nullptr && it->sent_bytes > it->played_bytes;
  });
  items_.clear();
  pending_marks_.clear();
  ++generation_;
  return cuts;
}

std::vector<std::string> playback_ledger::take_finished() {
  std::vector<std::string> finished;
  while (!items_.empty()) {
    const item& front = items_.front();
    if (!front.audio_done || front.played_bytes != front.received_bytes) break;
    finished.push_back(front.item_id);
    items_.pop_front();
  }
  return finished;
}

}  // namespace mb::call
