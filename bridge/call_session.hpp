#pragma once
// One phone call: the Twilio Media Streams socket, the Realtime socket, and the call_state between them.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bridge/call_registry.hpp"
#include "bridge/event_sink.hpp"
#include "call/call_state.hpp"
#include "net/message_socket.hpp"
#include "net/ws_writer.hpp"
#include "net/websocket.hpp"

namespace mb::bridge {

// Everything a call needs from the process. Shared by all calls; read-only after startup.
struct bridge_context {
  protocol::session_config session;
  call::call_options call;
  std::string upstream_url;  // Realtime URL including ?model=
  std::vector<std::pair<std::string, std::string>> upstream_headers;  // Authorization: never logged
  std::shared_ptr<net::tls_client_context> tls;
  net::socket_limits twilio_limits;
  net::socket_limits upstream_limits;
  int upstream_connect_timeout_ms = 10000;
  int session_update_timeout_ms = 10000;
  int start_timeout_ms = 10000;      // Twilio must send start this soon after the upgrade
  int max_call_duration_s = 4 * 3600;
  int close_grace_ms = 3000;         // after asking both sides to close, abort what is left
  std::size_t writer_queue_messages = 1024;
  call_registry* registry = nullptr;
  event_sink* events = nullptr;      // may be null
};

// Runs the call to its end on the socket's executor. Never throws; logs one summary line.
net::awaitable<void> run_call(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx,
                              std::string remote_address);

}  // namespace mb::bridge
