#include "recorder/call_recording.hpp"

#include <array>
#include <cstring>
#include <utility>

namespace mb::recorder {
namespace {

constexpr std::size_t head_bytes = sizeof(entry_head);

}  // namespace

call_recording::call_recording(record::log_header header, std::size_t ring_bytes)
    : header_(std::move(header)), ring_(ring_bytes) {}

bool call_recording::push(const entry_head& head, std::string_view payload) noexcept {
  const std::size_t needed = head_bytes + payload.size();
  const std::size_t gap = unreported_drop_ > 0 ? head_bytes : 0;
  if (ring_.write_available() < needed + gap) {
    unreported_drop_ += needed;
    dropped_.fetch_add(needed, std::memory_order_relaxed);
    return false;
  }
  std::array<char, head_bytes> bytes{};
  if (gap > 0) {
    const entry_head gap_head{0, record::direction::gap, unreported_drop_, head.t_us};
    std::memcpy(bytes.data(), &gap_head, head_bytes);
    ring_.push(bytes.data(), head_bytes);
    unreported_drop_ = 0;
  }
  std::memcpy(bytes.data(), &head, head_bytes);
  ring_.push(bytes.data(), head_bytes);
  ring_.push(payload.data(), payload.size());
  return true;
}

void call_recording::add(record::direction dir, std::int64_t t_us, std::string_view message) noexcept {
  push({static_cast<std::uint32_t>(message.size()), dir, 0, t_us}, message);
}

void call_recording::add_connection(record::direction dir, std::int64_t t_us, std::uint64_t connection,
                                    std::string_view detail) noexcept {
  push({static_cast<std::uint32_t>(detail.size()), dir, connection, t_us}, detail);
}

void call_recording::finish(std::int64_t t_us) noexcept {
  end_t_us_.store(t_us, std::memory_order_relaxed);
  finished_.store(true, std::memory_order_release);
}

bool call_recording::take(entry_head& head, std::string& payload) {
  if (!have_head_) {
    if (ring_.read_available() < head_bytes) return false;
    std::array<char, head_bytes> bytes{};
    ring_.pop(bytes.data(), head_bytes);
    std::memcpy(&pending_, bytes.data(), head_bytes);
    have_head_ = true;
  }
  // The producer pushes a payload right after its head: it may not all be there yet.
  if (ring_.read_available() < pending_.bytes) return false;
  payload.resize(pending_.bytes);
  ring_.pop(payload.data(), pending_.bytes);
  head = pending_;
  have_head_ = false;
  return true;
}

}  // namespace mb::recorder
