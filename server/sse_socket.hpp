#pragma once
// Server-Sent Events (WHATWG HTML "Server-sent events") behind the message_socket interface, so that
// SSE listeners share the WebSocket listeners' writer and its bounds.
//
// After accept() has sent the response head, each message is written as "data: <text>\n\n" (the
// listener events are single-line JSON); an empty message is a ": keep-alive" comment. close() sends
// a final `event: close` whose data is {"code":…,"reason":…} and shuts the connection down. The
// client sends nothing after its request, so read() only reports when it goes away.
//
// @par Thread safety
// As message_socket: one executor; one read, one write and one close at a time.

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "net/message_socket.hpp"

namespace mb::server {

class sse_socket final : public net::message_socket {
 public:
  // Sends "200 OK, text/event-stream" on `socket` (whose request has been read). Null on failure.
  static net::awaitable<std::unique_ptr<sse_socket>> accept(asio::ip::tcp::socket socket);

  net::awaitable<net::read_result> read(std::string& out, std::size_t padding) override;
  void async_write(std::string_view text, write_done done) override;
  net::awaitable<net::error_code> write_binary(std::string_view bytes) override;  // SSE is text: fails
  net::awaitable<net::error_code> close(net::close_reason reason) override;
  void abort() noexcept override;
  [[nodiscard]] net::close_reason peer_close_reason() const override { return {0, {}}; }
  [[nodiscard]] asio::any_io_executor get_executor() override { return socket_.get_executor(); }

 private:
  explicit sse_socket(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  asio::ip::tcp::socket socket_;
};

}  // namespace mb::server
