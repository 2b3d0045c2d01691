#pragma once
// The listener and history API under /v1 (docs/events.md): access control, and the REST answers.
// The listener endpoints themselves (WebSocket upgrade or SSE) are served by server/listener_hub.hpp,
// after check_api_access() (server/dispatch.hpp).

#include <optional>
#include <string>
#include <string_view>

#include "net/asio.hpp"
#include "routing/route.hpp"
#include "server/routes.hpp"

namespace mb::server {

// nullopt to admit. With API_TOKEN set: the token (Authorization: Bearer, or ?token=) or 401. Without:
// loopback clients not forwarded by a proxy, or 403.
[[nodiscard]] std::optional<http_reply> check_api_access(const server_context& ctx, const http_request_view& request);

// The REST endpoints, and the errors of the listener endpoints when they cannot be served (wrong
// method, listeners disabled). Runs store queries on the store thread; resumes on the caller's executor.
net::awaitable<http_reply> handle_api(server_context& ctx, const http_request_view& request,
                                      const routing::api_target& target);

}  // namespace mb::server
