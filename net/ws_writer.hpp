#pragma once
// The single writer of one message_socket: a bounded queue drained by one coroutine, which also
// performs the close. Beast allows one outstanding write per stream, and does no queueing itself.
//
// Queue slots are strings that keep their capacity, so a steady stream of similar-sized messages
// causes no heap allocation.
//
// @par Thread safety
// Not thread-safe: use from the socket's executor only.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/message_socket.hpp"

namespace mb::net {

class ws_writer {
 public:
  ws_writer(message_socket& socket, std::size_t capacity);

  // Builds a message in place with fill(std::string&) (given an empty string with spare capacity).
  // Returns false, building nothing, when the queue is full or the writer is closing or done.
  template <class Fill>
  bool emplace(Fill&& fill) {
    if (!accepting()) return false;
    std::string& slot = ring_[(head_ + count_) % ring_.size()];
    slot.clear();
    fill(slot);
    ++count_;
    wake();
    return true;
  }
  bool push(std::string_view text) {
    return emplace([text](std::string& s) { s.assign(text); });
  }

  // Queues a close: messages already queued are sent first, then the close frame.
  void close(close_reason reason);

  // Runs until the close completes, a write fails, or abort_now() is called.
  awaitable<void> run();

  // Stop at once without a close frame (used when the peer is gone or a deadline passed).
  void abort_now();

  [[nodiscard]] bool accepting() const noexcept {
    return !close_requested_ && !done_ && count_ < ring_.size();
  }
  [[nodiscard]] bool full() const noexcept { return count_ == ring_.size(); }
  [[nodiscard]] bool done() const noexcept { return done_; }
  [[nodiscard]] std::size_t queued() const noexcept { return count_; }
  [[nodiscard]] error_code error() const noexcept { return error_; }

 private:
  void wake();

  message_socket& socket_;
  std::vector<std::string> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  asio::steady_timer wake_;
  std::optional<close_reason> close_;
  bool close_requested_ = false;
  bool aborted_ = false;
  bool done_ = false;
  error_code error_;
};

}  // namespace mb::net
