#include "net/ws_writer.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <boost/asio/async_result.hpp>

namespace mb::net {

namespace {
constexpr std::size_t initial_queue = 4;
}

awaitable<error_code> write_message(message_socket& socket, std::string_view text) {
  auto [ec] = co_await asio::async_initiate<decltype(as_tuple_awaitable), void(error_code)>(
      [&socket, text](auto handler) {
        // write_done must be copyable; the coroutine's handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        socket.async_write(text, [shared](error_code ec) { (*shared)(ec); });
      },
      as_tuple_awaitable);
  co_return ec;
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

void ws_writer::refill_with(std::function<void()> refill) { refill_ = std::move(refill); }

std::uint32_t ws_writer::take_slot() {
  std::uint32_t index = 0;
  if (free_.empty()) {
    slots_.emplace_back();
    index = static_cast<std::uint32_t>(slots_.size() - 1);
  } else {
    index = free_.back();
    free_.pop_back();
  }
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

void ws_writer::start_next_write() {
  writing_ = true;
  // The slot stays queued until the write completes, so emplace() cannot reuse it.
  socket_.async_write(slots_[queue_.front()].text, [this](error_code ec) { write_completed(ec); });
}

void ws_writer::write_completed(error_code ec) {
  const std::uint32_t index = queue_.front();
  if (observer_ && slots_[index].since != std::chrono::steady_clock::time_point{})
    observer_(slots_[index].since, std::chrono::steady_clock::now());
  queue_.pop_front();
  free_.push_back(index);
  if (ec && !error_) error_ = ec;
  // Still marked writing: what refill_ queues waits for the start below instead of starting a second write.
  if (refill_ && !stopping()) refill_();
  writing_ = false;
  if (!stopping() && !queue_.empty()) return start_next_write();
  if (stopping() || close_requested_) wake();
}

awaitable<void> ws_writer::run() {
  // A cancelled run() (the call's other side ended first) must still outlive its write in flight,
  // whose completion refers to this writer: it aborts the socket and waits for that completion.
  co_await asio::this_coro::throw_if_cancelled(false);
  running_ = true;
  if (!queue_.empty() && !writing_ && !stopping()) start_next_write();
  for (;;) {
    if (stopping()) {
      if (!writing_) break;
    } else if (close_requested_ && queue_.empty() && !writing_) {
      error_ = co_await socket_.close(*close_);
      break;
    }
    // Timer as condition variable: wake() cancels this wait. Same executor, so no lost wake-up.
    waiting_ = true;
    co_await wake_.async_wait(as_tuple_awaitable);
    waiting_ = false;
    const auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
    if (cancelled != asio::cancellation_type::none && !aborted_) abort_now();
  }
  running_ = false;
  done_ = true;
  queue_.clear();
}

}  // namespace mb::net
