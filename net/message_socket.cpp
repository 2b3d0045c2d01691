// The Beast translation unit behind message_socket: server upgrades, plain server accepts and
// ws:// / wss:// clients. Everything else in the project talks to message_socket only.

#include <chrono>
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>

#include "net/tls_context_impl.hpp"
#include "net/websocket.hpp"
#include "net/websocket_upgrade.hpp"

namespace mb::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

read_status classify(const error_code& ec) {
  // Only a close frame (or our own close ending the read) is a clean end; EOF without one is a drop.
  if (ec == websocket::error::closed || ec == asio::error::operation_aborted) return read_status::closed;
  if (ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow)
    return read_status::too_big;
  if (ec == beast::error::timeout) return read_status::timeout;
  return read_status::error;
}

template <class Stream>
void configure(websocket::stream<Stream>& ws, const socket_limits& limits) {
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::milliseconds(limits.handshake_timeout_ms);
  t.idle_timeout = limits.idle_timeout_ms > 0 ? std::chrono::milliseconds(limits.idle_timeout_ms)
                                               : websocket::stream_base::none();
  t.keep_alive_pings = limits.idle_timeout_ms > 0;
  ws.set_option(t);
  ws.read_message_max(limits.max_message_bytes);
  ws.auto_fragment(false);
  ws.text(true);
}

// The TCP socket under a stream: plain WebSockets run on the socket itself, TLS ones on a
// tcp_stream (which times the TLS handshake).
inline tcp::socket& tcp_socket_of(tcp::socket& socket) { return socket; }
inline tcp::socket& tcp_socket_of(beast::tcp_stream& stream) { return stream.socket(); }
template <class Stream>
tcp::socket& tcp_socket_of(websocket::stream<Stream>& ws) {
  return tcp_socket_of(beast::get_lowest_layer(ws));
}

template <class Stream>
class beast_message_socket final : public message_socket {
 public:
  explicit beast_message_socket(websocket::stream<Stream> ws) : ws_(std::move(ws)) {}

  // Straight into `out`: no read buffer of the socket's own, which kept the size of the longest
  // message for the socket's lifetime next to `out`, and no copy per message.
  awaitable<read_result> read(std::string& out, std::size_t padding) override {
    out.clear();
    auto buffer = asio::dynamic_buffer(out);
    auto [ec, n] = co_await ws_.async_read(buffer, as_tuple_awaitable);
    // A read that received the peer's close frame answers it and tears down, which can fail behind a
    // TLS terminator (see peer_closed): the close handshake still succeeded.
    if (ec) co_return read_result{peer_closed() ? read_status::closed : classify(ec), ec};
    if (out.capacity() < out.size() + padding) out.reserve(out.size() + padding);
    co_return read_result{ws_.got_text() ? read_status::message : read_status::binary_message, {}};
  }

  void async_write(std::string_view text, write_done done) override {
    ws_.async_write(asio::buffer(text.data(), text.size()),
                    [done = std::move(done)](const error_code& ec, std::size_t) { done(ec); });
  }

  awaitable<error_code> write_binary(std::string_view bytes) override {
    ws_.binary(true);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(bytes.data(), bytes.size()), as_tuple_awaitable);
    ws_.text(true);
    co_return ec;
  }

  awaitable<error_code> close(close_reason reason) override {
    if (!ws_.is_open()) co_return error_code{};
    auto [ec] = co_await ws_.async_close(websocket::close_reason(static_cast<websocket::close_code>(reason.code), reason.reason), as_tuple_awaitable);
    if (ec && peer_closed()) ec = {};
    co_return ec;
  }

  void abort() noexcept override {
    error_code ignored;
    tcp_socket_of(ws_).close(ignored);
  }

  [[nodiscard]] close_reason peer_close_reason() const override {
    const auto& r = ws_.reason();
    return close_reason{static_cast<std::uint16_t>(r.code), std::string(r.reason.data(), r.reason.size())};
  }

  [[nodiscard]] asio::any_io_executor get_executor() override { return ws_.get_executor(); }

 private:
  // Once the peer's close frame has arrived, the close handshake has succeeded; what can still fail
  // is Beast's teardown (over TLS an SSL shutdown, then a TCP shutdown), and TLS terminators such as
  // nginx close TCP right after relaying the close frame, without close_notify: stream_truncated or
  // ENOTCONN. Nothing can follow a close frame, so no data is lost (Beast already ignores a plain
  // TCP EOF there). Peers that answer with a close frame always send a code (RFC 6455 5.5.1).
  [[nodiscard]] bool peer_closed() const { return ws_.reason().code != websocket::close_code::none; }

  websocket::stream<Stream> ws_;
};

