#include "server/io_pool.hpp"

namespace mb::server {

io_pool::io_pool(std::size_t threads) : connections_(threads == 0 ? 1 : threads) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

io_pool::lease io_pool::acquire() {
  const std::size_t best = least_loaded();
  hold(best);
  return {*contexts_[best], best};
}

std::size_t io_pool::least_loaded() noexcept {
  const std::size_t n = contexts_.size();
  const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  std::size_t best = start % n;
  for (std::size_t k = 1; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    if (connections_[i].load(std::memory_order_relaxed) < connections_[best].load(std::memory_order_relaxed)) best = i;
  }
  return best;
}

void io_pool::hold(std::size_t index) noexcept { connections_[index].fetch_add(1, std::memory_order_relaxed); }

void io_pool::release(std::size_t index) noexcept { connections_[index].fetch_sub(1, std::memory_order_relaxed); }

std::size_t io_pool::connections() const noexcept {
  std::size_t n = 0;
  for (const auto& c : connections_) n += c.load(std::memory_order_relaxed);
  return n;
}

void io_pool::run() {
  run_each([](asio::io_context& context) { context.run(); });
}

void io_pool::run_for(std::chrono::steady_clock::duration limit, const std::function<void()>& on_thread) {
  run_each([&](asio::io_context& context) {
    if (on_thread) on_thread();
    context.run_for(limit);
  });
}

void io_pool::run_each(const std::function<void(asio::io_context&)>& body) {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i, &body] { body(*contexts_[i]); });
  body(*contexts_.front());
  for (auto& t : threads) t.join();
}

void io_pool::release_work() {
  for (auto& guard : guards_) guard.reset();
}

void io_pool::stop() {
  for (auto& c : contexts_) c->stop();
}

}  // namespace mb::server
