#pragma once
// The single writer of one message_socket: a bounded queue with at most one write in flight, and a
// coroutine, run(), that owns the writer's lifetime and performs the close. Beast allows one
// outstanding write per stream, and does no queueing itself.
//
// Writes chain by completion callback: emplace() starts the write at once when none is in flight,
// from the coroutine that queued the message, and each completion starts the next queued one. So a
// relayed message costs one scheduler round (its write completion); waking a writer coroutine per
// message cost a second round, an extra epoll_wait and a timer cancel (docs/performance.md: a third
// fewer epoll_wait calls per relayed frame, and about half the p99 relay latency at 400 calls).
// run() sleeps until the writer has to close or stop, and never returns while a write is in flight.
//
// Messages are built in slots: strings that keep their capacity, so a steady stream of similar-sized
// messages causes no heap allocation. A written slot is reused before any other (last freed, first
// reused), so a writer that keeps up cycles through the same one or two warm slots, and slots exist
// only for the deepest backlog seen, not for the capacity (1024 messages per call side here).
//
// @par Thread safety
// Not thread-safe: use from the socket's executor only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "containers/ring.hpp"
#include "net/message_socket.hpp"

namespace mb::net {

// One write, awaited: for a coroutine that sends a message and waits before the next (tests, probes).
// It allocates per call; a socket's steady traffic goes through a ws_writer.
awaitable<error_code> write_message(message_socket& socket, std::string_view text);

class ws_writer {
 public:
  ws_writer(message_socket& socket, std::size_t capacity);

  // Builds a message in place with fill(std::string&) (given an empty string with spare capacity).
  // Returns false, building nothing, when the queue is full or the writer is closing or done.
  // A fill that returns bool may decline: false sends nothing (a transcoding adapter still gathering
  // a block of the caller's audio, docs/protocols.md F3). An empty message is a message (SSE's
  // keep-alive comment).
  template <class Fill>
  bool emplace(Fill&& fill) {
    return emplace_timed({}, std::forward<Fill>(fill));
  }
  bool push(std::string_view text) {
    return emplace([text](std::string& s) { s.assign(text); });
  }

  // Like emplace(), for a message whose latency is observed: when its write completes, the write
  // observer gets `since` (e.g. when the message it relays was read) and the time it completed.
  template <class Fill>
  bool emplace_timed(std::chrono::steady_clock::time_point since, Fill&& fill) {
    if (!accepting()) return false;
    const auto index = take_slot();
    slot& s = slots_[index];
    s.since = since;
    s.text.clear();
    if constexpr (std::is_same_v<std::invoke_result_t<Fill&, std::string&>, bool>) {
      if (!fill(s.text)) {
        free_.push_back(index);  // its capacity was taken from free_ a moment ago: no allocation
        return true;
      }
    } else {
      fill(s.text);
    }
    queue_.append() = index;
    if (running_ && !writing_ && !stopping()) start_next_write();
    return true;
  }
  using write_observer =
      std::function<void(std::chrono::steady_clock::time_point since, std::chrono::steady_clock::time_point written)>;
  void observe_writes(write_observer observer);

  // Called after each completed write, before the next one starts: a producer with a backlog of its
  // own (shared, immutable messages) keeps this writer's short queue topped up from it, rather than
  // copying the whole backlog into slots that would keep their capacity for the writer's lifetime.
  void refill_with(std::function<void()> refill);

  // Queues a close: messages already queued are sent first, then the close frame.
  void close(close_reason reason);

  // Writes until the close completes, a write fails, or abort_now() is called (or run() is
  // cancelled, which aborts). Messages queued before run() starts wait for it.
  awaitable<void> run();

  // Stop at once without a close frame (used when the peer is gone or a deadline passed).
  void abort_now();

  [[nodiscard]] bool accepting() const noexcept {
    return !close_requested_ && !done_ && queue_.size() < capacity_;
  }
  [[nodiscard]] bool full() const noexcept { return queue_.size() == capacity_; }
  [[nodiscard]] bool done() const noexcept { return done_; }
  [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }
  [[nodiscard]] error_code error() const noexcept { return error_; }

 private:
  struct slot {
    std::string text;
    std::chrono::steady_clock::time_point since;  // emplace_timed(); {}: not timed
  };

  void wake();
  void start_next_write();
  void write_completed(error_code ec);
  [[nodiscard]] bool stopping() const noexcept { return aborted_ || error_.failed(); }
  // Takes a free slot (or makes one), not yet queued; returns its index.
  std::uint32_t take_slot();

  message_socket& socket_;
  std::size_t capacity_;
  std::deque<slot> slots_;             // a deque: growing it never moves the slot being written
  std::vector<std::uint32_t> free_;    // slots not queued; the last freed is reused first
  containers::ring<std::uint32_t> queue_;  // queued slot indices, in send order
  write_observer observer_;
  std::function<void()> refill_;
  asio::steady_timer wake_;
  bool waiting_ = false;  // run() waits on wake_: only then does a wake need to cancel it
  bool running_ = false;  // run() has started and not finished: writes may start
  bool writing_ = false;  // the queue's head is being written
  std::optional<close_reason> close_;
  bool close_requested_ = false;
  bool aborted_ = false;
  bool done_ = false;
  error_code error_;
};

}  // namespace mb::net
