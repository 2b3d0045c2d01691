#include "tools/replay/replay_provider.hpp"

#include <functional>
#include <optional>
#include <stdexcept>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/websocket.hpp"
#include "net/ws_writer.hpp"

namespace mb::tools::replay {
namespace {

using tcp = asio::ip::tcp;

// Provider messages can be large (a session.update with instructions and tools); the queue only
// holds what a burst of the script sends before the bridge reads it.
constexpr net::socket_limits provider_limits{.max_message_bytes = 16u << 20, .handshake_timeout_ms = 10000,
                                             .idle_timeout_ms = 60000};
constexpr std::size_t send_queue = 4096;

}  // namespace

struct provider_connection {
  provider_connection(asio::any_io_executor executor, std::uint64_t n, std::unique_ptr<net::message_socket> s)
      : number(n), socket(std::move(s)), writer(*socket, send_queue), wake(std::move(executor)) {}

  std::uint64_t number;
  std::unique_ptr<net::message_socket> socket;
  net::ws_writer writer;
  asio::steady_timer wake;  // the sender's: cancelled when a trigger arrives or the connection ends
  std::optional<record::provider_playback> playback;  // none: the recording has no such connection
  bool ended = false;
  bool closed_by_replay = false;
  std::uint64_t send_drops = 0;
};

struct replay_provider::state {
  state(asio::io_context& c, const record::replay_script& s, observed_log& l) : ioc(c), script(s), log(l) {}

  [[nodiscard]] double ms(clock::time_point t) const { return std::chrono::duration<double, std::milli>(t - origin).count(); }
  [[nodiscard]] clock::time_point at(double ms_since_origin) const {
    return origin + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double, std::milli>(ms_since_origin));
  }

  asio::io_context& ioc;
  const record::replay_script& script;
  observed_log& log;
  const clock::time_point origin = clock::now();
  std::shared_ptr<tcp::acceptor> acceptor;
  std::vector<std::shared_ptr<provider_connection>> connections;
  std::function<void()> closed_callback;
  bool stopping = false;
};

namespace {

using state_ptr = std::shared_ptr<replay_provider::state>;

net::awaitable<void> read_bridge(state_ptr st, std::shared_ptr<provider_connection> c) {
  std::string message;
  net::read_result result{};
  for (;;) {
    result = co_await c->socket->read(message, 0);
    if (result.status != net::read_status::message && result.status != net::read_status::binary_message) break;
    const auto now = clock::now();
    st->log.message(record::direction::upstream_out, message, now);
    if (c->playback) {
      c->playback->received(record::message_type(message), st->ms(now));
      c->wake.cancel();
    }
  }
  c->ended = true;
  std::string detail;
  if (c->closed_by_replay)
    detail = "closed by the replay, as recorded";
  else if (result.status == net::read_status::closed)
    detail = "closed by the bridge (code " + std::to_string(c->socket->peer_close_reason().code) + ")";
  else
    detail = "lost: " + result.ec.message();
  st->log.connection(record::direction::upstream_closed, c->number, std::move(detail), clock::now());
  if (result.status == net::read_status::closed)
    c->writer.close({1000, "closed"});
  else
    c->writer.abort_now();
  c->wake.cancel();
  if (st->closed_callback) st->closed_callback();
}

// Carries out one step; false when it ended the connection.
bool perform(const state_ptr& st, provider_connection& c, const record::provider_step& step) {
  if (step.what == record::provider_step::action::close) {
    c.closed_by_replay = true;
    if (step.close_code != 0)
      c.writer.close({step.close_code, step.close_reason});
    else
      c.socket->abort();  // a dropped connection, as the recording's
    return false;
  }
  if (c.writer.push(step.message))
    st->log.message(record::direction::upstream_in, step.message, clock::now());
  else
    ++c.send_drops;
  return true;
}

net::awaitable<void> play_script(state_ptr st, std::shared_ptr<provider_connection> c) {
  while (!c->ended && c->playback) {
    while (const auto* step = c->playback->take_due(st->ms(clock::now())))
      if (!perform(st, *c, *step)) co_return;
    const auto due = c->playback->next_due();
    c->wake.expires_at(due ? st->at(*due) : clock::time_point::max());
    co_await c->wake.async_wait(net::as_tuple_awaitable);
  }
}

net::awaitable<void> serve(state_ptr st, tcp::socket socket) {
  auto accepted = co_await net::accept_websocket(std::move(socket), provider_limits);
  if (!accepted.socket || st->stopping) co_return;
  const auto number = st->connections.size() + 1;
  auto c = std::make_shared<provider_connection>(accepted.socket->get_executor(), number, std::move(accepted.socket));
  st->connections.push_back(c);
  const auto now = clock::now();
  st->log.connection(record::direction::upstream_open, number, {}, now);
  if (number <= st->script.connections.size()) {
    c->playback.emplace(st->script.connections[number - 1]);
    c->playback->opened(st->ms(now));
  }
  using namespace asio::experimental::awaitable_operators;
  co_await (read_bridge(st, c) && play_script(st, c) && c->writer.run());
}

net::awaitable<void> accept_loop(state_ptr st) {
  for (;;) {
    auto [ec, socket] = co_await st->acceptor->async_accept(net::as_tuple_awaitable);
    if (st->stopping || !st->acceptor->is_open()) co_return;
    if (ec) continue;
    asio::co_spawn(st->ioc, serve(st, std::move(socket)), asio::detached);
  }
}

}  // namespace

