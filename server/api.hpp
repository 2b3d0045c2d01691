#pragma once
// The listener and history API under /v1 (docs/events.md): access control, and the REST answers.
// The listener endpoints themselves (WebSocket upgrade or SSE) are served by server/listener_hub.hpp,
// after check_api_access(); server/http_server.cpp dispatches.

#include <optional>
#include <string>
#include <string_view>

#include "net/asio.hpp"
#include "server/routes.hpp"

namespace mb::server {

struct api_target {
  enum class kind {
    events,  // GET /v1/events, /v1/calls/{sid}/events: WebSocket or Server-Sent Events
    calls,   // GET /v1/calls
    call,    // GET, DELETE /v1/calls/{sid}
  };
  kind what = kind::calls;
  std::string call_sid;  // events of one call, or the call; empty: all calls
};

// nullopt when `path` is none of the above (a malformed call SID included).
[[nodiscard]] std::optional<api_target> parse_api_target(std::string_view path);

// nullopt to admit. With API_TOKEN set: the token (Authorization: Bearer, or ?token=) or 401. Without:
// loopback clients not forwarded by a proxy, or 403.
[[nodiscard]] std::optional<http_reply> check_api_access(const server_context& ctx, const http_request_view& request);

// The REST endpoints, and the errors of the listener endpoints when they cannot be served (wrong
// method, listeners disabled). Runs store queries on the store thread; resumes on the caller's executor.
net::awaitable<http_reply> handle_api(server_context& ctx, const http_request_view& request, const api_target& target);

}  // namespace mb::server
