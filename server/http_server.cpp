// The Beast HTTP translation unit: accept, read requests, route, upgrade to WebSocket.

#include "server/http_server.hpp"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"
#include "net/websocket_upgrade.hpp"
#include "server/api.hpp"
#include "server/dashboard.hpp"
#include "server/listener_hub.hpp"
#include "server/routes.hpp"

namespace mb::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

void log_unexpected(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{}: {}", what, ex.what());
  }
}

void count_refusal(const server_context& ctx, metrics::stream_refusal why) {
  if (ctx.bridge.metrics) ctx.bridge.metrics->streams_refused(why).inc();
}

net::awaitable<void> send_reply(beast::tcp_stream& stream, unsigned version, bool keep_alive, const http_reply& reply,
                                bool head_only) {
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

net::awaitable<void> http_session(tcp::socket socket, server_context& ctx) {
  error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) co_return;
  auto peer = endpoint.address();
  if (peer.is_v6() && peer.to_v6().is_v4_mapped()) peer = asio::ip::make_address_v4(asio::ip::v4_mapped, peer.to_v6());
  const std::string peer_address = peer.to_string();
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
      const http_reply too_large{413, "application/json", R"({"error":"request body too large"})", {}};
      co_await send_reply(stream, 11, false, too_large, false);
      break;
    }
    if (rec) break;  // end of stream, timeout, reset, malformed request: nothing useful to answer
    auto& req = parser.get();
    const auto path = std::string_view(req.target()).substr(0, req.target().find('?'));
    header_list headers;
    for (const auto& field : req) headers.emplace_back(field.name_string(), field.value());
    const http_request_view view{req.method_string(), req.target(), req.body(), headers, peer_address, log_lines};

    if (const auto api = parse_api_target(path)) {
      // Live events and call history (server/api.hpp). The path only is logged: queries may carry the token.
      spdlog::debug("http {} {} from {}", std::string_view(req.method_string()), path, peer_address);
      if (auto refusal = check_api_access(ctx, view)) {
        co_await send_reply(stream, req.version(), false, *refusal, false);
        break;
      }
      if (api->what == api_target::kind::events && ctx.listeners) {
        if (beast::websocket::is_upgrade(req)) {
          auto up = co_await net::accept_upgrade(std::move(stream), req, listener_socket_limits);
          if (up.socket) co_await ctx.listeners->serve_websocket(std::move(up.socket), api->call_sid);
          co_return;
        }
        if (req.method() == http::verb::get) {
          co_await ctx.listeners->serve_sse(stream.release_socket(), api->call_sid);
          co_return;
        }
      }
      const auto reply = co_await handle_api(ctx, view, *api);
      const bool keep_alive = req.keep_alive() && !beast::websocket::is_upgrade(req);
      co_await send_reply(stream, req.version(), keep_alive, reply, req.method() == http::verb::head);
      if (!keep_alive) break;
      continue;
    }

    if (beast::websocket::is_upgrade(req)) {
      if (path != "/media-stream" && path != softphone_stream_path) {
        const http_reply not_found{404, "application/json", R"({"error":"not found"})", {}};
        co_await send_reply(stream, req.version(), false, not_found, false);
        break;
      }
      if (auto refusal = check_stream_upgrade(ctx, view)) {
        count_refusal(ctx, metrics::stream_refusal::unauthorized);
        co_await send_reply(stream, req.version(), false, *refusal, false);
        break;
      }
      // Streams without an authorised start yet are bounded apart from calls: they hold no call slot.
      auto pending = ctx.registry.open_pending();
      if (!pending) {
        count_refusal(ctx, metrics::stream_refusal::too_many_pending);
        bridge::log_peer_line(log_lines, spdlog::level::warn,
                              "media stream upgrade from {} refused: {} streams are waiting for their start "
                              "(MAX_PENDING_STREAMS)",
                              peer_address, ctx.settings.max_pending_streams);
        const http_reply busy{503, "application/json", R"({"error":"too many streams waiting for their start"})", {}};
        co_await send_reply(stream, req.version(), false, busy, false);
        break;
      }
      auto up = co_await net::accept_upgrade(std::move(stream), req, ctx.bridge.twilio_limits);
      if (!up.socket) {
        bridge::log_peer_line(log_lines, spdlog::level::warn, "media stream upgrade from {} failed: {}", peer_address,
                              up.ec.message());
        co_return;
      }
      co_await bridge::run_call(std::move(up.socket), ctx.bridge, peer_address, std::move(*pending));
      co_return;
    }

    // The path only: query strings may carry tokens.
    spdlog::debug("http {} {} from {}", std::string_view(req.method_string()), path, peer_address);
    const auto reply = handle_request(ctx, view);
    const bool keep_alive = req.keep_alive();
    co_await send_reply(stream, req.version(), keep_alive, reply, req.method() == http::verb::head);
    if (!keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

struct http_server::impl {
  io_pool& pool;
  server_context& ctx;
  tcp::acceptor acceptor;

  impl(io_pool& p, server_context& c) : pool(p), ctx(c), acceptor(p.first()) {}

  net::awaitable<void> accept_loop() {
    for (;;) {
      const auto target = pool.acquire();
      auto [ec, socket] = co_await acceptor.async_accept(target.context, net::as_tuple_awaitable);
      if (ec || !acceptor.is_open()) pool.release(target.index);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, http_session(std::move(socket), ctx), [&pool = pool, index = target.index](std::exception_ptr e) {
        pool.release(index);
        log_unexpected(e, "http session");
      });
    }
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
  asio::co_spawn(a.get_executor(), impl_->accept_loop(), [](std::exception_ptr e) { log_unexpected(e, "accept loop"); });
  return a.local_endpoint().port();
}

void http_server::close() {
  asio::post(impl_->acceptor.get_executor(), [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
  });
}

}  // namespace mb::server