constexpr std::size_t client_write_buffer_bytes = 2048;

// A plain WebSocket runs on the bare socket, not on a beast::tcp_stream: once connected, the stream's
// own timeouts (handshake, idle, pings: configure) are all it needs, and a tcp_stream would add per
// socket a shared state with two timers, and per read and write a wrapping operation that copies
// that state's shared_ptr (docs/performance.md, "Third pass").
using plain_ws = websocket::stream<tcp::socket>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

template <class Stream>
awaitable<connect_result> finish_client_handshake(websocket::stream<Stream> ws, const connect_request& request,
                                                  const std::string& host_header, const std::string& target,
                                                  connect_result result) {
  if constexpr (!std::is_same_v<Stream, tcp::socket>) beast::get_lowest_layer(ws).expires_never();
  configure(ws, request.limits);
  // A client masks what it sends, through a buffer Beast keeps for the stream's lifetime (4 KiB by
  // default). 2 KiB still takes a caller audio message of every provider in one write (the longest,
  // a transcoding GPT-Live session's 26 ms of 24 kHz PCM16 in base64, is about 1.8 KB); a longer
  // message goes out in pieces, one write each.
  ws.write_buffer_bytes(client_write_buffer_bytes);
  ws.set_option(websocket::stream_base::decorator([&request](websocket::request_type& req) {
    req.set(http::field::user_agent, "mediabridge");
    for (const auto& [name, value] : request.headers) req.set(name, value);
  }));
  websocket::response_type response;
  const auto upgrade_started = std::chrono::steady_clock::now();
  auto [ec] = co_await ws.async_handshake(response, host_header, target, as_tuple_awaitable);
  result.timings.upgrade = std::chrono::steady_clock::now() - upgrade_started;
  if (ec) {
    result.ec = ec;
    result.http_status = static_cast<int>(response.result_int());
    result.failure = "websocket handshake: " + ec.message();
    if (result.http_status != 0 && result.http_status != 101)
      result.failure += " (HTTP " + std::to_string(result.http_status) + ")";
    co_return result;
  }
  result.socket = std::make_unique<beast_message_socket<Stream>>(std::move(ws));
  co_return result;
}

}  // namespace

tls_client_context::tls_client_context(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
tls_client_context::~tls_client_context() = default;

std::shared_ptr<tls_client_context> tls_client_context::create(const std::string& extra_ca_file,
                                                               std::string& error) {
  auto p = std::make_unique<impl>();
  error_code ec;
  p->ctx.set_default_verify_paths(ec);
  if (ec) {
    error = "cannot load the system CA store: " + ec.message();
    return nullptr;
  }
  if (!extra_ca_file.empty()) {
    p->ctx.load_verify_file(extra_ca_file, ec);
    if (ec) {
      error = "cannot load CA file " + extra_ca_file + ": " + ec.message();
      return nullptr;
    }
  }
  p->ctx.set_verify_mode(ssl::verify_peer);
  return std::shared_ptr<tls_client_context>(new tls_client_context(std::move(p)));
}

awaitable<connect_result> connect_websocket(const connect_request& request, std::shared_ptr<tls_client_context> tls) {
  connect_result result;
  auto parsed = boost::urls::parse_uri(request.url);
  if (!parsed || (parsed->scheme() != "ws" && parsed->scheme() != "wss") || parsed->host().empty()) {
    result.ec = asio::error::invalid_argument;
    result.failure = "invalid upstream URL (expected ws:// or wss://)";
    co_return result;
  }
  const bool secure = parsed->scheme() == "wss";
  const std::string host = parsed->host_address();  // without brackets for IPv6
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80");
  const std::string host_header = parsed->has_port() ? host + ":" + port : host;
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  using steady = std::chrono::steady_clock;
  auto stage_started = steady::now();
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, as_tuple_awaitable);
  result.timings.resolve = steady::now() - stage_started;
  if (rec) {
    result.ec = rec;
    result.failure = "resolve " + host + ": " + rec.message();
    co_return result;
  }
  beast::tcp_stream tcp_stream(ex);
  tcp_stream.expires_after(std::chrono::milliseconds(request.connect_timeout_ms));
  stage_started = steady::now();
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, as_tuple_awaitable);
  result.timings.tcp = steady::now() - stage_started;
  if (cec) {
    result.ec = cec;
    result.failure = "connect " + host_header + ": " + cec.message();
    co_return result;
  }
  tcp_stream.socket().set_option(tcp::no_delay(true));

  if (!secure)
    co_return co_await finish_client_handshake(plain_ws(tcp_stream.release_socket()), request, host_header, target,
                                               std::move(result));

  if (!tls) {
    result.ec = asio::error::invalid_argument;
    result.failure = "wss:// needs a TLS context";
    co_return result;
  }
  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), tls->get().ctx);
  // SNI, and the certificate must name the host we asked for.
  if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), host.c_str())) {
    result.ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    result.failure = "TLS SNI: " + result.ec.message();
    co_return result;
  }
  tls_stream.set_verify_callback(ssl::host_name_verification(host));
  stage_started = steady::now();
  auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::client, as_tuple_awaitable);
  result.timings.tls = steady::now() - stage_started;
  if (hec) {
    result.ec = hec;
    result.failure = "TLS handshake with " + host_header + ": " + hec.message();
    co_return result;
  }
  co_return co_await finish_client_handshake(tls_ws(std::move(tls_stream)), request, host_header, target,
                                             std::move(result));
}

