#pragma once
// Which public URL Twilio used to reach us. Twilio signs, and must be told, the URL it sees, which
// behind a TLS proxy is not the one we listen on (protocols.md C2).

#include <optional>
#include <string>
#include <string_view>

namespace mb::protocol {

struct request_origin {
  std::string_view host;              // Host header
  std::string_view forwarded_proto;   // X-Forwarded-Proto (may be a comma list: first hop wins)
  std::string_view forwarded_host;    // X-Forwarded-Host (host[:port]; may be a comma list)
  bool from_trusted_proxy = false;    // peer address is in TRUSTED_PROXIES
};

// "scheme://host[:port][/prefix]" without a trailing slash, or nullopt when the host is missing or
// not a plausible host[:port]. configured_public_url (PUBLIC_URL) wins when set; otherwise the
// forwarded headers count only from a trusted proxy; otherwise the scheme defaults to https,
// because Twilio only connects to https/wss and a plain-HTTP listener is always behind TLS in production.
std::optional<std::string> public_base_url(std::string_view configured_public_url, const request_origin& origin);

// http(s)://… → ws(s)://… + path. Twilio's <Stream url> must be wss:// in production.
std::string websocket_url(std::string_view base_url, std::string_view path);

// Host header syntax we accept: a DNS name or IPv4 literal or [IPv6], optional :port.
bool is_plausible_host(std::string_view host);

// Whether a browser's Origin header names the site this request was sent to: the same host and port
// as the Host header (or a trusted proxy's X-Forwarded-Host), and the scheme a trusted proxy reports in
// X-Forwarded-Proto when it reports one (without it the listener cannot know the browser's scheme, and
// the host is what tells another site's page apart). Browsers send Origin with every WebSocket upgrade
// but apply no same-origin rule to WebSockets, so the server must. False for "null", for schemes other
// than http and https, and for anything but scheme://host[:port].
bool is_same_origin(std::string_view origin, const request_origin& request);

}  // namespace mb::protocol
