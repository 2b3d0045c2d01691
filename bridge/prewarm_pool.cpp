#include "bridge/prewarm_pool.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "protocol/stream_token.hpp"

namespace mb::bridge {

using steady = std::chrono::steady_clock;

prewarm_pool::prewarm_pool(options o, std::shared_ptr<net::tls_client_context> tls)
    : options_(o), tls_(std::move(tls)) {}

prewarm_pool::~prewarm_pool() = default;

bool prewarm_pool::open(asio::any_io_executor ex, std::string call_sid, std::string claim_key,
                        net::connect_request request) {
  auto session = std::make_shared<prewarmed_session>(ex, call_sid, std::move(claim_key));
  {
    std::lock_guard lock(mutex_);
    const bool full = options_.max_sessions != 0 && sessions_.size() >= options_.max_sessions;
    if (closed_ || full || sessions_.contains(call_sid)) {
      ++refused_;
      return false;
    }
    sessions_.emplace(call_sid, session);
  }
  ++opened_;
  spdlog::debug("call {}: pre-warming its upstream session", call_sid);
  // The TTL counts from the webhook's answer, whatever the connect takes.
  session->ttl_.expires_after(options_.ttl);
  session->ttl_.async_wait([this, session](const error_code& ec) {
    if (!ec) expire(session);
  });
  asio::co_spawn(ex, prewarmed_session::connect(session, std::move(request), tls_), asio::detached);
  return true;
}

std::shared_ptr<prewarmed_session> prewarm_pool::claim(std::string_view call_sid, const asio::any_io_executor& ex,
                                                        std::string_view claim_key) {
  std::shared_ptr<prewarmed_session> session;
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(std::string(call_sid));
    if (it == sessions_.end()) return nullptr;
    session = std::move(it->second);
    sessions_.erase(it);
  }
  if (session->executor() == ex && session->claim_key() == claim_key) {
    session->ttl_.cancel();  // same executor: no other thread touches the timer
    ++claimed_;
    spdlog::debug("call {}: stream claimed its pre-warmed upstream session", session->call_sid());
    return session;
  }
  ++unused_;
  spdlog::info("call {}: pre-warmed upstream session not used: {}; connecting anew", session->call_sid(),
               session->claim_key() != claim_key ? "the stream's start selects another agent or variables"
                                                 : "the stream runs on another thread");
  asio::post(session->executor(), [session] {
    session->ttl_.cancel();
    session->discard();
  });
  return nullptr;
}

void prewarm_pool::expire(const std::shared_ptr<prewarmed_session>& session) {
  {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(session->call_sid());
    if (it == sessions_.end() || it->second != session) return;  // claimed meanwhile
    sessions_.erase(it);
  }
  ++expired_;
  spdlog::info("call {}: pre-warmed upstream session closed: no stream claimed it within PREWARM_TTL_MS={}",
               session->call_sid(), options_.ttl.count());
  session->discard();
}

prewarm_stats prewarm_pool::stats() const {
  return {opened_.load(), refused_.load(), claimed_.load(), unused_.load(), expired_.load(), drained_.load()};
}

void prewarm_pool::close_all() {
  std::unordered_map<std::string, std::shared_ptr<prewarmed_session>> sessions;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    sessions.swap(sessions_);
  }
  drained_ += sessions.size();
  if (!sessions.empty()) spdlog::info("closing {} pre-warmed upstream session(s)", sessions.size());
  for (auto& [sid, session] : sessions)
    asio::post(session->executor(), [session] {
      session->ttl_.cancel();
      session->discard();
    });
}

std::size_t prewarm_pool::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::string prewarm_pool::claim_key_of(std::vector<std::pair<std::string, std::string>> parameters) {
  std::erase_if(parameters, [](const auto& p) { return p.first == protocol::stream_token_parameter; });
  std::sort(parameters.begin(), parameters.end());
  std::string key;
  // Length-prefixed: no separator inside a name or value can make two lists look alike.
  for (const auto& [name, value] : parameters)
    key += std::to_string(name.size()) + ':' + name + std::to_string(value.size()) + ':' + value;
  return key;
}

prewarmed_session::prewarmed_session(asio::any_io_executor ex, std::string call_sid, std::string claim_key)
    : ex_(std::move(ex)),
      call_sid_(std::move(call_sid)),
      claim_key_(std::move(claim_key)),
      connected_(ex_, steady::time_point::max()),
      ttl_(ex_) {}

// Static, owning the session: the connect outlives every other holder when nobody claims it.
net::awaitable<void> prewarmed_session::connect(std::shared_ptr<prewarmed_session> self, net::connect_request request,
                                                std::shared_ptr<net::tls_client_context> tls) {
  self->result_ = co_await net::connect_websocket(request, std::move(tls));
  self->done_ = true;
  if (!self->result_.socket) spdlog::debug("call {}: pre-warming failed: {}", self->call_sid_, self->result_.failure);
  self->connected_.cancel();
  if (self->discarded_) self->close_socket();
}

net::awaitable<net::connect_result> prewarmed_session::take() {
  auto self = shared_from_this();
  if (!done_) co_await connected_.async_wait(net::as_tuple_awaitable);
  if (!done_) {  // the call ended while the connect went on
    discard();
    co_return net::connect_result{nullptr, asio::error::operation_aborted, "call ended", 0, {}};
  }
  co_return std::move(result_);
}

void prewarmed_session::discard() {
  if (discarded_) return;
  discarded_ = true;
  if (done_) close_socket();
}

// The close handshake waits for the peer's close frame (bounded by the handshake timeout): the
// coroutine owns the socket until then.
net::awaitable<void> prewarmed_session::close_unused(std::unique_ptr<net::message_socket> socket) {
  // Named, not a braced temporary: g++ 12 destroys those too early inside co_await expressions.
  net::close_reason reason{1000, "pre-warmed session not used"};
  co_await socket->close(std::move(reason));
}

void prewarmed_session::close_socket() {
  if (result_.socket) asio::co_spawn(ex_, close_unused(std::move(result_.socket)), asio::detached);
}

}  // namespace mb::bridge
