#pragma once
// Where a request goes, decided from its method, path and WebSocket upgrade alone: no I/O, no
// credentials, no admission. server/dispatch.hpp authorises the route and admits it; http_session
// (server/http_server.cpp) carries the outcome out.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace mb::routing {

// Twilio's Media Streams WebSocket: the <Stream url> of the voice webhook's TwiML, and the upgrade
// the server accepts for it.
inline constexpr std::string_view media_stream_path = "/media-stream";
// PREWARM: the stream URL names the worker thread that holds the call's pre-warmed upstream session,
// /media-stream/<worker> (bridge/prewarm_pool.hpp), so that the stream is served on that thread.
[[nodiscard]] std::string media_stream_path_for_worker(std::size_t worker);
// The browser softphone's stream (server/dashboard.hpp).
inline constexpr std::string_view softphone_stream_path = "/v1/softphone/stream";

// OpenAI's signed incoming-call webhooks (SIP mode, docs/security.md): POST only; their signature is
// their credential, so API_TOKEN does not apply.
inline constexpr std::string_view openai_webhook_path = "/openai/webhook";

// The listener and history API under /v1 (docs/events.md).
struct api_target {
  enum class kind {
    events,  // GET /v1/events, /v1/calls/{sid}/events: WebSocket or Server-Sent Events
    calls,   // GET /v1/calls
    call,    // GET, DELETE /v1/calls/{sid}
    recording_wav,  // GET /v1/calls/{sid}/recording.wav (docs/recording.md)
    recording_log,  // GET /v1/calls/{sid}/recording.jsonl
    // An operator's command for a live call (docs/tools.md, operator controls): POST only.
    hang_up,          // /v1/calls/{sid}/hangup
    transfer,         // /v1/calls/{sid}/transfer
    message,          // /v1/calls/{sid}/messages
    agents,           // GET /v1/agents: the profiles, with their transfer destinations' names
    campaigns,        // GET, POST /v1/campaigns
    campaign,         // GET /v1/campaigns/{id}
    campaign_cancel,  // POST /v1/campaigns/{id}/cancel
    probes,           // GET /v1/probes: probe runs, their aggregates and alerts (docs/latency.md)
    client_secrets,   // POST /v1/realtime/client_secrets: a browser's OpenAI client secret (docs/client-secrets.md)
  };
  kind what = kind::calls;
  std::string call_sid;  // events of one call, or the call; empty: all calls
  std::string campaign_id;
};

// A campaign's id as the server makes them (server/outbound.hpp): 1-32 of [a-z0-9].
[[nodiscard]] bool valid_campaign_id(std::string_view id);

// nullopt when `path` is none of the above (a malformed call SID included).
[[nodiscard]] std::optional<api_target> parse_api_target(std::string_view path);

struct request_line {
  std::string_view method;  // "GET", "POST", … as received (HTTP methods are case-sensitive)
  std::string_view path;    // the target without its query
  bool websocket_upgrade = false;
};

// Routes that need the API credential (server/api.hpp, check_api_access) before anything else.
struct api_request {  // the REST endpoints, and the listener endpoints' errors (wrong method, disabled)
  api_target target;
};
struct listener_websocket {  // live events over a WebSocket
  std::string call_sid;      // empty: every call
};
struct listener_sse {  // live events as Server-Sent Events
  std::string call_sid;
};
// Call streams: each checks its own credential, then takes a pending-stream slot.
struct media_stream {        // Twilio's upgrade, signed with X-Twilio-Signature
  std::optional<std::size_t> worker;  // /media-stream/<worker>: the thread to serve it on (not bounded here)
};
struct softphone_stream {};  // the browser's upgrade, with the dashboard's credential and Origin
struct openai_webhook {};  // checks its own signature (server/sip_webhook.hpp); any method but POST: 405
// Answered without credentials.
struct upgrade_required {};  // a stream path without the upgrade: 426
struct unknown_upgrade {};   // an upgrade to any other path: 404, then close
struct plain_http {};        // everything else: server/routes.hpp, handle_request

using route = std::variant<api_request, listener_websocket, listener_sse, media_stream, softphone_stream,
                           openai_webhook, upgrade_required, unknown_upgrade, plain_http>;

// `live_events`: listeners are enabled; without them the events endpoints answer as REST (404).
[[nodiscard]] route route_request(const request_line& request, bool live_events);

}  // namespace mb::routing
