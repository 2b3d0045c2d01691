#pragma once
// One recorded call's capture (docs/recording.md "The event log"): the call's thread copies each
// message into a fixed ring of bytes, allocated once when the call starts recording; the writer thread
// (recorder/recording_writer.hpp) takes them out, formats them and writes them. Nothing on the call's
// thread allocates, formats or waits per message. When the ring is full the message is dropped and
// counted, and the writer marks the place with a gap entry.
//
// @par Thread Safety
// One producer (the call's thread: add_*, finish) and one consumer (the writer's thread: take,
// finished); the counters from any thread.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/lockfree/spsc_queue.hpp>

#include "record/log_format.hpp"

namespace mb::recorder {

// One entry as it travels through the ring: this head, then `bytes` of payload (the message, or the
// upstream_closed detail).
struct entry_head {
  std::uint32_t bytes = 0;
  record::direction dir = record::direction::twilio_in;
  std::uint64_t number = 0;  // upstream_open/closed: the connection; gap: the bytes dropped
  std::int64_t t_us = 0;     // µs since the stream's start reached the bridge
};

class call_recording {
 public:
  call_recording(record::log_header header, std::size_t ring_bytes);
  call_recording(const call_recording&) = delete;
  call_recording& operator=(const call_recording&) = delete;

  // The call's thread. `message`: as received or sent, JSON or not (the writer decides).
  void add(record::direction dir, std::int64_t t_us, std::string_view message) noexcept;
  void add_connection(record::direction dir, std::int64_t t_us, std::uint64_t connection,
                      std::string_view detail = {}) noexcept;
  // The call ended at t_us: nothing more is added.
  void finish(std::int64_t t_us) noexcept;

  // The writer's thread: the next whole entry, its payload in `payload` (reused); false when none is
  // complete yet.
  bool take(entry_head& head, std::string& payload);
  // True once finish() ran; entries taken after that are the last ones.
  [[nodiscard]] bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  [[nodiscard]] std::int64_t end_t_us() const noexcept { return end_t_us_.load(std::memory_order_relaxed); }

  [[nodiscard]] const record::log_header& header() const noexcept { return header_; }
  [[nodiscard]] std::uint64_t dropped_bytes() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  bool push(const entry_head& head, std::string_view payload) noexcept;

  const record::log_header header_;
  boost::lockfree::spsc_queue<char> ring_;
  std::uint64_t unreported_drop_ = 0;  // producer only: bytes dropped since the last gap entry
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<bool> finished_{false};
  std::atomic<std::int64_t> end_t_us_{0};
  bool have_head_ = false;  // consumer only
  entry_head pending_{};    // consumer only
};

}  // namespace mb::recorder
