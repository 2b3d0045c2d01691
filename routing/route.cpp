#include "routing/route.hpp"

#include <utility>

#include "protocol/twilio_messages.hpp"

namespace mb::routing {
namespace {

constexpr std::string_view calls_prefix = "/v1/calls";
constexpr std::pair<std::string_view, api_target::kind> call_subresources[] = {
    {"/events", api_target::kind::events},
    {"/hangup", api_target::kind::hang_up},
    {"/transfer", api_target::kind::transfer},
    {"/messages", api_target::kind::message},
};

}  // namespace

std::optional<api_target> parse_api_target(std::string_view path) {
  if (path == "/v1/events") return api_target{api_target::kind::events, {}};
  if (path == calls_prefix) return api_target{api_target::kind::calls, {}};
  if (path == "/v1/agents") return api_target{api_target::kind::agents, {}};
  if (!path.starts_with(calls_prefix) || path.size() <= calls_prefix.size() + 1 || path[calls_prefix.size()] != '/')
    return std::nullopt;
  auto rest = path.substr(calls_prefix.size() + 1);
  auto kind = api_target::kind::call;
  for (const auto& [suffix, sub] : call_subresources)
    if (rest.ends_with(suffix)) {
      rest.remove_suffix(suffix.size());
      kind = sub;
      break;
    }
  if (!protocol::is_safe_sid(rest)) return std::nullopt;
  return api_target{kind, std::string(rest)};
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
