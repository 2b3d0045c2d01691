#include "server/routes.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <strings.h>

#include "protocol/form.hpp"
#include "protocol/public_url.hpp"
#include "twiml/twiml.hpp"

namespace mb::server {
namespace {

http_reply json_reply(int status, const boost::json::object& body) {
  return http_reply{status, "application/json", boost::json::serialize(body), {}};
}

http_reply error_reply(int status, std::string_view message) {
  return json_reply(status, {{"error", message}});
}

http_reply method_not_allowed(std::string_view allow) {
  auto reply = error_reply(405, "method not allowed");
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

// The call's identity travels as <Parameter>s: Twilio drops query strings from the stream URL.
constexpr std::string_view forwarded_fields[] = {"CallSid", "AccountSid", "From", "To", "Direction"};

http_reply voice_webhook(server_context& ctx, const http_request_view& req) {
  const bool post = req.method == "POST";
  const auto fields = protocol::parse_form(post ? req.body : req.query());
  if (!fields) return error_reply(400, "malformed form body");
  const auto call_sid = protocol::form_value(*fields, "CallSid");

  if (ctx.draining.load(std::memory_order_relaxed)) {
    spdlog::info("webhook: call {} answered with fallback TwiML: draining", call_sid);
    return http_reply{200, "text/xml", twiml::render_fallback({ctx.settings.fallback_say, ctx.settings.fallback_dial}), {}};
  }

  const protocol::request_origin origin{req.header("Host"), req.header("X-Forwarded-Proto"),
                                        req.header("X-Forwarded-Host"),
                                        is_trusted_proxy(ctx.settings, req.peer_address)};
  const auto base = protocol::public_base_url(ctx.settings.public_url, origin);
  if (!base) return error_reply(400, "missing or malformed Host header");

  twiml::connect_stream stream;
  stream.say = ctx.settings.webhook_say;
  stream.stream_url = protocol::websocket_url(*base, "/media-stream");
  for (const auto name : forwarded_fields)
    if (const auto v = protocol::form_value(*fields, name); !v.empty()) stream.parameters.push_back({std::string(name), std::string(v)});
  spdlog::info("webhook: call {} connected to {}", call_sid, stream.stream_url);
  return http_reply{200, "text/xml", twiml::render_connect(stream), {}};
}

}  // namespace

std::string_view http_request_view::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

bool is_trusted_proxy(const config::settings& settings, std::string_view peer_address) {
  for (const auto& net : settings.trusted_proxies)
    if (net.contains(peer_address)) return true;
  return false;
}

http_reply handle_request(server_context& ctx, const http_request_view& req) {
  const auto path = req.path();
  if (path == "/voice" || path == "/voice/") {
    if (req.method != "POST" && req.method != "GET") return method_not_allowed("GET, POST");
    return voice_webhook(ctx, req);
  }
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return json_reply(200, {{"status", "ok"},
                            {"version", version},
                            {"active_calls", ctx.registry.active()}});
  }
  if (path == "/readyz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    const bool draining = ctx.draining.load(std::memory_order_relaxed);
    return json_reply(draining ? 503 : 200, {{"ready", !draining}, {"draining", draining}});
  }
  if (path == "/media-stream") return error_reply(426, "this endpoint expects a WebSocket upgrade");
  return error_reply(404, "not found");
}

}  // namespace mb::server
