#pragma once
// PREWARM (docs/latency.md, "Pre-warm"): a call's upstream session opened when its voice webhook is
// answered, and handed to its media stream once the stream's start is authorised and admitted.
//
// Bounds: at most one session per CallSid and at most `max_sessions` at a time (the webhook opens one
// only for a call it reserved an admission slot for, so MAX_CONCURRENT_CALLS bounds them); a session no stream claims within `ttl` is
// closed. Only the call's own stream claims it (bridge/call_session.cpp: after its stream token was
// redeemed for that CallSid), and only when its start asks for the same thing the webhook prepared
// (claim_key_of: the stream's parameters, which decide the agent profile and its rendered session).
//
// Threads: a session is opened on the io_context that will serve its stream (the webhook names that
// context in the stream URL and the HTTP server moves the stream's connection there before its
// WebSocket handshake, server/http_server.cpp), so a call's sockets all live on one thread. A stream
// that arrives on another executor anyway does not take the session: it is closed there and the call
// dials as usual.
//
// @par Thread safety
// open(), claim(), close_all(), size() and stats() are thread-safe. A prewarmed_session is used on its executor only.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "net/websocket.hpp"

namespace mb::bridge {

class prewarmed_session;

// What became of the sessions opened so far (/metrics: mediabridge_prewarm_sessions_total).
struct prewarm_stats {
  std::uint64_t opened = 0;
  std::uint64_t refused = 0;   // a replayed webhook, the pool full, or draining: nothing opened
  std::uint64_t claimed = 0;   // taken over by the call's stream
  std::uint64_t unused = 0;    // the stream asked for another profile or variables, or ran on another thread
  std::uint64_t expired = 0;   // no stream within PREWARM_TTL_MS
  std::uint64_t drained = 0;   // closed unclaimed by a drain
};

class prewarm_pool {
 public:
  struct options {
    std::chrono::milliseconds ttl{5000};  // PREWARM_TTL_MS
    std::size_t max_sessions = 0;         // MAX_CONCURRENT_CALLS; 0: no bound but the webhook's reservations
  };
  prewarm_pool(options o, std::shared_ptr<net::tls_client_context> tls);
  ~prewarm_pool();
  prewarm_pool(const prewarm_pool&) = delete;
  prewarm_pool& operator=(const prewarm_pool&) = delete;

  // Opens `call_sid`'s session on `ex` with `request`. False, opening nothing, when the call has one
  // already (a replayed webhook), when max_sessions are open, or after close_all().
  bool open(asio::any_io_executor ex, std::string call_sid, std::string claim_key, net::connect_request request);

  // Removes the call's session. Returns it when it lives on `ex` and was prepared for `claim_key`;
  // otherwise closes it and returns null. Null as well when there is none.
  std::shared_ptr<prewarmed_session> claim(std::string_view call_sid, const asio::any_io_executor& ex,
                                           std::string_view claim_key);

  // Drain: closes every unclaimed session; open() refuses from now on.
  void close_all();

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] prewarm_stats stats() const;

  // The stream parameters that decide a call's agent profile and its rendered session config: all of
  // them but the stream token (which differs per issue), order-independent.
  [[nodiscard]] static std::string claim_key_of(std::vector<std::pair<std::string, std::string>> parameters);

 private:
  // Removes `session` if it is still the one registered for its call (its TTL ran out).
  void expire(const std::shared_ptr<prewarmed_session>& session);

  options options_;
  std::shared_ptr<net::tls_client_context> tls_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<prewarmed_session>> sessions_;  // unclaimed, by CallSid
  bool closed_ = false;
  std::atomic<std::uint64_t> opened_{0}, refused_{0}, claimed_{0}, unused_{0}, expired_{0}, drained_{0};
};

// One pre-warmed upstream socket, connecting or connected.
class prewarmed_session : public std::enable_shared_from_this<prewarmed_session> {
 public:
  prewarmed_session(asio::any_io_executor ex, std::string call_sid, std::string claim_key);

  // On the session's executor: waits for its connect to finish and hands over the socket (or the
  // failure). Cancelled (the call ended first), the socket is closed when it opens.
  net::awaitable<net::connect_result> take();

  // On the executor: nobody will take the socket; it is closed (now, or when its connect finishes).
  void discard();

  [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return ex_; }
  [[nodiscard]] const std::string& call_sid() const noexcept { return call_sid_; }
  [[nodiscard]] const std::string& claim_key() const noexcept { return claim_key_; }

 private:
  friend class prewarm_pool;
  // On the executor: connects, and closes the socket at once when nobody wants it any more.
  static net::awaitable<void> connect(std::shared_ptr<prewarmed_session> self, net::connect_request request,
                                      std::shared_ptr<net::tls_client_context> tls);
  static net::awaitable<void> close_unused(std::unique_ptr<net::message_socket> socket);
  void close_socket();

  asio::any_io_executor ex_;
  std::string call_sid_;
  std::string claim_key_;
  asio::steady_timer connected_;  // cancelled when the connect finished
  asio::steady_timer ttl_;
  net::connect_result result_;
  bool done_ = false;       // the connect finished
  bool discarded_ = false;  // nobody will take it
};

}  // namespace mb::bridge
