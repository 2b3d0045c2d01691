#include "routing/route.hpp"

#include <algorithm>

#include "protocol/twilio_messages.hpp"

namespace mb::routing {
namespace {

constexpr std::string_view calls_prefix = "/v1/calls";
constexpr std::string_view campaigns_prefix = "/v1/campaigns";

std::optional<api_target> parse_campaign_target(std::string_view path) {
  if (path == campaigns_prefix) return api_target{api_target::kind::campaigns, {}, {}};
  if (!path.starts_with(campaigns_prefix) || path.size() <= campaigns_prefix.size() + 1 ||
      path[campaigns_prefix.size()] != '/')
    return std::nullopt;
  auto rest = path.substr(campaigns_prefix.size() + 1);
  auto kind = api_target::kind::campaign;
  if (constexpr std::string_view cancel = "/cancel"; rest.ends_with(cancel)) {
    rest.remove_suffix(cancel.size());
    kind = api_target::kind::campaign_cancel;
  }
  if (!valid_campaign_id(rest)) return std::nullopt;
  return api_target{kind, {}, std::string(rest)};
}

}  // namespace

bool valid_campaign_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

std::optional<api_target> parse_api_target(std::string_view path) {
  if (path == "/v1/events") return api_target{api_target::kind::events, {}, {}};
  if (path.starts_with(campaigns_prefix)) return parse_campaign_target(path);
  if (path == calls_prefix) return api_target{api_target::kind::calls, {}, {}};
  if (!path.starts_with(calls_prefix) || path.size() <= calls_prefix.size() + 1 || path[calls_prefix.size()] != '/')
    return std::nullopt;
  auto rest = path.substr(calls_prefix.size() + 1);
  auto kind = api_target::kind::call;
  if (constexpr std::string_view events = "/events"; rest.ends_with(events)) {
    rest.remove_suffix(events.size());
    kind = api_target::kind::events;
  }
  if (!protocol::is_safe_sid(rest)) return std::nullopt;
  return api_target{kind, std::string(rest), {}};
}

route route_request(const request_line& request, bool live_events) {
  if (auto api = parse_api_target(request.path)) {
    if (api->what == api_target::kind::events && live_events) {
      if (request.websocket_upgrade) return listener_websocket{std::move(api->call_sid)};
      if (request.method == "GET") return listener_sse{std::move(api->call_sid)};
    }
    return api_request{std::move(*api)};
  }
  if (request.path == media_stream_path) {
    if (request.websocket_upgrade) return media_stream{};
    return upgrade_required{};
  }
  if (request.path == softphone_stream_path) {
    if (request.websocket_upgrade) return softphone_stream{};
    return upgrade_required{};
  }
  if (request.websocket_upgrade) return unknown_upgrade{};
  return plain_http{};
}

}  // namespace mb::routing
