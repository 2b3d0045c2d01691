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

}  // namespace mb::protocol
