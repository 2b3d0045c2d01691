#include "net/ws_writer.hpp"

#include <algorithm>
#include <chrono>

namespace mb::net {

namespace {
constexpr std::size_t initial_queue = 4;
}

ws_writer::ws_writer(message_socket& socket, std::size_t capacity)
    : socket_(socket),
      capacity_(capacity == 0 ? 1 : capacity),
      queue_(std::min(capacity_, initial_queue)),
      wake_(socket.get_executor()) {
  wake_.expires_at(asio::steady_timer::time_point::max());
}

// A cancel goes through the reactor's timer queue (a lock and a posted completion): skip it while
// the writer is busy writing, or already woken.
void ws_writer::wake() {
  if (!waiting_) return;
  waiting_ = false;
  wake_.cancel();
}

void ws_writer::observe_writes(write_observer observer) { observer_ = std::move(observer); }

std::uint32_t ws_writer::enqueue_slot() {
  std::uint32_t index = 0;
  if (free_.empty()) {
    slots_.emplace_back();
    index = static_cast<std::uint32_t>(slots_.size() - 1);
  } else {
    index = free_.back();
    free_.pop_back();
  }
  if (count_ == queue_.size()) {
    // Only indices move: the slots themselves stay where they are.
    std::vector<std::uint32_t> bigger(2 * queue_.size());
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = queue_[(head_ + i) % queue_.size()];
    queue_ = std::move(bigger);
    head_ = 0;
  }
  queue_[(head_ + count_) % queue_.size()] = index;
  return index;
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
      // The slot stays queued until the write completes, so emplace() cannot reuse it.
      const std::uint32_t index = queue_[head_];
      error_code ec = co_await socket_.write(slots_[index].text);
      if (observer_ && slots_[index].since != std::chrono::steady_clock::time_point{})
        observer_(std::chrono::steady_clock::now() - slots_[index].since);
      head_ = (head_ + 1) % queue_.size();
      --count_;
      free_.push_back(index);
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
    waiting_ = true;
    co_await wake_.async_wait(as_tuple_awaitable);
    waiting_ = false;
  }
  done_ = true;
  count_ = 0;
}

}  // namespace mb::net
