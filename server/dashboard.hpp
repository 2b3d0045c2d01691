#pragma once
// The web dashboard and the browser softphone (docs/dashboard.md).
//
// - GET / and GET /static/<name>: the files of web/, embedded in the binary, with a Content-Security-
//   Policy that admits only this origin's scripts, styles and connections (no inline script).
// - POST /v1/softphone/calls: authorised like the listener API (API_TOKEN, else loopback only); creates
//   a call SID and a stream token bound to it, and answers where to open the stream.
// - The WebSocket /v1/softphone/stream (routing::softphone_stream_path): a browser cannot sign its upgrade like Twilio, nor set headers on
//   it, so the upgrade carries the dashboard's credential as for /v1/events (?token=API_TOKEN, or a local
//   client when API_TOKEN is unset) and, when it has an Origin, must come from this server's own origin
//   (any site's page could otherwise make a signed-in browser open it). Then the stream token in
//   start.customParameters is checked by the same authorize_start hook as Twilio's streams, and the
//   stream runs the same bridge::run_call.

#include <optional>
#include <string_view>

#include "server/routes.hpp"

namespace mb::server {

// The softphone stream's upgrade: nullopt to accept, else the refusal (401/403).
[[nodiscard]] std::optional<http_reply> check_softphone_upgrade(const server_context& ctx, const http_request_view& request);

// The reply for the dashboard's and the softphone's HTTP routes; nullopt for any other path.
[[nodiscard]] std::optional<http_reply> handle_dashboard(server_context& ctx, const http_request_view& request);

}  // namespace mb::server
