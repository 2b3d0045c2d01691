#include "server/sse_socket.hpp"

#include <array>

#include <boost/asio/write.hpp>
#include <boost/json.hpp>

namespace mb::server {

namespace {
// No Content-Length: the body ends when the connection does. X-Accel-Buffering stops nginx from
// holding events back.
constexpr std::string_view response_head =
    "HTTP/1.1 200 OK\r\n"
    "Server: mediabridge\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";
}  // namespace

net::awaitable<std::unique_ptr<sse_socket>> sse_socket::accept(asio::ip::tcp::socket socket) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(response_head.data(), response_head.size()),
                                            net::as_tuple_awaitable);
  if (ec) co_return nullptr;
  co_return std::unique_ptr<sse_socket>(new sse_socket(std::move(socket)));
}

net::awaitable<net::read_result> sse_socket::read(std::string& out, std::size_t) {
  std::array<char, 512> discard{};
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(discard), net::as_tuple_awaitable);
    if (!ec) continue;
    out.clear();
    const bool clean = ec == asio::error::eof || ec == asio::error::operation_aborted;
    co_return net::read_result{clean ? net::read_status::closed : net::read_status::error, ec};
  }
}

void sse_socket::async_write(std::string_view text, write_done done) {
  constexpr std::string_view keep_alive = ": keep-alive\n\n";
  constexpr std::string_view prefix = "data: ";
  constexpr std::string_view suffix = "\n\n";
  auto completion = [done = std::move(done)](const net::error_code& ec, std::size_t) { done(ec); };
  if (text.empty()) {
    asio::async_write(socket_, asio::buffer(keep_alive.data(), keep_alive.size()), std::move(completion));
    return;
  }
  // async_write copies the buffer sequence; the bytes it points at are literals and the caller's text.
  const std::array<asio::const_buffer, 3> buffers{asio::buffer(prefix.data(), prefix.size()),
                                                  asio::buffer(text.data(), text.size()),
                                                  asio::buffer(suffix.data(), suffix.size())};
  asio::async_write(socket_, buffers, std::move(completion));
}

net::awaitable<net::error_code> sse_socket::write_binary(std::string_view) {
  co_return asio::error::operation_not_supported;
}

net::awaitable<net::error_code> sse_socket::close(net::close_reason reason) {
  const std::string last = "event: close\ndata: " +
                           boost::json::serialize(boost::json::object{{"code", reason.code}, {"reason", reason.reason}}) +
                           "\n\n";
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(last), net::as_tuple_awaitable);
  net::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  co_return ec;
}

void sse_socket::abort() noexcept {
  net::error_code ignored;
  socket_.close(ignored);
}

}  // namespace mb::server
