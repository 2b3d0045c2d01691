#pragma once
// Who counts as "this machine" when API_TOKEN is not set and the listener and history endpoints serve
// local clients only.
//
// A loopback peer address is not enough. A web page from any site can make the user's browser open a
// WebSocket to 127.0.0.1 (browsers apply no CORS to WebSocket upgrades), and a DNS-rebinding name can
// resolve to 127.0.0.1 with the page's own origin. So the Host header must name a loopback host too, an
// Origin (browsers send one on upgrades and cross-site requests) must be a loopback origin, and a request
// a reverse proxy forwarded is not local whatever its peer address.
//
// @par Thread Safety
// Pure functions.

#include <string_view>

namespace mb::protocol {

struct local_request {
  std::string_view peer_address;  // the TCP peer, as text
  std::string_view host;          // Host header
  std::string_view origin;        // Origin header; empty when absent (curl, servers)
  bool forwarded = false;         // X-Forwarded-For or Forwarded present
};

// 127.0.0.0/8, ::1 and IPv4-mapped 127.x.
[[nodiscard]] bool is_loopback_address(std::string_view address);
// "localhost", a loopback IPv4 literal or "[::1]", with an optional port.
[[nodiscard]] bool is_loopback_host(std::string_view host);
// "http://" or "https://" and a loopback host; "null" and other schemes are not.
[[nodiscard]] bool is_loopback_origin(std::string_view origin);
[[nodiscard]] bool is_local_request(const local_request& request);

}  // namespace mb::protocol
