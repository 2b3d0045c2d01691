#include "server/io_pool.hpp"

namespace mb::server {

io_pool::io_pool(std::size_t threads) {
  if (threads == 0) threads = 1;
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

asio::io_context& io_pool::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void io_pool::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i] { contexts_[i]->run(); });
  contexts_.front()->run();
  for (auto& t : threads) t.join();
}

void io_pool::stop() {
  for (auto& c : contexts_) c->stop();
}

}  // namespace mb::server
