#pragma once
// A WebSocket reduced to what a call needs: read one text message, write one, close.
// Concrete Beast streams live behind this interface in net/message_socket.cpp, so the bridge, the
// writer and the tools compile without Beast's templates (a Beast TU costs ~1 min and ~2 GB here).
//
// @par Thread safety
// Not thread-safe. All calls must run on the executor (strand) the socket was created on.
// At most one read, one write and one close may be outstanding at a time (use ws_writer for writes).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "net/asio.hpp"

namespace mb::net {

struct close_reason {
  std::uint16_t code = 1000;  // RFC 6455: 1000 normal, 1001 going away, 1008 policy, 1009 too big, 1011 error
  std::string reason;
};

enum class read_status {
  message,         // a complete text message is in the buffer
  binary_message,  // a complete binary message arrived (the buffer holds it; protocols here want text)
  closed,          // the peer closed cleanly (close frame) or we closed and our read ended
  too_big,         // message exceeded the read limit; the stream is being failed
  timeout,         // idle/handshake timeout
  error,           // anything else (reset, TLS failure, protocol violation)
};

struct read_result {
  read_status status;
  error_code ec;
};

class message_socket {
 public:
  virtual ~message_socket() = default;

  // Reads one whole message into `out` (replacing its content, reusing its capacity). On return
  // `out` has at least `padding` bytes of spare capacity, as simdjson wants to parse in place.
  virtual awaitable<read_result> read(std::string& out, std::size_t padding) = 0;

  // Starts writing one text message; `done` runs on the socket's executor when the write completes
  // (never inline). The caller keeps `text` alive until then. A callback, not an awaitable: the
  // writer starts a write from whichever coroutine queued the message, without waking a coroutine of
  // its own (one scheduler round and one timer cancel less per message).
  using write_done = std::function<void(error_code)>;
  virtual void async_write(std::string_view text, write_done done) = 0;
  // Writes one binary message (no protocol here uses them; tests send them as bad input).
  virtual awaitable<error_code> write_binary(std::string_view bytes) = 0;

  // Sends a close frame and waits for the peer's (bounded by the handshake timeout).
  virtual awaitable<error_code> close(close_reason reason) = 0;

  // Last resort: abort the transport (no close frame). Pending operations complete with errors.
  virtual void abort() noexcept = 0;

  // The close frame the peer sent, if any (code 0 when none).
  [[nodiscard]] virtual close_reason peer_close_reason() const = 0;

  [[nodiscard]] virtual asio::any_io_executor get_executor() = 0;
};

struct socket_limits {
  std::size_t max_message_bytes = 1 << 20;
  int handshake_timeout_ms = 10000;
  int idle_timeout_ms = 30000;  // with keep-alive pings at half this period
};

}  // namespace mb::net
