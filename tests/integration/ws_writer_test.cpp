// net::ws_writer over a real loopback WebSocket: order, close after the queue, and the lifetime rule
// (run() never returns while a write is in flight, because the write's completion refers to it).
// Also the message_socket's idle timeout, which runs on the bare TCP socket.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>

#include "net/websocket.hpp"
#include "net/ws_writer.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using mb::net::awaitable;
using tcp = asio::ip::tcp;

// A connected pair on 127.0.0.1: `client` (ws://) and `server` (accepted), on one io_context.
struct socket_pair {
  std::unique_ptr<mb::net::message_socket> client;
  std::unique_ptr<mb::net::message_socket> server;
};

awaitable<socket_pair> connect_pair(mb::net::socket_limits limits) {
  auto ex = co_await asio::this_coro::executor;
  tcp::acceptor acceptor(ex, {asio::ip::address_v4::loopback(), 0});
  mb::net::connect_request request;
  request.url = "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
  request.limits = limits;
  socket_pair pair;
  auto accept = [&]() -> awaitable<void> {
    auto peer = co_await acceptor.async_accept(mb::net::use_awaitable);
    pair.server = (co_await mb::net::accept_websocket(std::move(peer), limits)).socket;
  };
  auto connect = [&]() -> awaitable<void> {
    pair.client = (co_await mb::net::connect_websocket(request, nullptr)).socket;
  };
  using namespace asio::experimental::awaitable_operators;
  co_await (accept() && connect());
  co_return pair;
}

// Reads text messages into `messages` until the stream ends (the peer's close, or a failure).
awaitable<void> read_all(mb::net::message_socket& socket, std::vector<std::string>& messages) {
  std::string buffer;
  for (;;) {
    const auto r = co_await socket.read(buffer, 0);
    if (r.status != mb::net::read_status::message) co_return;
    messages.push_back(buffer);
  }
}

template <class T>
T run_bounded(asio::io_context& ioc, awaitable<T> op) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(ioc, std::move(op), [&](std::exception_ptr e, T value) {
    error = e;
    result = std::move(value);
  });
  ioc.run_for(10s);
  if (error) std::rethrow_exception(error);
  REQUIRE(result.has_value());
  return std::move(*result);
}

}  // namespace

TEST_CASE("ws_writer sends queued messages in order, then its close frame", "[integration][ws_writer]") {
  asio::io_context ioc;
  mb::net::socket_limits limits;
  limits.idle_timeout_ms = 0;
  auto received = run_bounded(ioc, [&]() -> awaitable<std::vector<std::string>> {
    auto pair = co_await connect_pair(limits);
    REQUIRE(pair.client);
    REQUIRE(pair.server);
    mb::net::ws_writer writer(*pair.client, 64);
    // Queued before run(): they wait for it. Then more while it runs, then the close.
    for (int i = 0; i < 3; ++i) REQUIRE(writer.push("early " + std::to_string(i)));
    std::vector<std::string> messages;
    auto write_side = [&]() -> awaitable<void> { co_await writer.run(); };
    auto push_more = [&]() -> awaitable<void> {
      for (int i = 0; i < 40; ++i) REQUIRE(writer.push("late " + std::to_string(i)));
      writer.close({4001, "done"});
      co_return;
    };
    using namespace asio::experimental::awaitable_operators;
    co_await (write_side() && push_more() && read_all(*pair.server, messages));
    CHECK(writer.done());
    CHECK_FALSE(writer.error());
    CHECK(pair.server->peer_close_reason().code == 4001);
    CHECK(pair.server->peer_close_reason().reason == "done");
    co_return messages;
  }());
  REQUIRE(received.size() == 43);
  for (int i = 0; i < 3; ++i) CHECK(received[i] == "early " + std::to_string(i));
  for (int i = 0; i < 40; ++i) CHECK(received[3 + i] == "late " + std::to_string(i));
}

TEST_CASE("a fill that declines sends nothing and takes no room in the queue, an empty message is sent",
          "[integration][ws_writer]") {
  asio::io_context ioc;
  mb::net::socket_limits limits;
  limits.idle_timeout_ms = 0;
  auto received = run_bounded(ioc, [&]() -> awaitable<std::vector<std::string>> {
    auto pair = co_await connect_pair(limits);
    REQUIRE(pair.client);
    REQUIRE(pair.server);
    mb::net::ws_writer writer(*pair.client, 3);
    // A queue of three: ten declined fills between the messages would fill it many times over.
    REQUIRE(writer.push("first"));
    for (int i = 0; i < 10; ++i) REQUIRE(writer.emplace([](std::string& s) {
      s = "declined";
      return false;
    }));
    REQUIRE(writer.emplace_timed(std::chrono::steady_clock::now(), [](std::string&) { return false; }));
    REQUIRE(writer.push(""));
    REQUIRE(writer.push("second"));
    writer.close({1000, "done"});
    std::vector<std::string> messages;
    auto write_side = [&]() -> awaitable<void> { co_await writer.run(); };
    using namespace asio::experimental::awaitable_operators;
    co_await (write_side() && read_all(*pair.server, messages));
    CHECK_FALSE(writer.error());
    co_return messages;
  }());
  CHECK(received == std::vector<std::string>{"first", "", "second"});
}

