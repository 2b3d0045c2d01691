#include "net/ws_writer.hpp"

#include <chrono>

namespace mb::net {

ws_writer::ws_writer(message_socket& socket, std::size_t capacity)
    : socket_(socket), ring_(capacity == 0 ? 1 : capacity), wake_(socket.get_executor()) {
  wake_.expires_at(asio::steady_timer::time_point::max());
}

void ws_writer::wake() { wake_.cancel(); }

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
      error_code ec = co_await socket_.write(ring_[head_]);
      head_ = (head_ + 1) % ring_.size();
      --count_;
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
