// The Beast HTTP translation unit: accept, read requests, carry out what server/dispatch.hpp decides
// for each (reply, upgrade to WebSocket, stream events).

#include "server/http_server.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <optional>

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"
#include "limits/accept_backoff.hpp"
#include "limits/connection_budget.hpp"
#include "limits/interval_log.hpp"
#include "metrics/metrics.hpp"
#include "net/websocket_upgrade.hpp"
#include "server/api.hpp"
#include "server/descriptors.hpp"
#include "server/dispatch.hpp"
#include "server/listener_hub.hpp"
#include "server/sip_webhook.hpp"

namespace mb::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Reserve descriptors for health checks when connections have taken all they may (one more is kept
// to shed connections: server/descriptors.hpp).
constexpr std::size_t health_slots = 4;
// A health-only connection: health checkers send their request at once, and a silent peer must not
// hold a reserve slot for long.
constexpr auto health_only_request_timeout = std::chrono::seconds(1);
constexpr std::size_t health_only_header_bytes = 4 * 1024;
constexpr std::size_t health_only_body_bytes = 1024;

void log_unexpected(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{}: {}", what, ex.what());
  }
}

// A reply whose body is a file (http_reply::file_path): read and sent a piece at a time, each piece
// with its own deadline, so that a slow reader of a large file keeps going and a stalled one is cut
// off. False, sending nothing, when the file cannot be opened (deleted since the reply was made).
net::awaitable<bool> send_file(beast::tcp_stream& stream, unsigned version, bool keep_alive, const http_reply& reply,
                               bool head_only) {
  http::response<http::file_body> res{static_cast<http::status>(reply.status), version};
  error_code ec;
  res.body().open(reply.file_path.c_str(), beast::file_mode::scan, ec);
  if (ec) co_return false;
  res.set(http::field::server, "mediabridge");
  res.set(http::field::content_type, reply.content_type);
  for (const auto& [k, v] : reply.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  http::response_serializer<http::file_body> serializer{res};
  if (head_only) {
    stream.expires_after(std::chrono::seconds(15));
    co_await http::async_write_header(stream, serializer, net::as_tuple_awaitable);
    co_return true;
  }
  while (!serializer.is_done()) {
    stream.expires_after(std::chrono::seconds(15));
    auto [write_ec, n] = co_await http::async_write_some(stream, serializer, net::as_tuple_awaitable);
    if (write_ec) break;
  }
  co_return true;
}

net::awaitable<void> send_reply(beast::tcp_stream& stream, unsigned version, bool keep_alive, const http_reply& reply,
                                bool head_only) {
  if (!reply.file_path.empty()) {
    if (co_await send_file(stream, version, keep_alive, reply, head_only)) co_return;
    const auto gone = error_reply(404, "not found");  // deleted since the reply was made
    co_await send_reply(stream, version, keep_alive, gone, head_only);
    co_return;
  }
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  res.set(http::field::server, "mediabridge");
  res.set(http::field::content_type, reply.content_type);
  for (const auto& [k, v] : reply.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  res.body() = head_only ? std::string{} : reply.body;
  res.prepare_payload();
  if (head_only) res.content_length(reply.body.size());
  stream.expires_after(std::chrono::seconds(15));
  co_await http::async_write(stream, res, net::as_tuple_awaitable);
}

// Empty when the peer has gone already.
std::string peer_address_of(const tcp::socket& socket) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  auto peer = endpoint.address();
  if (peer.is_v6() && peer.to_v6().is_v4_mapped()) peer = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
  return peer.to_string();
}

header_list headers_of(const http::request<http::string_body>& req) {
  header_list headers;
  for (const auto& field : req) headers.emplace_back(field.name_string(), field.value());
  return headers;
}

net::awaitable<void> run_call_stream(beast::tcp_stream stream, const http::request<http::string_body>& req,
                                     server_context& ctx, const std::string& peer_address,
                                     bridge::call_registry::pending_slot pending, log::connection_lines& log_lines) {
  auto up = co_await net::accept_upgrade(std::move(stream), req, ctx.bridge.twilio_limits);
  if (!up.socket) {
    bridge::log_peer_line(log_lines, spdlog::level::warn, "media stream upgrade from {} failed: {}", peer_address,
                          up.ec.message());
    co_return;
  }
  co_await bridge::run_call(std::move(up.socket), ctx.bridge, peer_address, std::move(pending));
}

// The same, on the worker the stream was moved to: it owns what run_call_stream reads.
net::awaitable<void> run_moved_call_stream(tcp::socket socket, http::request<http::string_body> req,
                                           server_context& ctx, std::string peer_address,
                                           bridge::call_registry::pending_slot pending) {
  log::connection_lines log_lines(ctx.bridge.peer_lines);
  beast::tcp_stream stream(std::move(socket));  // named: g++ 12 destroys temporaries in co_await expressions too early
  co_await run_call_stream(std::move(stream), req, ctx, peer_address, std::move(pending), log_lines);
}

// A media stream's call, in a coroutine of its own on worker `index` (whose context `socket` belongs to),
// counted there as a connection until it ends. The HTTP session that read its request then ends: its
// frame (request parser, read buffer, headers) is not kept for the call's lifetime.
void spawn_call_stream(server_context& ctx, std::size_t index, tcp::socket socket, http::request<http::string_body> req,
                       const std::string& peer_address, bridge::call_registry::pending_slot pending) {
  ctx.workers->hold(index);
  asio::co_spawn(ctx.workers->context(index),
                 run_moved_call_stream(std::move(socket), std::move(req), ctx, peer_address, std::move(pending)),
                 [&workers = *ctx.workers, index](std::exception_ptr e) {
                   workers.release(index);
                   log_unexpected(e, "media stream");
                 });
}

// PREWARM: a stream URL names the worker thread whose context holds the call's pre-warmed upstream
// session (bridge/prewarm_pool.hpp). A call's sockets all live on one thread, so a stream that
// arrived on another context moves there before its WebSocket handshake, while its TCP socket has no
// operation pending and no protocol state but the request already read. True when it was moved (the
// worker then runs it); false when it stays here: the named worker is this one or does not exist, or
// the socket could not be handed over.
bool move_to_worker(server_context& ctx, beast::tcp_stream& stream, step::call_stream& call,
                    http::request_parser<http::string_body>& parser, const std::string& peer_address) {
  if (!ctx.workers || *call.worker >= ctx.workers->size()) return false;
  auto& home = ctx.workers->context(*call.worker);
  if (stream.get_executor() == asio::any_io_executor(home.get_executor())) return false;
  auto& socket = stream.socket();
  error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  if (ec) return false;
  const auto fd = socket.release(ec);
  if (ec) return false;
  tcp::socket moved(home);
  moved.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return true;  // gone: nothing is left to serve here either
  }
  spawn_call_stream(ctx, *call.worker, std::move(moved), parser.release(), peer_address, std::move(call.pending));
  return true;
}