TEST_CASE("a ws_writer refilled from a backlog after each write sends it all in order, one write at a time",
          "[integration][ws_writer]") {
  asio::io_context ioc;
  mb::net::socket_limits limits;
  limits.idle_timeout_ms = 0;
  constexpr int backlog_size = 500;
  constexpr std::size_t window = 4;
  std::size_t deepest_queue = 0;
  auto received = run_bounded(ioc, [&]() -> awaitable<std::vector<std::string>> {
    auto pair = co_await connect_pair(limits);
    REQUIRE(pair.client);
    REQUIRE(pair.server);
    mb::net::ws_writer writer(*pair.client, window);
    int next = 0;
    // Called from write completions: pushing there must neither start a second write (Beast would
    // assert in a debug build, and the order would break) nor lose the message.
    auto refill = [&] {
      while (next < backlog_size && writer.accepting()) writer.push("backlog " + std::to_string(next++));
      deepest_queue = std::max(deepest_queue, writer.queued());
      if (next == backlog_size) writer.close({4002, "drained"});
    };
    writer.refill_with(refill);
    refill();
    std::vector<std::string> messages;
    auto write_side = [&]() -> awaitable<void> { co_await writer.run(); };
    using namespace asio::experimental::awaitable_operators;
    co_await (write_side() && read_all(*pair.server, messages));
    CHECK(writer.done());
    CHECK_FALSE(writer.error());
    CHECK(pair.server->peer_close_reason().code == 4002);
    co_return messages;
  }());
  CHECK(deepest_queue == window);
  REQUIRE(received.size() == backlog_size);
  for (int i = 0; i < backlog_size; ++i) CHECK(received[i] == "backlog " + std::to_string(i));
}

TEST_CASE("a cancelled ws_writer aborts its socket and returns only after its write in flight completed",
          "[integration][ws_writer]") {
  asio::io_context ioc;
  mb::net::socket_limits limits;
  limits.idle_timeout_ms = 0;
  limits.max_message_bytes = 64 << 20;
  struct outcome {
    bool done = false;
    std::size_t queued = 0;
    bool failed = false;
    bool ran_long_enough = false;
  };
  const auto result = run_bounded(ioc, [&]() -> awaitable<outcome> {
    auto pair = co_await connect_pair(limits);
    REQUIRE(pair.client);
    REQUIRE(pair.server);  // never reads: a message far larger than the socket buffers stays in flight
    auto writer = std::make_unique<mb::net::ws_writer>(*pair.client, 4);
    REQUIRE(writer->push(std::string(32 << 20, 'x')));
    REQUIRE(writer->push("behind it"));
    const auto started = std::chrono::steady_clock::now();
    asio::steady_timer deadline(co_await asio::this_coro::executor, 100ms);
    using namespace asio::experimental::awaitable_operators;
    co_await (writer->run() || deadline.async_wait(mb::net::use_awaitable));
    outcome o;
    o.ran_long_enough = std::chrono::steady_clock::now() - started >= 100ms;
    o.done = writer->done();
    o.queued = writer->queued();
    o.failed = writer->error().failed();
    // Destroying the writer now is safe only because no completion refers to it any more. Had one
    // been left, the abort has already posted it: it runs in the round this post yields to (and
    // ASan reports the use after free).
    writer.reset();
    co_await asio::post(co_await asio::this_coro::executor, mb::net::use_awaitable);
    co_return o;
  }());
  CHECK(result.ran_long_enough);
  CHECK(result.done);
  CHECK(result.queued == 0);
  CHECK(result.failed);  // the write in flight ended with the abort, not by completing
}

TEST_CASE("a peer that stops answering is timed out on both sides by the idle timeout",
          "[integration][ws_writer]") {
  // Plain WebSockets run on the bare TCP socket: the stream's idle timeout (a ping at half of it, a
  // timeout when nothing came back) is the only one a connected socket has.
  asio::io_context ioc;
  mb::net::socket_limits limits;
  limits.idle_timeout_ms = 300;
  auto statuses = run_bounded(ioc, [&]() -> awaitable<std::vector<mb::net::read_status>> {
    auto pair = co_await connect_pair(limits);
    REQUIRE(pair.client);
    REQUIRE(pair.server);
    // A side answers pings only while it reads: the reading side's pings go unanswered, so it times
    // out. One pair for each side, since a timed-out side closes its connection.
    auto second = co_await connect_pair(limits);
    REQUIRE(second.client);
    REQUIRE(second.server);
    std::vector<mb::net::read_status> ends;
    for (auto* reader : {pair.client.get(), second.server.get()}) {
      std::string buffer;
      const auto started = std::chrono::steady_clock::now();
      const auto r = co_await reader->read(buffer, 0);
      ends.push_back(r.status);
      CHECK(std::chrono::steady_clock::now() - started >= 250ms);
    }
    co_return ends;
  }());
  CHECK(statuses == std::vector<mb::net::read_status>{mb::net::read_status::timeout, mb::net::read_status::timeout});
}