replay_provider::replay_provider(asio::io_context& ioc, const record::replay_script& script, observed_log& log)
    : state_(std::make_shared<state>(ioc, script, log)) {}

replay_provider::~replay_provider() { stop(); }

std::uint16_t replay_provider::listen(const std::string& host, std::uint16_t port) {
  auto acceptor = std::make_shared<tcp::acceptor>(state_->ioc);
  const tcp::endpoint endpoint(asio::ip::make_address(host), port);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  state_->acceptor = acceptor;
  asio::co_spawn(state_->ioc, accept_loop(state_), asio::detached);
  return acceptor->local_endpoint().port();
}

void replay_provider::stop() {
  if (state_->stopping) return;
  state_->stopping = true;
  if (state_->acceptor) {
    net::error_code ignored;
    state_->acceptor->close(ignored);
  }
  for (auto& c : state_->connections) {
    if (c->ended) continue;
    c->socket->abort();
    c->writer.abort_now();
    c->wake.cancel();
  }
}

std::uint64_t replay_provider::connections_accepted() const noexcept { return state_->connections.size(); }

bool replay_provider::all_closed() const noexcept {
  for (const auto& c : state_->connections)
    if (!c->ended) return false;
  return true;
}

void replay_provider::on_closed(std::function<void()> callback) { state_->closed_callback = std::move(callback); }

std::vector<std::string> replay_provider::unfinished() const {
  std::vector<std::string> lines;
  const auto recorded = state_->script.connections.size();
  for (const auto& c : state_->connections) {
    const auto name = "provider connection " + std::to_string(c->number);
    if (!c->playback) {
      lines.push_back(name + ": the recording has " + std::to_string(recorded) + " connection(s); nothing replayed on it");
      continue;
    }
    if (!c->playback->finished())
      lines.push_back(name + ": " + std::to_string(c->playback->steps_left()) +
                      " recorded step(s) not replayed, the next waiting for " + c->playback->waiting_for());
    if (c->send_drops > 0)
      lines.push_back(name + ": " + std::to_string(c->send_drops) + " message(s) dropped, the bridge did not read them");
  }
  for (auto n = state_->connections.size() + 1; n <= recorded; ++n)
    lines.push_back("provider connection " + std::to_string(n) + " of the recording: never opened by the bridge");
  return lines;
}

}  // namespace mb::tools::replay
