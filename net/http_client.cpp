// The Beast HTTP client translation unit behind net/http_client.hpp.

#include "net/http_client.hpp"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>

#include "net/tls_context_impl.hpp"

namespace mb::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

template <class Stream>
awaitable<void> exchange(Stream& stream, http::request<http::string_body>& request, std::size_t max_body_bytes,
                         http_response& out) {
  out.request_sent = true;
  auto [wec, written] = co_await http::async_write(stream, request, as_tuple_awaitable);
  if (wec) {
    out.timed_out = wec == beast::error::timeout;
    out.failure = "write request: " + wec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_bytes);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
  if (rec) {
    out.timed_out = rec == beast::error::timeout;
    out.failure = "read response: " + rec.message();
    co_return;
  }
  auto response = parser.release();
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) out.headers.emplace_back(field.name_string(), field.value());
  out.body = std::move(response.body());
}

}  // namespace

awaitable<http_response> http_request(std::string method, std::string url,
                                      std::vector<std::pair<std::string, std::string>> headers, std::string body,
                                      std::shared_ptr<tls_client_context> tls, int timeout_ms,
                                      std::size_t max_body_bytes) {
  http_response out;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty()) {
    out.failure = "invalid URL (expected http:// or https://)";
    co_return out;
  }
  const bool secure = parsed->scheme() == "https";
  if (secure && !tls) {
    out.failure = "https:// needs a TLS context";
    co_return out;
  }
  const std::string host = parsed->host_address();  // without brackets for IPv6
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : (secure ? "443" : "80");
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  http::request<http::string_body> request;
  if (const auto verb = http::string_to_verb(method); verb != http::verb::unknown)
    request.method(verb);
  else
    request.method_string(method);
  request.target(target);
  request.version(11);
  // RFC 9110: the port is part of Host only when it is not the scheme's default.
  request.set(http::field::host, parsed->has_port() ? host + ":" + port : host);
  request.set(http::field::user_agent, "mediabridge");
  request.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, as_tuple_awaitable);
  if (rec) {
    out.failure = "resolve " + host + ": " + rec.message();
    co_return out;
  }
  beast::tcp_stream tcp_stream(ex);
  tcp_stream.expires_at(deadline);
  auto [cec, endpoint] = co_await tcp_stream.async_connect(endpoints, as_tuple_awaitable);
  if (cec) {
    out.timed_out = cec == beast::error::timeout;
    out.failure = "connect " + host + ":" + port + ": " + cec.message();
    co_return out;
  }
  tcp_stream.socket().set_option(tcp::no_delay(true));

  if (!secure) {
    co_await exchange(tcp_stream, request, max_body_bytes, out);
    error_code ignored;
    tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return out;
  }

  beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), tls->get().ctx);
  // SNI, and the certificate must name the host we asked for.
  if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), host.c_str())) {
    out.failure = "TLS SNI: " + error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()).message();
    co_return out;
  }
  tls_stream.set_verify_callback(ssl::host_name_verification(host));
  auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::client, as_tuple_awaitable);
  if (hec) {
    out.timed_out = hec == beast::error::timeout;
    out.failure = "TLS handshake with " + host + ":" + port + ": " + hec.message();
    co_return out;
  }
  co_await exchange(tls_stream, request, max_body_bytes, out);
  // Servers commonly close without close_notify after "Connection: close" (stream_truncated): benign
  // here, since the response was framed by Content-Length or chunking. Bounded by the deadline.
  co_await tls_stream.async_shutdown(as_tuple_awaitable);
  co_return out;
}

}  // namespace mb::net
