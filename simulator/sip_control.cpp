#include "simulator/sip_control.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include "protocol/standard_webhook.hpp"

namespace mb::simulator {
namespace {

namespace json = boost::json;
using protocol::sip_runtime;

constexpr std::string_view realtime_calls_prefix = "/v1/realtime/calls/";
constexpr std::string_view live_sessions_prefix = "/v1/live/sessions/";

std::optional<sip_action> action_named(std::string_view name) {
  for (const sip_action a : {sip_action::accept, sip_action::reject, sip_action::refer, sip_action::hangup})
    if (to_string(a) == name) return a;
  return std::nullopt;
}

// "<id>/<rest>" after a prefix: the id (valid) and rest; nullopt otherwise.
std::optional<std::pair<std::string, std::string_view>> id_and_rest(std::string_view target, std::string_view prefix) {
  if (!target.starts_with(prefix)) return std::nullopt;
  const std::string_view tail = target.substr(prefix.size());
  const auto slash = tail.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view id = tail.substr(0, slash);
  if (!protocol::valid_sip_call_id(id)) return std::nullopt;
  return std::pair{std::string(id), tail.substr(slash + 1)};
}

}  // namespace

std::optional<sip_invite> parse_sip_invite_uri(std::string_view uri) {
  if (!uri.starts_with("sip:") && !uri.starts_with("sips:")) return std::nullopt;
  const auto question = uri.find('?');
  sip_invite invite{.uri = std::string(uri.substr(0, question)), .headers = {}};
  if (question == std::string_view::npos) return invite;
  // Boost 1.81's parse_query reads up to a NUL (protocol/form.cpp): give it a terminated copy.
  const std::string query(uri.substr(question + 1));
  const auto params = boost::urls::parse_query(query);
  if (!params) return std::nullopt;
  const boost::urls::encoding_opts sip_encoding{/*space_as_plus=*/false};
  for (const auto param : *params) {
    if (param.key.empty()) return std::nullopt;
    if (invite.headers.size() == protocol::max_sip_headers) return std::nullopt;
    protocol::sip_header header{param.key.decode(sip_encoding), param.value.decode(sip_encoding)};
    if (header.name.size() > protocol::max_sip_header_bytes || header.value.size() > protocol::max_sip_header_bytes)
      return std::nullopt;
    invite.headers.push_back(std::move(header));
  }
  return invite;
}

std::string incoming_webhook_body(std::string_view event_type, std::string_view event_id, std::string_view call_id,
                                  std::int64_t created_at, const std::vector<protocol::sip_header>& sip_headers) {
  json::array headers;
  headers.reserve(sip_headers.size());
  for (const auto& h : sip_headers) headers.push_back(json::object{{"name", h.name}, {"value", h.value}});
  json::object data;
  if (event_type == "realtime.call.incoming") {
    data["call_id"] = call_id;
  } else {
    if (event_type == "live.transport.incoming") data["type"] = "sip";
    data["session_id"] = call_id;
  }
  data["sip_headers"] = std::move(headers);
  return json::serialize(json::object{{"object", "event"},
                                      {"id", event_id},
                                      {"type", event_type},
                                      {"created_at", created_at},
                                      {"data", std::move(data)}});
}

std::vector<std::string_view> incoming_event_types(sip_event_set events) {
  constexpr std::string_view realtime = "realtime.call.incoming";
  constexpr std::string_view live = "live.transport.incoming";
  switch (events) {
    case sip_event_set::both: return {realtime, live};
    case sip_event_set::realtime_only: return {realtime};
    case sip_event_set::live_only: return {live};
    case sip_event_set::live_deprecated: return {"live.call.incoming"};
  }
  return {realtime, live};
}

std::vector<std::pair<std::string, std::string>> standard_webhook_headers_for(std::string_view secret,
                                                                              std::string_view webhook_id,
                                                                              std::int64_t timestamp,
                                                                              std::string_view body) {
  const auto key = protocol::standard_webhook_key(secret);
  if (!key) return {};
  const std::string stamp = std::to_string(timestamp);
  return {{std::string(protocol::standard_webhook_id_header), std::string(webhook_id)},
          {std::string(protocol::standard_webhook_timestamp_header), stamp},
          {std::string(protocol::standard_webhook_signature_header),
           protocol::sign_standard_webhook(*key, webhook_id, stamp, body)}};
}

std::string_view to_string(sip_action a) noexcept {
  switch (a) {
    case sip_action::accept: return "accept";
    case sip_action::reject: return "reject";
    case sip_action::refer: return "refer";
    case sip_action::hangup: return "hangup";
  }
  return "accept";
}

bool is_sip_http_target(std::string_view target) {
  return target == sim_sip_invite_path || target.starts_with(realtime_calls_prefix) ||
         target.starts_with(live_sessions_prefix);
}

std::optional<sip_control_target> parse_sip_control_target(std::string_view target) {
  if (target.find('?') != std::string_view::npos) return std::nullopt;
  for (const auto& [prefix, runtime] : {std::pair{realtime_calls_prefix, sip_runtime::realtime},
                                       std::pair{live_sessions_prefix, sip_runtime::live}}) {
    auto parts = id_and_rest(target, prefix);
    if (!parts) continue;
    const auto action = action_named(parts->second);
    if (!action) return std::nullopt;
    return sip_control_target{.runtime = runtime, .call_id = std::move(parts->first), .action = *action};
  }
  return std::nullopt;
}

std::optional<sip_sideband_target> parse_sip_sideband_target(std::string_view target) {
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (path == "/v1/realtime" && question != std::string_view::npos) {
    const std::string query(target.substr(question + 1));
    const auto params = boost::urls::parse_query(query);
    if (!params) return std::nullopt;
    for (const auto param : *params) {
      if (param.key != "call_id") continue;
      std::string id = param.value.decode();
      if (!protocol::valid_sip_call_id(id)) return std::nullopt;
      return sip_sideband_target{.runtime = sip_runtime::realtime, .call_id = std::move(id)};
    }
    return std::nullopt;
  }
  if (question != std::string_view::npos) return std::nullopt;
  auto parts = id_and_rest(path, live_sessions_prefix);
  if (!parts || parts->second != "attach") return std::nullopt;
  return sip_sideband_target{.runtime = sip_runtime::live, .call_id = std::move(parts->first)};
}

}  // namespace mb::simulator
