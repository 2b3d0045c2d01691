#include "tools/realtime_sim/realtime_simulator.hpp"

#include <stdexcept>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "tools/realtime_sim/sim_session.hpp"
#include "tools/realtime_sim/sim_state.hpp"

namespace mb::tools::sim {
namespace {

using tcp = asio::ip::tcp;
using state_ptr = std::shared_ptr<realtime_simulator::state>;

net::awaitable<void> accept_loop(state_ptr state, std::shared_ptr<tcp::acceptor> acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(state->ioc), net::as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning on the error.
      asio::steady_timer backoff(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await backoff.async_wait(net::as_tuple_awaitable);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto strand = socket.get_executor();
    auto session = std::make_shared<sim_session>(state, strand, state->next_number.fetch_add(1));
    asio::co_spawn(std::move(strand), session->run(std::move(socket)), [session](const std::exception_ptr& e) {
      if (e) spdlog::error("realtime-sim: session ended by an exception");
    });
  }
}

// Sessions alive now, taken under the lock and used outside it.
std::vector<std::shared_ptr<sim_session>> live_sessions(realtime_simulator::state& state) {
  std::vector<std::shared_ptr<sim_session>> result;
  std::lock_guard lock(state.mutex);
  result.reserve(state.live.size());
  for (const auto& [number, weak] : state.live)
    if (auto s = weak.lock()) result.push_back(std::move(s));
  return result;
}

void validate(const simulator_options& o) {
  if (!(o.speed > 0.0)) throw std::invalid_argument("realtime simulator: speed must be > 0");
  if (o.chunk_bytes == 0) throw std::invalid_argument("realtime simulator: chunk_bytes must be > 0");
  if (o.response_ms == 0) throw std::invalid_argument("realtime simulator: response_ms must be > 0");
  if (o.audio_items_per_response == 0)
    throw std::invalid_argument("realtime simulator: audio_items_per_response must be > 0");
  if (o.writer_queue < 16) throw std::invalid_argument("realtime simulator: writer_queue must be >= 16");
}

}  // namespace

realtime_simulator::realtime_simulator(asio::io_context& ioc, simulator_options options) {
  validate(options);
  state_ = std::make_shared<state>(ioc, std::move(options));
}

realtime_simulator::~realtime_simulator() { stop(); }

std::uint16_t realtime_simulator::listen(const std::string& host, std::uint16_t port) {
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  if (!address.is_loopback())
    throw std::invalid_argument("realtime simulator: listens on loopback only, not " + host);
  auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(state_->ioc));
  const tcp::endpoint endpoint(address, port);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  const std::uint16_t bound = acceptor->local_endpoint().port();
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping) throw std::logic_error("realtime simulator: listen() after stop()");
    state_->acceptors.push_back(acceptor);
  }
  auto executor = acceptor->get_executor();
  asio::co_spawn(std::move(executor), accept_loop(state_, std::move(acceptor)), asio::detached);
  return bound;
}

void realtime_simulator::stop() {
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    acceptors.swap(state_->acceptors);
  }
  for (auto& acceptor : acceptors) {
    auto executor = acceptor->get_executor();
    asio::post(std::move(executor), [acceptor = std::move(acceptor)] {
      error_code ignored;
      acceptor->close(ignored);
    });
  }
  for (auto& session : live_sessions(*state_)) session->close({1001, "simulator stopping"});
}

void realtime_simulator::drop_all() {
  for (auto& session : live_sessions(*state_)) session->drop();
}

void realtime_simulator::close_all(std::uint16_t code, std::string reason) {
  for (auto& session : live_sessions(*state_)) session->close({code, reason});
}

void realtime_simulator::send_to_all(std::string raw_text) {
  for (auto& session : live_sessions(*state_)) session->inject(raw_text);
}

std::vector<session_snapshot> realtime_simulator::sessions() const {
  std::lock_guard lock(state_->mutex);
  return state_->records;
}

bool realtime_simulator::wait_until(const std::function<bool(const std::vector<session_snapshot>&)>& pred,
                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return pred(state_->records); });
}

simulator_stats realtime_simulator::stats() const {
  const auto& s = *state_;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {s.next_number.load(relaxed) - 1,         s.sessions_active.load(relaxed),
          s.messages_received.load(relaxed),       s.messages_sent.load(relaxed),
          s.audio_deltas_sent.load(relaxed),       s.audio_bytes_received.load(relaxed),
          s.overflows.load(relaxed)};
}

const simulator_options& realtime_simulator::options() const noexcept { return state_->options; }

}  // namespace mb::tools::sim
