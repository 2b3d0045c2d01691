#include "net/ws_writer.hpp"

#include <algorithm>
#include <chrono>

namespace mb::net {

namespace {
constexpr std::size_t initial_slots = 4;
}

ws_writer::ws_writer(message_socket& socket, std::size_t capacity)
    : socket_(socket),
      capacity_(capacity == 0 ? 1 : capacity),
      ring_(std::min(capacity_, initial_slots)),
      wake_(socket.get_executor()) {
  wake_.expires_at(asio::steady_timer::time_point::max());
}

void ws_writer::wake() { wake_.cancel(); }

void ws_writer::observe_writes(write_observer observer) { observer_ = std::move(observer); }

// The ring is full: double it. The queued messages wrap around from head_ to the end and on from
// slot 0; the ones in [0, head_) move behind the end, so the queue stays contiguous in ring order.
// The slot at head_ (possibly being written) does not move, and a deque keeps it in place.
void ws_writer::grow() {
  const std::size_t old_size = ring_.size();
  for (std::size_t i = 0; i < head_; ++i) ring_.push_back(std::move(ring_[i]));
  ring_.resize(2 * old_size);
}

void ws_writer::close(close_reason reason) {
  if (close_requested_ || done_) return;
  close_requested_ = true;
  close_ = std::move(reason);
  wake();
}

void ws_writer::abort_now() {
  aborted_ = true;
  socket_.abort();
  wake();
}

awaitable<void> ws_writer::run() {
  for (;;) {
    if (aborted_) break;
    if (count_ > 0) {
      // The slot stays owned by the queue until the write completes, so emplace() cannot reuse it.
      error_code ec = co_await socket_.write(ring_[head_].text);
      if (observer_ && ring_[head_].since != std::chrono::steady_clock::time_point{})
        observer_(std::chrono::steady_clock::now() - ring_[head_].since);
      // Drained: start over at slot 0, so the same few slots (and their buffers) serve every message.
      head_ = --count_ == 0 ? 0 : (head_ + 1) % ring_.size();
      if (ec) {
        error_ = ec;
        break;
      }
      continue;
    }
    if (close_requested_) {
      error_ = co_await socket_.close(*close_);
      break;
    }
    // Timer as condition variable: wake() cancels this wait. Same strand, so no lost wake-up.
    co_await wake_.async_wait(as_tuple_awaitable);
  }
  done_ = true;
  count_ = 0;
}

}  // namespace mb::net
