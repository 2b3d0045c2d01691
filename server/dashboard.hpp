#pragma once
// The web dashboard and the browser softphone (docs/dashboard.md).
//
// - GET / and GET /static/<name>: the files of web/, embedded in the binary, with a Content-Security-
//   Policy that admits only this origin's scripts, styles and connections (no inline script).
// - POST /v1/softphone/calls: authorised like the listener API (API_TOKEN, else loopback only); creates
//   a call SID and a stream token bound to it, and answers where to open the stream.
// - The WebSocket /v1/softphone/stream: a browser cannot sign its upgrade like Twilio, so the upgrade is
//   not checked; the stream token in start.customParameters is, by the same authorize_start hook as
//   Twilio's streams, and the stream then runs the same bridge::run_call.

#include <optional>
#include <string_view>

#include "server/routes.hpp"

namespace mb::server {

inline constexpr std::string_view softphone_stream_path = "/v1/softphone/stream";

// The reply for the dashboard's and the softphone's HTTP routes; nullopt for any other path.
[[nodiscard]] std::optional<http_reply> handle_dashboard(server_context& ctx, const http_request_view& request);

}  // namespace mb::server
