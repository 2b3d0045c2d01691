#pragma once
// The call's upstream socket and its writer, one session at a time, and how a session's socket is
// closed. When the call ends, a provider that acknowledges a close request
// (upstream::capabilities::acknowledges_close) is asked first and its answer closes the socket, within
// the closing grace (docs/protocols.md D7); any other socket closes at once.
//
// Thread safety: none. One per call, used on that call's executor only.

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "call/actions.hpp"
#include "call/call_state.hpp"
#include "net/message_socket.hpp"
#include "net/ws_writer.hpp"
#include "upstream/event.hpp"

namespace mb::bridge {

class upstream_socket {
 public:
  // A new session's socket; `observer` times the writer's writes.
  void attach(std::unique_ptr<net::message_socket> socket, std::size_t writer_queue,
              net::ws_writer::write_observer observer);
  // The session's reader and writer have finished.
  void detach() noexcept;

  [[nodiscard]] bool open() const noexcept { return writer_.has_value(); }
  // Only while open().
  [[nodiscard]] net::message_socket& socket() noexcept { return *socket_; }
  [[nodiscard]] net::ws_writer& writer() noexcept { return *writer_; }

  // These do nothing when no socket is open.
  void close(net::close_reason reason);
  void abort_now();
  // The call is ending. Returns what was sent the provider to close its session (GPT-Live's
  // session.close; empty for a provider that is just disconnected), for the call's recording.
  const std::vector<call::action>& close_for_end(call::call_state& state);

  // One event of the session. True when it is the provider's answer to our close request: the socket
  // is then closed, and there is nothing more to do with the event.
  bool answered(const upstream::event& ev);

 private:
  std::unique_ptr<net::message_socket> socket_;
  std::optional<net::ws_writer> writer_;
  std::vector<call::action> close_request_;  // the provider's close request, as call_state words it
  bool awaiting_answer_ = false;
};

}  // namespace mb::bridge
