#pragma once
// HTTP request → response for everything that is not a WebSocket: the voice webhook, health.
// Free of Beast so it compiles fast; server/http_server.cpp adapts Beast messages to these types.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "log/line_budget.hpp"
#include "server/server_context.hpp"

namespace mb::server {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request_view {
  std::string_view method;  // "GET", "POST", …
  std::string_view target;  // path and query as received
  std::string_view body;
  const header_list& headers;
  std::string_view peer_address;
  log::connection_lines& log_lines;  // the connection's budget for the log lines its requests cause
  [[nodiscard]] std::string_view header(std::string_view name) const;  // case-insensitive, "" when absent
  [[nodiscard]] std::string_view path() const { return target.substr(0, target.find('?')); }
  [[nodiscard]] std::string_view query() const {
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  }
};

struct http_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  header_list headers;
  // Set: the body is this file, sent in pieces as the peer takes them, never held whole (a recording
  // can be a hundred megabytes). `body` is then empty.
  std::string file_path;
};

http_reply handle_request(server_context& ctx, const http_request_view& request);

http_reply json_reply(int status, const boost::json::object& body);
http_reply error_reply(int status, std::string_view message);  // {"error": message}
http_reply method_not_allowed(std::string_view allow);         // 405 with an Allow header

// The Media Streams upgrade: with TWILIO_AUTH_TOKEN set, X-Twilio-Signature must sign the public wss://
// URL of this request (the softphone's stream is checked by check_softphone_upgrade, server/dashboard.hpp).
// Returns the refusal (400/403) or nullopt to accept.
std::optional<http_reply> check_stream_upgrade(server_context& ctx, const http_request_view& request);

// The server's public base URL (PUBLIC_URL, else Host and trusted X-Forwarded-*); nullopt when the
// request's Host is missing or malformed.
std::optional<std::string> public_base(server_context& ctx, const http_request_view& request);

// True when the peer may set X-Forwarded-* (TRUSTED_PROXIES).
bool is_trusted_proxy(const config::settings& settings, std::string_view peer_address);

}  // namespace mb::server
