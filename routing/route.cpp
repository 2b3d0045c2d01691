#include "routing/route.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include "protocol/client_secret.hpp"
#include "protocol/twilio_messages.hpp"

namespace mb::routing {
namespace {

using subresource = std::pair<std::string_view, api_target::kind>;

constexpr std::string_view calls_prefix = "/v1/calls";
constexpr std::string_view campaigns_prefix = "/v1/campaigns";
constexpr subresource call_subresources[] = {
    {"/events", api_target::kind::events},
    {"/hangup", api_target::kind::hang_up},
    {"/transfer", api_target::kind::transfer},
    {"/messages", api_target::kind::message},
    {"/recording.wav", api_target::kind::recording_wav},
    {"/recording.jsonl", api_target::kind::recording_log},
};
constexpr subresource campaign_subresources[] = {{"/cancel", api_target::kind::campaign_cancel}};

// "<prefix>/<id>" or "<prefix>/<id><sub-resource>": the id, and the kind its sub-resource names
// (`member` without one).
struct member_path {
  std::string_view id;
  api_target::kind what;
};
std::optional<member_path> member_of(std::string_view path, std::string_view prefix,
                                     std::span<const subresource> subresources, api_target::kind member) {
  if (!path.starts_with(prefix) || path.size() <= prefix.size() + 1 || path[prefix.size()] != '/') return std::nullopt;
  member_path m{path.substr(prefix.size() + 1), member};
  for (const auto& [suffix, kind] : subresources)
    if (m.id.ends_with(suffix)) {
      m.id.remove_suffix(suffix.size());
      m.what = kind;
      break;
    }
  return m;
}

std::optional<api_target> parse_campaign_target(std::string_view path) {
  if (path == campaigns_prefix) return api_target{api_target::kind::campaigns, {}, {}};
  const auto m = member_of(path, campaigns_prefix, campaign_subresources, api_target::kind::campaign);
  if (!m || !valid_campaign_id(m->id)) return std::nullopt;
  return api_target{m->what, {}, std::string(m->id)};
}

}  // namespace

// /media-stream/<worker>: at most 4 digits (a worker per thread, and there are never that many).
std::optional<std::size_t> worker_of(std::string_view path) {
  if (!path.starts_with(media_stream_path) || path.size() <= media_stream_path.size() + 1 ||
      path[media_stream_path.size()] != '/')
    return std::nullopt;
  const auto digits = path.substr(media_stream_path.size() + 1);
  if (digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::size_t worker = 0;
  for (const char c : digits) worker = worker * 10 + static_cast<std::size_t>(c - '0');
  return worker;
}

bool valid_campaign_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

std::optional<api_target> parse_api_target(std::string_view path) {
  if (path == "/v1/events") return api_target{api_target::kind::events, {}, {}};
  if (path.starts_with(campaigns_prefix)) return parse_campaign_target(path);
  if (path == calls_prefix) return api_target{api_target::kind::calls, {}, {}};
  if (path == "/v1/agents") return api_target{api_target::kind::agents, {}, {}};
  if (path == "/v1/probes") return api_target{api_target::kind::probes, {}, {}};
  if (path == protocol::client_secrets_path) return api_target{api_target::kind::client_secrets, {}, {}};
  const auto m = member_of(path, calls_prefix, call_subresources, api_target::kind::call);
  if (!m || !protocol::is_safe_sid(m->id)) return std::nullopt;
  return api_target{m->what, std::string(m->id), {}};
}

std::string media_stream_path_for_worker(std::size_t worker) {
  return std::string(media_stream_path) + '/' + std::to_string(worker);
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
  if (const auto worker = worker_of(request.path)) {
    if (request.websocket_upgrade) return media_stream{worker};
    return upgrade_required{};
  }
  if (request.path == softphone_stream_path) {
    if (request.websocket_upgrade) return softphone_stream{};
    return upgrade_required{};
  }
  if (request.websocket_upgrade) return unknown_upgrade{};
  if (request.path == openai_webhook_path) return openai_webhook{};
  return plain_http{};
}

}  // namespace mb::routing
