#pragma once
// One phone call: the Twilio Media Streams socket, the provider's socket, the call_state between them
// and the call_supervisor that decides when each opens and closes.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bridge/call_registry.hpp"
#include "bridge/event_sink.hpp"
#include "call/call_state.hpp"
#include "call/call_supervisor.hpp"
#include "log/line_budget.hpp"
#include "metrics/bridge_metrics.hpp"
#include "net/message_socket.hpp"
#include "net/ws_writer.hpp"
#include "net/websocket.hpp"
#include "recorder/recording_writer.hpp"
#include "telephony/openai_calls.hpp"
#include "telephony/twilio_client.hpp"
#include "upstream/provider.hpp"

namespace mb::bridge {

class prewarm_pool;

// What the call's agent profile decides, resolved from Twilio's start (customParameters).
struct call_setup {
  protocol::session_config session;  // instructions with {{variables}} filled in
  std::string greeting;              // likewise; empty: wait for the caller
  std::string agent;                 // profile name, reported in call.started
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  std::string upstream_url;          // the provider's URL (the Realtime API's with the profile's ?model=)
  std::vector<std::pair<std::string, std::string>> upstream_headers;  // the provider's credential: never logged
  call::call_tools_config tools;     // webhook tools, call control, DTMF (docs/tools.md)
  bool record = false;               // the call is recorded, if bridge_context::recorder is set (docs/recording.md)
};

// Everything a call needs from the process. Shared by all calls; read-only after startup.
struct bridge_context {
  protocol::session_config session;
  call::call_options call;
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  // Calls that `resolve` gives no call_setup (it is null) connect here; others to their call_setup's.
  std::string upstream_url;  // the provider's URL (the Realtime API's including ?model=)
  std::vector<std::pair<std::string, std::string>> upstream_headers;  // its credential: never logged
  call::call_tools_config tools;  // likewise
  // Signs tool webhook bodies (X-Mediabridge-Signature, docs/tools.md); empty: unsigned. Never logged.
  std::string tool_webhook_secret;
  std::shared_ptr<net::tls_client_context> tls;
  net::socket_limits twilio_limits;
  net::socket_limits upstream_limits;
  std::chrono::milliseconds upstream_connect_timeout{10000};  // DNS + TCP + TLS + upgrade
  // Every deadline of a call (the start deadline STREAM_START_TIMEOUT_MS included), upstream reconnects
  // and rollover, the closing grace.
  call::supervisor_options lifecycle;
  // Checked when Twilio's start arrives, before anything is published (the stream token bound to the
  // webhook call). Returns an empty string to accept, else the reason to refuse; null accepts every stream.
  std::function<std::string(const protocol::twilio_start&)> authorize_start;
  // Per-call configuration when Twilio's start arrives; nullopt refuses the stream. Null: every call
  // uses `session`, `call.greeting`, `upstream_url` and `upstream_headers`. Runs on the call's thread: must not block.
  std::function<std::optional<call_setup>(const protocol::twilio_start&)> resolve;
  std::size_t writer_queue_messages = 1024;
  call_registry* registry = nullptr;  // required: admission, and shutdown
  event_sink* events = nullptr;      // may be null
  // PREWARM: the sessions the voice webhook opened; a call takes its own for its first connect. Null: off.
  prewarm_pool* prewarm = nullptr;
  // Hang-up and transfer through Twilio's REST API; null or not configured: the call can only close its stream.
  const telephony::twilio_client* twilio_rest = nullptr;
  // OpenAI's SIP control plane (accept, refer, hang up) for SIP-mode calls (bridge/sip_session.hpp).
  const telephony::openai_calls* openai_calls = nullptr;
  // WIRE_EVENTS: each call publishes its non-media wire messages' types and sizes (call/wire_tap.hpp).
  bool wire_events = false;
  metrics::bridge_metrics* metrics = nullptr;  // may be null: nothing is exported
  // Where recorded calls go (RECORDINGS_DIR); null: no call is recorded. `record`: whether calls that
  // `resolve` gives no call_setup are.
  recorder::recording_writer* recorder = nullptr;
  bool record = false;
  // The process-wide budget for log lines peers cause, shared with the HTTP server; null: each
  // connection's own budget only.
  log::shared_line_budget* peer_lines = nullptr;
};

// Runs the stream on the socket's executor. Until its start is authorised (ctx.authorize_start) and
// admitted (ctx.registry: one live stream per CallSid, MAX_CONCURRENT_CALLS) it is only `pending`: it
// accepts `connected` and `start`, nothing else, within ctx.lifecycle.start_timeout; a refusal is one
// log line, one metric and a close (1013 when full, else 1008), and nothing is published, stored or
// counted as a call. Once admitted, it runs the call to its end. Never throws; logs one summary line
// per call.
net::awaitable<void> run_call(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx,
                              std::string remote_address, call_registry::pending_slot pending);

}  // namespace mb::bridge
