#include "server/dashboard.hpp"

#include <openssl/rand.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"
#include "protocol/public_url.hpp"
#include "routing/route.hpp"
#include "server/api.hpp"
#include "web/assets.hpp"

namespace mb::server {
namespace {

constexpr std::string_view static_prefix = "/static/";
constexpr std::string_view softphone_calls_path = "/v1/softphone/calls";

// Scripts, styles, images and connections (fetch, WebSocket, AudioWorklet modules) from this origin
// only; no inline script or style attribute, no plugin, no framing, no <base> rewriting.
constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

http_reply asset_reply(const web::asset& a) {
  http_reply reply{200, std::string(a.content_type), std::string(a.body), {}, {}};
  reply.headers.emplace_back("Content-Security-Policy", content_security_policy);
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  reply.headers.emplace_back("Referrer-Policy", "no-referrer");
  // Revalidate every time: a new binary serves new files at the same names.
  reply.headers.emplace_back("Cache-Control", "no-cache");
  return reply;
}

http_reply static_file(const http_request_view& req, std::string_view name) {
  if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
  const auto* a = web::find_asset(name);
  if (!a) return error_reply(404, "not found");
  return asset_reply(*a);
}

std::string new_call_sid() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char hex[] = "0123456789abcdef";
  std::string sid = "CA";
  for (const unsigned char b : bytes) {
    sid += hex[b >> 4];
    sid += hex[b & 15];
  }
  return sid;
}

// Where the browser opens the stream: the origin it used for this request. Not PUBLIC_URL, which
// names the address Twilio reaches; and plain ws:// unless a trusted proxy says the browser used TLS
// (mediabridge itself listens without TLS).
std::optional<std::string> browser_stream_url(const server_context& ctx, const http_request_view& req) {
  const bool trusted = is_trusted_proxy(ctx.settings, req.peer_address);
  const protocol::request_origin origin =
      trusted ? protocol::request_origin{req.header("Host"), req.header("X-Forwarded-Proto"),
                                         req.header("X-Forwarded-Host"), true}
              // Untrusted: the Host header as received, over plain http.
              : protocol::request_origin{req.header("Host"), "http", {}, true};
  const auto base = protocol::public_base_url({}, origin);
  if (!base) return std::nullopt;
  return protocol::websocket_url(*base, routing::softphone_stream_path);
}

http_reply create_softphone_call(server_context& ctx, const http_request_view& req) {
  if (req.method != "POST") return method_not_allowed("POST");
  if (auto refusal = check_api_access(ctx, req)) return std::move(*refusal);
  // The same admission rules as the voice webhook, which answers fallback TwiML instead.
  if (ctx.draining.load(std::memory_order_relaxed)) return error_reply(503, "the server is shutting down");
  const auto url = browser_stream_url(ctx, req);
  if (!url) return error_reply(400, "missing or malformed Host header");
  const auto call_sid = new_call_sid();
  // A fresh random CallSid is never live: only a full house refuses it.
  if (ctx.registry.reserve(call_sid, ctx.tokens.ttl()) != admission::reserve_result::reserved)
    return error_reply(503, "at MAX_CONCURRENT_CALLS");
  spdlog::info("softphone: call {} created for {}", call_sid, req.peer_address);
  auto reply = json_reply(201, {{"call_sid", call_sid}, {"stream_url", *url}, {"stream_token", ctx.tokens.issue(call_sid)}});
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

}  // namespace

std::optional<http_reply> check_softphone_upgrade(const server_context& ctx, const http_request_view& req) {
  if (auto refusal = check_api_access(ctx, req)) return refusal;
  const auto origin = req.header("Origin");
  if (origin.empty()) return std::nullopt;  // not a browser: the credential is all there is to check
  const protocol::request_origin target{req.header("Host"), req.header("X-Forwarded-Proto"),
                                        req.header("X-Forwarded-Host"), is_trusted_proxy(ctx.settings, req.peer_address)};
  if (protocol::is_same_origin(origin, target)) return std::nullopt;
  bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                        "softphone: refused a stream upgrade from {}: its Origin is not this server's", req.peer_address);
  return error_reply(403, "the softphone stream must be opened from this server's own pages");
}

std::optional<http_reply> handle_dashboard(server_context& ctx, const http_request_view& req) {
  const auto path = req.path();
  if (path == "/") return static_file(req, "index.html");
  if (path.starts_with(static_prefix)) return static_file(req, path.substr(static_prefix.size()));
  if (path == softphone_calls_path) return create_softphone_call(ctx, req);
  return std::nullopt;
}

}  // namespace mb::server