// `worker`: the context of ctx.workers the session runs on, if it runs on one of theirs.
net::awaitable<void> http_session(tcp::socket socket, server_context& ctx, std::optional<std::size_t> worker) {
  const std::string peer_address = peer_address_of(socket);
  if (peer_address.empty()) co_return;
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  log::connection_lines log_lines(ctx.bridge.peer_lines);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(ctx.max_body_bytes);
    parser.header_limit(16 * 1024);
    stream.expires_after(std::chrono::milliseconds(ctx.request_timeout_ms));
    auto [rec, n] = co_await http::async_read(stream, buffer, parser, net::as_tuple_awaitable);
    if (rec == http::error::body_limit) {
      // Named, not a braced temporary: g++ 12 destroys those too early inside co_await expressions.
      const http_reply too_large{413, "application/json", R"({"error":"request body too large"})", {}, {}};
      co_await send_reply(stream, 11, false, too_large, false);
      break;
    }
    if (rec) break;  // end of stream, timeout, reset, malformed request: nothing useful to answer
    auto& req = parser.get();
    const bool upgrade = beast::websocket::is_upgrade(req);
    const auto headers = headers_of(req);
    const http_request_view view{req.method_string(), req.target(), req.body(), headers, peer_address, log_lines};
    auto next = dispatch(ctx, view,
                         routing::route_request({view.method, view.path(), upgrade}, ctx.listeners != nullptr));

    if (auto* listener = std::get_if<step::listener_websocket>(&next)) {
      auto up = co_await net::accept_upgrade(std::move(stream), req, listener_socket_limits);
      if (up.socket) co_await ctx.listeners->serve_websocket(std::move(up.socket), std::move(listener->call_sid));
      co_return;
    }
    if (auto* listener = std::get_if<step::listener_sse>(&next)) {
      co_await ctx.listeners->serve_sse(stream.release_socket(), std::move(listener->call_sid));
      co_return;
    }
    if (auto* call = std::get_if<step::call_stream>(&next)) {
      if (call->worker && move_to_worker(ctx, stream, *call, parser, peer_address)) co_return;
      if (worker) {
        spawn_call_stream(ctx, *worker, stream.release_socket(), parser.release(), peer_address,
                          std::move(call->pending));
        co_return;
      }
      // Without the workers' pool the call runs in this frame, which keeps the request.
      buffer.clear();
      buffer.shrink_to_fit();
      co_await run_call_stream(std::move(stream), req, ctx, peer_address, std::move(call->pending), log_lines);
      co_return;
    }
    http_reply reply;
    bool keep_alive = req.keep_alive() && !upgrade;
    if (auto* api = std::get_if<step::api>(&next)) {
      reply = co_await handle_api(ctx, view, api->target);
    } else if (std::holds_alternative<step::openai_webhook>(next)) {
      reply = handle_openai_webhook(ctx, view, stream.get_executor());
    } else {
      auto& answer = std::get<step::reply>(next);
      reply = std::move(answer.reply);
      keep_alive = keep_alive && !answer.then_close;
    }
    co_await send_reply(stream, req.version(), keep_alive, reply, req.method() == http::verb::head);
    if (!keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

// A connection taken past the socket budget, or with a reserve descriptor while the process is out of
// them: one request, a short deadline (health checkers send theirs at once), /healthz answered as
// usual, /readyz and everything else 503, then closed. `slot` outlives the socket, so its reserve
// descriptor is reopened only once the socket's is free again.
net::awaitable<void> health_only_session([[maybe_unused]] fd_reserve::slot slot, tcp::socket socket,
                                         server_context& ctx) {
  const std::string peer_address = peer_address_of(socket);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(health_only_body_bytes);
  parser.header_limit(health_only_header_bytes);
  stream.expires_after(health_only_request_timeout);
  auto [rec, n] = co_await http::async_read(stream, buffer, parser, net::as_tuple_awaitable);
  if (rec || peer_address.empty()) co_return;
  const auto& req = parser.get();
  const auto headers = headers_of(req);
  log::connection_lines log_lines(ctx.bridge.peer_lines);
  const http_request_view view{req.method_string(), req.target(), req.body(), headers, peer_address, log_lines};
  http_reply reply;
  if (view.path() == "/healthz") {
    reply = handle_request(ctx, view);
  } else if (view.path() == "/readyz") {
    reply = json_reply(503, {{"ready", false}, {"overloaded", true}});
  } else {
    reply = error_reply(503, "the server is out of connections; retry later");
    reply.headers.emplace_back("Retry-After", "5");
  }
  co_await send_reply(stream, req.version(), false, reply, req.method() == http::verb::head);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

struct http_server::impl {
  using steady = std::chrono::steady_clock;

  io_pool& pool;
  server_context& ctx;
  fd_reserve reserve{health_slots};  // before the acceptor: open when listen() counts descriptors
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  limits::accept_backoff backoff;
  limits::interval_log over_budget_log{limits::accept_backoff_options{}.log_interval};
  std::uint64_t fd_limit = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t socket_budget = std::numeric_limits<std::uint64_t>::max();
  // Exported by register_metrics(); written by the accept loop only.
  std::array<std::atomic<std::uint64_t>, limits::accept_failure_count> accept_errors{};
  std::atomic<std::uint64_t> health_only{0};
  std::atomic<std::uint64_t> shed{0};

  impl(io_pool& p, server_context& c) : pool(p), ctx(c), acceptor(p.first()), retry_timer(p.first()) {}

  // The session's context as one of ctx.workers, when the server's pool is theirs.
  [[nodiscard]] std::optional<std::size_t> on_workers(std::size_t index) const noexcept {
    if (ctx.workers != &pool) return std::nullopt;
    return index;
  }

  // A connection for health_only_session().
  struct limited_connection {
    fd_reserve::slot slot;
    tcp::socket socket;
  };

  // The sessions are spawned here, in the coroutine: spawned from a plain function that g++ 12 inlines
  // at -O3, the frame's allocation and release trip -Werror=mismatched-new-delete.
  net::awaitable<void> accept_loop() {
    for (;;) {
      const auto target = pool.acquire();
      auto [ec, socket] = co_await acceptor.async_accept(target.context, net::as_tuple_awaitable);
      if (ec || !acceptor.is_open()) pool.release(target.index);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      std::optional<limited_connection> limited;
      if (ec) {
        auto outcome = after_failed_accept(ec);
        if (!outcome.progress) {
          retry_timer.expires_after(backoff.next_wait());
          co_await retry_timer.async_wait(net::as_tuple_awaitable);
          continue;
        }
        if (!outcome.health_only) continue;  // shed
        limited = std::move(outcome.health_only);
      } else {
        if (auto line = backoff.record_success(steady::now())) spdlog::info("{}", *line);
        reserve.refill();
        const auto in_use = pool.connections() + ctx.registry.active();
        const auto decision = limits::admit(in_use, socket_budget, reserve.free_health_slots());
        if (decision == limits::admission::serve) {
          auto ex = socket.get_executor();
          asio::co_spawn(ex, http_session(std::move(socket), ctx, on_workers(target.index)), [&pool = pool, lease = target.index](std::exception_ptr e) {
            pool.release(lease);
            log_unexpected(e, "http session");
          });
          continue;
        }
        pool.release(target.index);
        limited = over_budget(decision, in_use, tcp::socket(std::move(socket)));
        if (!limited) continue;
      }
      health_only.fetch_add(1, std::memory_order_relaxed);
      auto ex = limited->socket.get_executor();
      asio::co_spawn(ex, health_only_session(std::move(limited->slot), std::move(limited->socket), ctx),
                     [](std::exception_ptr e) { log_unexpected(e, "health-only session"); });
    }
  }

  struct failure_outcome {
    bool progress = false;  // a queued connection was taken: accept again at once
    std::optional<limited_connection> health_only;
  };

  // Counts and logs the failure. Out of descriptors, the queued connection is taken with a reserve
  // descriptor: in a health slot when one is free, else closed at once. Without progress the loop
  // waits before the next accept, since accepting at once would fail the same way.
  failure_outcome after_failed_accept(const error_code& ec) {
    const auto kind = ec.category() == boost::system::system_category() ? limits::classify_accept_error(ec.value())
                                                                         : limits::accept_failure::other;
    accept_errors[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
    if (auto line = backoff.record_failure(kind, ec.message(), steady::now())) spdlog::warn("{}", *line);
    if (kind != limits::accept_failure::fd_exhausted) return {};
    auto slot = reserve.take(fd_reserve::use::health_check);
    if (!slot) slot = reserve.take(fd_reserve::use::shed);
    if (!slot) return {};
    error_code aec;
    auto socket = acceptor.accept(aec);  // non-blocking: would_block if the queued connection has gone
    if (aec) return {};                  // or another thread took the freed descriptor first
    if (slot->used_for() == fd_reserve::use::shed) {
      shed.fetch_add(1, std::memory_order_relaxed);
      return {true, std::nullopt};  // the socket closes, then the slot reopens its descriptor
    }
    return {true, limited_connection{std::move(*slot), std::move(socket)}};
  }

  // Logs (at most once per interval); nothing when the connection is shed (closed at once).
  std::optional<limited_connection> over_budget(limits::admission decision, std::uint64_t in_use, tcp::socket socket) {
    if (const auto report = over_budget_log.note(steady::now()))
      spdlog::warn("{} over the socket budget ({} sockets in use, budget {}, open file limit {}): health checks only, "
                   "503 for the rest, until connections close; at most one line per {} s",
                   report->occurrences == 1 ? std::string("a connection")
                                            : fmt::format("{} connections in {} ms", report->occurrences,
                                                          report->span.count()),
                   in_use, socket_budget, fd_limit, over_budget_log.interval().count() / 1000);
    auto slot = decision == limits::admission::health_only ? reserve.take(fd_reserve::use::health_check)
                                                             : std::nullopt;
    if (!slot) {
      shed.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return limited_connection{std::move(*slot), std::move(socket)};
  }
};

http_server::http_server(io_pool& pool, server_context& ctx) : impl_(std::make_unique<impl>(pool, ctx)) {}
http_server::~http_server() = default;

std::uint16_t http_server::listen(const std::string& host, std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address(host), port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.bind(endpoint);
  a.listen(asio::socket_base::max_listen_connections);
  a.non_blocking(true);  // accept_with_reserve() must not wait for a connection that has gone
  impl_->fd_limit = descriptor_limit();
  const auto open_now = open_descriptor_count();
  impl_->socket_budget = limits::socket_budget(impl_->fd_limit, open_now);
  spdlog::info("socket budget {} (open file limit {}, {} descriptors open, {} of them held in reserve)",
               impl_->socket_budget, impl_->fd_limit, open_now, health_slots + 1);
  asio::co_spawn(a.get_executor(), impl_->accept_loop(), [](std::exception_ptr e) { log_unexpected(e, "accept loop"); });
  return a.local_endpoint().port();
}

void http_server::close() {
  asio::post(impl_->acceptor.get_executor(), [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->retry_timer.cancel();
  });
}

void http_server::register_metrics(metrics::registry& r) const {
  constexpr std::string_view errors_help = "Failed accepts on the listening socket, by cause.";
  for (std::size_t k = 0; k < limits::accept_failure_count; ++k) {
    const auto kind = static_cast<limits::accept_failure>(k);
    r.add_counter_fn("mediabridge_accept_errors_total", errors_help,
                     [c = &impl_->accept_errors[k]] { return static_cast<double>(c->load(std::memory_order_relaxed)); },
                     {{"reason", std::string(limits::label(kind))}});
  }
  constexpr std::string_view limited_help =
      "Connections taken past the socket budget or with a reserve descriptor: health checks only (health_only), "
      "or closed at once with every reserve slot busy (shed).";
  r.add_counter_fn("mediabridge_connections_limited_total", limited_help,
                   [c = &impl_->health_only] { return static_cast<double>(c->load(std::memory_order_relaxed)); },
                   {{"outcome", "health_only"}});
  r.add_counter_fn("mediabridge_connections_limited_total", limited_help,
                   [c = &impl_->shed] { return static_cast<double>(c->load(std::memory_order_relaxed)); },
                   {{"outcome", "shed"}});
  r.add_gauge_fn("mediabridge_socket_budget",
                 "Sockets (connections plus upstream sockets) taken before connections get health checks only.",
                 [b = &impl_->socket_budget] { return static_cast<double>(*b); });
}

}  // namespace mb::server
