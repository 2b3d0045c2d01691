// The end of a WebSocket behind a TLS terminator that drops the connection right after relaying the
// peer's close frame, without close_notify (nginx does so when the backend closes): the close handshake
// succeeded, so the read ends as a close, not as a broken stream.

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/websocket.hpp"
#include "tests/integration/support/tls_forwarder.hpp"

namespace {
using namespace std::chrono_literals;
namespace asio = boost::asio;
using mb::net::awaitable;
using tcp = asio::ip::tcp;
}  // namespace

TEST_CASE("a read that got the peer's close frame ends as closed though the TLS terminator then drops the connection",
          "[integration][tls]") {
  const auto pki = mb::test::make_test_pki();
  std::string error;
  const auto tls = mb::net::tls_client_context::create(pki.ca_cert.string(), error);
  REQUIRE(tls);
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
  mb::test::tls_forwarder terminator(pki, acceptor.local_endpoint().port());
  mb::net::socket_limits limits;
  limits.idle_timeout_ms = 0;

  std::optional<mb::net::read_result> read_end;
  mb::net::close_reason peer_close{};
  std::exception_ptr failure;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        std::unique_ptr<mb::net::message_socket> server;
        std::unique_ptr<mb::net::message_socket> client;
        auto accept = [&]() -> awaitable<void> {
          auto peer = co_await acceptor.async_accept(mb::net::use_awaitable);
          server = (co_await mb::net::accept_websocket(std::move(peer), limits)).socket;
        };
        auto connect = [&]() -> awaitable<void> {
          mb::net::connect_request request;
          request.url = "wss://localhost:" + std::to_string(terminator.port()) + "/";
          request.limits = limits;
          client = (co_await mb::net::connect_websocket(request, tls)).socket;
        };
        using namespace asio::experimental::awaitable_operators;
        co_await (accept() && connect());
        REQUIRE(server);
        REQUIRE(client);
        // The backend ends the stream while the client waits for a message, like the bridge hanging up
        // on a caller behind nginx.
        auto client_reads = [&]() -> awaitable<void> {
          std::string message;
          read_end = co_await client->read(message, 0);
          peer_close = client->peer_close_reason();
        };
        auto server_closes = [&]() -> awaitable<void> {
          mb::net::close_reason bye{1000, "call ended"};  // named: g++ 12 frees a braced temporary in co_await wrongly
          co_await server->close(std::move(bye));
        };
        co_await (client_reads() && server_closes());
      },
      [&](std::exception_ptr e) { failure = e; });
  ioc.run_for(10s);
  std::filesystem::remove_all(pki.dir);
  if (failure) std::rethrow_exception(failure);

  REQUIRE(read_end.has_value());
  CHECK(peer_close.code == 1000);
  INFO("read ended with: " << read_end->ec.message());
  CHECK(read_end->status == mb::net::read_status::closed);
}
