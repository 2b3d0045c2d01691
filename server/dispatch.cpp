#include "server/dispatch.hpp"

#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"
#include "metrics/bridge_metrics.hpp"
#include "server/api.hpp"
#include "server/dashboard.hpp"

namespace mb::server {
namespace {

void count_refusal(const server_context& ctx, metrics::stream_refusal why) {
  if (ctx.bridge.metrics) ctx.bridge.metrics->streams_refused(why).inc();
}

// The path only: query strings may carry tokens.
void log_request(const http_request_view& req) {
  spdlog::debug("http {} {} from {}", req.method, req.path(), req.peer_address);
}

// Refused or admitted as a pending stream; `refusal` is the credential check's answer.
connection_step open_call_stream(server_context& ctx, const http_request_view& req, std::optional<http_reply> refusal,
                                 std::optional<std::size_t> worker = std::nullopt) {
  if (refusal) {
    count_refusal(ctx, metrics::stream_refusal::unauthorized);
    return step::reply{std::move(*refusal), true};
  }
  // Streams without an authorised start yet are bounded apart from calls: they hold no call slot.
  auto pending = ctx.registry.open_pending();
  if (!pending) {
    count_refusal(ctx, metrics::stream_refusal::too_many_pending);
    bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                          "media stream upgrade from {} refused: {} streams are waiting for their start "
                          "(MAX_PENDING_STREAMS)",
                          req.peer_address, ctx.settings.max_pending_streams);
    return step::reply{error_reply(503, "too many streams waiting for their start"), true};
  }
  return step::call_stream{std::move(*pending), worker};
}

// The listener and history API: the credential first, for every route under /v1.
template <class Route>
connection_step api_step(server_context& ctx, const http_request_view& req, Route&& route) {
  log_request(req);
  if (auto refusal = check_api_access(ctx, req)) return step::reply{std::move(*refusal), true};
  return std::forward<Route>(route);
}

}  // namespace

connection_step dispatch(server_context& ctx, const http_request_view& req, routing::route route) {
  if (auto* api = std::get_if<routing::api_request>(&route)) return api_step(ctx, req, std::move(*api));
  if (auto* ws = std::get_if<routing::listener_websocket>(&route)) return api_step(ctx, req, std::move(*ws));
  if (auto* sse = std::get_if<routing::listener_sse>(&route)) return api_step(ctx, req, std::move(*sse));
  if (const auto* stream = std::get_if<routing::media_stream>(&route))
    return open_call_stream(ctx, req, check_stream_upgrade(ctx, req), stream->worker);
  // A browser cannot sign its upgrade: it presents the dashboard's credential instead.
  if (std::holds_alternative<routing::softphone_stream>(route))
    return open_call_stream(ctx, req, check_softphone_upgrade(ctx, req));
  if (std::holds_alternative<routing::unknown_upgrade>(route)) return step::reply{error_reply(404, "not found"), true};
  log_request(req);
  if (std::holds_alternative<routing::openai_webhook>(route)) return step::openai_webhook{};
  if (std::holds_alternative<routing::upgrade_required>(route))
    return step::reply{error_reply(426, "this endpoint expects a WebSocket upgrade")};
  return step::reply{handle_request(ctx, req)};
}

}  // namespace mb::server