std::string upgrade_request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

namespace {

// Writes `response` and closes the connection.
awaitable<error_code> answer_and_close(beast::tcp_stream& stream, unsigned version, const plain_http_response& response,
                                       int timeout_ms) {
  http::response<http::string_body> res{static_cast<http::status>(response.status), version};
  res.set(http::field::server, "mediabridge");
  if (!response.body.empty()) res.set(http::field::content_type, response.content_type);
  res.body() = response.body;
  res.keep_alive(false);
  res.prepare_payload();
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  auto [ec, written] = co_await http::async_write(stream, res, as_tuple_awaitable);
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return ec;
}

}  // namespace

awaitable<accept_result> accept_websocket(tcp::socket socket, socket_limits limits, upgrade_check check,
                                          plain_http_handler plain) {
  accept_result result;
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(std::chrono::milliseconds(limits.handshake_timeout_ms));
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.body_limit(max_plain_body_bytes);
  auto [rec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  if (rec == http::error::body_limit && plain) {
    const plain_http_response too_large{.status = 413, .content_type = {}, .body = {}};
    result.ec = co_await answer_and_close(stream, parser.get().version(), too_large, limits.handshake_timeout_ms);
    if (!result.ec) result.ec = http::error::body_limit;
    co_return result;
  }
  if (rec) {
    result.ec = rec;
    co_return result;
  }
  http::request<http::string_body> req = parser.release();
  result.request.target = std::string(req.target());
  for (const auto& field : req) result.request.headers.emplace_back(field.name_string(), field.value());
  if (!websocket::is_upgrade(req)) {
    if (!plain) {
      result.ec = websocket::error::no_connection_upgrade;
      co_return result;
    }
    plain_http_request request{std::string(req.method_string()), result.request, std::move(req.body())};
    const plain_http_response response = co_await plain(std::move(request));
    result.ec = co_await answer_and_close(stream, req.version(), response, limits.handshake_timeout_ms);
    if (!result.ec) result.ec = websocket::error::no_connection_upgrade;
    co_return result;
  }
  if (const unsigned status = check ? check(result.request) : 0; status != 0) {
    http::response<http::empty_body> refusal{static_cast<http::status>(status), req.version()};
    refusal.set(http::field::server, "mediabridge");
    refusal.keep_alive(false);
    auto [wec, written] = co_await http::async_write(stream, refusal, as_tuple_awaitable);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    result.refused_status = status;
    result.ec = wec ? wec : websocket::error::upgrade_declined;
    co_return result;
  }
  auto up = co_await accept_upgrade(std::move(stream), req, limits);
  result.socket = std::move(up.socket);
  result.ec = up.ec;
  co_return result;
}

awaitable<upgrade_result> accept_upgrade(beast::tcp_stream stream, const http::request<http::string_body>& request,
                                         socket_limits limits) {
  upgrade_result result;
  plain_ws ws(stream.release_socket());
  configure(ws, limits);
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "mediabridge"); }));
  auto [ec] = co_await ws.async_accept(request, as_tuple_awaitable);
  if (ec) {
    result.ec = ec;
    co_return result;
  }
  result.socket = std::make_unique<beast_message_socket<tcp::socket>>(std::move(ws));
  co_return result;
}

}  // namespace mb::net
