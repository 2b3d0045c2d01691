#pragma once
// What a connection does with one request: its route (routing/route.hpp), authorised and admitted.
// Computed without I/O (it may log, count refusals and take a pending-stream slot); http_session
// (server/http_server.cpp) carries the step out.
//
// Nothing before authorisation: a route's credential is checked first, and only an authorised
// stream takes a pending slot (MAX_PENDING_STREAMS).

#include <string>
#include <variant>

#include "bridge/call_registry.hpp"
#include "routing/route.hpp"
#include "server/routes.hpp"

namespace mb::server {

namespace step {
struct reply {  // answered at once
  http_reply reply;
  bool then_close = false;  // a refusal: close whatever the request's keep-alive says
};
using api = routing::api_request;  // answered by handle_api (store queries on the store thread)
using listener_websocket = routing::listener_websocket;
using listener_sse = routing::listener_sse;
struct call_stream {  // accept the upgrade and run the call (Twilio's or the softphone's)
  bridge::call_registry::pending_slot pending;
  std::optional<std::size_t> worker;  // PREWARM: run it on this worker thread (routing::media_stream)
};
using openai_webhook = routing::openai_webhook;  // answered by handle_openai_webhook on the connection's executor
}  // namespace step

using connection_step = std::variant<step::reply, step::api, step::listener_websocket, step::listener_sse,
                                     step::call_stream, step::openai_webhook>;

[[nodiscard]] connection_step dispatch(server_context& ctx, const http_request_view& request, routing::route route);

}  // namespace mb::server
