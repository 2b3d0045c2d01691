#pragma once
// What the HTTP layer needs from the process. Shared across worker threads.

#include <atomic>
#include <string>

#include "bridge/call_session.hpp"
#include "config/settings.hpp"
#include "server/stream_tokens.hpp"

namespace mb::agents {
class agent_catalog;
}
namespace mb::store {
class call_store;
}
namespace mb::metrics {
class registry;
}

namespace mb::server {

class io_pool;
class client_secret_service;
class listener_hub;
class outbound_service;
class sip_webhook;

inline constexpr const char* version = "0.1.0";

struct server_context {
  const config::settings& settings;
  const bridge::bridge_context& bridge;
  bridge::call_registry& registry;
  stream_tokens& tokens;
  std::atomic<bool> draining{false};  // SIGTERM: answer calls with fallback TwiML, readyz 503
  std::size_t max_body_bytes = 64 * 1024;  // Twilio's webhook forms are ~1 KB
  int request_timeout_ms = 15000;
  const agents::agent_catalog* agents = nullptr;  // null: the webhook chooses no profile
  listener_hub* listeners = nullptr;              // null: no live events (/v1/events answers 404)
  store::call_store* store = nullptr;             // null: no call history (/v1/calls answers 503)
  const metrics::registry* metrics = nullptr;     // null: /metrics answers 404
  outbound_service* outbound = nullptr;           // null: POST /v1/calls, campaigns and status callbacks 503
  std::string sip_uri{};                          // SIP-mode profiles' <Dial><Sip>: OPENAI_SIP_URI or demo mode's
  sip_webhook* openai_webhook = nullptr;          // null: no OPENAI_WEBHOOK_SECRET, POST /openai/webhook 503
  io_pool* workers = nullptr;  // PREWARM (bridge.prewarm) needs it: a call's stream is served where its session waits
  client_secret_service* client_secrets = nullptr;  // null: POST /v1/realtime/client_secrets 503
  recorder::recording_writer* recordings = nullptr;  // null: no call is recorded (RECORDINGS_DIR empty)
};

}  // namespace mb::server
