#include "protocol/openai_sip.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "log/escape.hpp"
#include "protocol/live_events.hpp"
#include "protocol/realtime_events.hpp"

namespace mb::protocol {
namespace {

namespace json = boost::json;

constexpr std::string_view realtime_incoming = "realtime.call.incoming";
constexpr std::string_view live_incoming = "live.transport.incoming";
constexpr std::string_view deprecated_live_incoming = "live.call.incoming";
// An event's id and type are logged; OpenAI's are short.
constexpr std::size_t max_event_field_bytes = 128;
constexpr std::size_t max_error_body_bytes = 64 * 1024;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

bool printable_without_space(std::string_view text) noexcept {
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

const json::string* string_at(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? &value->as_string() : nullptr;
}

// sip_headers: absent is an empty list; anything else must be a bounded array of {name, value} strings.
bool read_sip_headers(const json::object& data, std::vector<sip_header>& out, std::string& error) {
  const auto* value = data.if_contains("sip_headers");
  if (!value || value->is_null()) return true;
  if (!value->is_array()) {
    error = "data.sip_headers is not an array";
    return false;
  }
  const auto& headers = value->as_array();
  if (headers.size() > max_sip_headers) {
    error = "data.sip_headers has more than " + std::to_string(max_sip_headers) + " headers";
    return false;
  }
  out.reserve(headers.size());
  for (const auto& entry : headers) {
    const auto* header = entry.if_object();
    const auto* name = header ? string_at(*header, "name") : nullptr;
    const auto* text = header ? string_at(*header, "value") : nullptr;
    if (!name || !text || name->empty()) {
      error = "data.sip_headers has an entry without a name and value";
      return false;
    }
    if (name->size() > max_sip_header_bytes || text->size() > max_sip_header_bytes) {
      error = "data.sip_headers has a header over " + std::to_string(max_sip_header_bytes) + " bytes";
      return false;
    }
    out.push_back({std::string(*name), std::string(*text)});
  }
  return true;
}

// The incoming call of one of the three event types (`type` already matched), or nullopt with `error`.
std::optional<incoming_sip_call> read_incoming(const json::object& root, std::string_view type, sip_runtime runtime,
                                               const json::object& data, std::string& error) {
  incoming_sip_call call;
  call.event_type = std::string(type);
  call.runtime = runtime;
  const auto* id = string_at(root, "id");
  if (!id || id->empty() || id->size() > max_event_field_bytes || !printable_without_space(*id)) {
    error = "the event's id is missing or invalid";
    return std::nullopt;
  }
  call.event_id = std::string(*id);
  const json::string* call_id = nullptr;
  if (runtime == sip_runtime::realtime) {
    call_id = string_at(data, "call_id");
  } else {
    call_id = string_at(data, "session_id");
    if (!call_id && type == deprecated_live_incoming) call_id = string_at(data, "call_id");
  }
  if (!call_id) {
    error = runtime == sip_runtime::realtime ? "data.call_id is missing" : "data.session_id is missing";
    return std::nullopt;
  }
  if (!valid_sip_call_id(*call_id)) {
    error = "the call id is not 1-128 of [A-Za-z0-9_-]";
    return std::nullopt;
  }
  call.call_id = std::string(*call_id);
  if (!read_sip_headers(data, call.sip_headers, error)) return std::nullopt;
  return call;
}

// A ws(s) URL's parts, or nullopt.
std::optional<boost::urls::url> websocket_url_of(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  boost::urls::url url(*parsed);
  if (url.scheme() != "ws" && url.scheme() != "wss") return std::nullopt;
  if (url.encoded_host().empty()) return std::nullopt;
  return url;
}

// OpenAI's error body: {"error":{"message":"…","type":"…","code":"…"}}; empty fields when absent.
struct openai_error {
  std::string code;
  std::string message;
};

openai_error openai_error_of(std::string_view body) {
  if (body.empty() || body.size() > max_error_body_bytes) return {};
  boost::system::error_code ec;
  const auto value = json::parse(body, ec);
  const auto* root = ec ? nullptr : value.if_object();
  const auto* error = root ? root->if_contains("error") : nullptr;
  const auto* fields = error ? error->if_object() : nullptr;
  if (!fields) return {};
  const auto* code = string_at(*fields, "code");
  const auto* message = string_at(*fields, "message");
  return {code ? std::string(*code) : std::string(), message ? std::string(*message) : std::string()};
}

}  // namespace

std::string_view to_string(sip_runtime r) noexcept { return r == sip_runtime::realtime ? "realtime" : "live"; }

std::optional<sip_webhook_event> parse_sip_webhook(std::string_view body, std::string& error) {
  if (body.size() > max_sip_webhook_bytes) {
    error = "webhook body over " + std::to_string(max_sip_webhook_bytes) + " bytes";
    return std::nullopt;
  }
  boost::system::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec) {
    error = "webhook body is not JSON";
    return std::nullopt;
  }
  const auto* root = value.if_object();
  if (!root) {
    error = "webhook body is not a JSON object";
    return std::nullopt;
  }
  if (const auto* object = root->if_contains("object"); object && !(object->is_string() && object->as_string() == "event")) {
    error = "webhook body is not an event (object is not \"event\")";
    return std::nullopt;
  }
  const auto* type = string_at(*root, "type");
  if (!type || type->empty() || type->size() > max_event_field_bytes || !printable_without_space(*type)) {
    error = "the event's type is missing or invalid";
    return std::nullopt;
  }
  sip_webhook_event event;
  event.type = std::string(*type);

  const bool realtime = *type == realtime_incoming;
  const bool live = *type == live_incoming || *type == deprecated_live_incoming;
  if (!realtime && !live) return event;
  const auto* data_value = root->if_contains("data");
  const auto* data = data_value ? data_value->if_object() : nullptr;
  if (!data) {
    error = "data is missing or not an object";
    return std::nullopt;
  }
  // live.transport.incoming announces every transport; only "sip" is a phone call. Without data.type
  // (as the deprecated event) it is taken as SIP.
  if (*type == live_incoming) {
    if (const auto* transport = data->if_contains("type"); transport && !(transport->is_string() && transport->as_string() == "sip"))
      return event;
  }
  auto incoming = read_incoming(*root, *type, realtime ? sip_runtime::realtime : sip_runtime::live, *data, error);
  if (!incoming) return std::nullopt;
  event.incoming = std::move(incoming);
  return event;
}

bool valid_sip_call_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string_view sip_header_value(const std::vector<sip_header>& headers, std::string_view name) {
  for (const auto& header : headers)
    if (iequals(header.name, name)) return header.value;
  return {};
}

std::string sip_user_of(std::string_view header_value) {
  if (header_value.size() > max_sip_header_bytes) return {};
  std::string_view text = trim(header_value);
  // name-addr: an optional display name (quoted, where '<' may appear) and the URI in <…>; addr-spec:
  // the bare URI, whose header parameters follow the first ';'.
  std::size_t search_from = 0;
  if (!text.empty() && text.front() == '"') {
    std::size_t i = 1;
    while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
    if (i >= text.size()) return {};
    search_from = i + 1;
  }
  if (const auto open = text.find('<', search_from); open != std::string_view::npos) {
    const auto close = text.find('>', open + 1);
    if (close == std::string_view::npos) return {};
    text = trim(text.substr(open + 1, close - open - 1));
  } else {
    if (search_from != 0) return {};
    text = text.substr(0, text.find(';'));
  }
  std::string_view user;
  if (istarts_with(text, "sip:") || istarts_with(text, "sips:")) {
    text.remove_prefix(text.find(':') + 1);
    const auto at = text.find('@');
    if (at == std::string_view::npos) return {};
    user = text.substr(0, at);
    user = user.substr(0, user.find(':'));  // a password
  } else if (istarts_with(text, "tel:")) {
    user = text.substr(4);
  } else {
    return {};
  }
  user = user.substr(0, user.find(';'));  // user or tel: parameters
  if (!printable_without_space(user)) return {};
  return std::string(user);
}

std::string sip_control_path(sip_runtime runtime, std::string_view call_id, sip_control_action action) {
  if (!valid_sip_call_id(call_id)) return {};
  constexpr std::string_view names[] = {"accept", "reject", "refer", "hangup"};
  std::string path = runtime == sip_runtime::realtime ? "/v1/realtime/calls/" : "/v1/live/sessions/";
  path.append(call_id).append("/").append(names[static_cast<int>(action)]);
  return path;
}

sip_control_request accept_request(sip_runtime runtime, std::string_view call_id, const session_config& session,
                                   std::string_view model) {
  sip_control_request request{sip_control_path(runtime, call_id, sip_control_action::accept), {}};
  if (request.path.empty()) return request;
  if (runtime == sip_runtime::realtime) {
    auto object = realtime_session(session, session_audio_format::negotiated);
    if (!model.empty()) object["model"] = model;
    request.body = json::serialize(object);
  } else {
    auto object = live_session(session, session_audio_format::negotiated);
    object["type"] = "live";
    if (!model.empty()) object["model"] = model;
    request.body = json::serialize(json::object{{"session", std::move(object)}});
  }
  return request;
}

sip_control_request reject_request(sip_runtime runtime, std::string_view call_id, int status_code) {
  if (status_code < 300 || status_code > 699) return {};
  sip_control_request request{sip_control_path(runtime, call_id, sip_control_action::reject), {}};
  if (!request.path.empty()) request.body = json::serialize(json::object{{"status_code", status_code}});
  return request;
}

sip_control_request refer_request(sip_runtime runtime, std::string_view call_id, std::string_view target_uri) {
  const bool scheme = istarts_with(target_uri, "tel:") || istarts_with(target_uri, "sip:") ||
                      istarts_with(target_uri, "sips:");
  const bool bounded = target_uri.size() > 5 && target_uri.size() <= max_sip_header_bytes;
  if (!scheme || !bounded || !printable_without_space(target_uri)) return {};
  sip_control_request request{sip_control_path(runtime, call_id, sip_control_action::refer), {}};
  if (!request.path.empty()) request.body = json::serialize(json::object{{"target_uri", target_uri}});
  return request;
}

sip_control_request hangup_request(sip_runtime runtime, std::string_view call_id) {
  return {sip_control_path(runtime, call_id, sip_control_action::hangup), {}};
}

std::optional<std::string> sip_control_base(std::string_view websocket_url) {
  const auto url = websocket_url_of(websocket_url);
  if (!url) return std::nullopt;
  std::string base = url->scheme() == "wss" ? "https://" : "http://";
  base.append(url->encoded_host_and_port());
  return base;
}

std::string sideband_url(sip_runtime runtime, std::string_view websocket_url, std::string_view call_id) {
  auto url = websocket_url_of(websocket_url);
  if (!url || !valid_sip_call_id(call_id)) return {};
  url->remove_query();
  url->remove_fragment();
  if (runtime == sip_runtime::realtime) {
    std::string text(url->buffer());
    return text.append("?call_id=").append(call_id);
  }
  std::string path(url->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.ends_with("/live")) path.append("/sessions");
  path.append("/").append(call_id).append("/attach");
  url->set_encoded_path(path);
  return std::string(url->buffer());
}

std::string sip_control_error_code(std::string_view body) { return openai_error_of(body).code; }

bool accept_retryable(int status, std::string_view body) noexcept {
  if (status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599)) return true;
  if (status != 404) return false;
  try {
    const auto code = sip_control_error_code(body);
    return code.empty() || code == "call_id_not_found";
  } catch (const std::bad_alloc&) {
    return true;  // the status alone says the call is not known (yet)
  }
}

retry_decision decide_accept_retry(const retry_policy& policy, const rest_attempt& last, int attempts_made) noexcept {
  if (succeeded(last) || attempts_made < 1 || attempts_made > policy.retries) return {};
  if (!accept_retryable(last.status, last.body)) return {};
  return {true, backoff_ms(policy, attempts_made, last.retry_after_ms)};
}

std::string describe_sip_control_failure(const rest_attempt& attempt) {
  if (attempt.status == 0)
    return log::escape_for_log(attempt.failure.empty() ? "no response" : attempt.failure, log::reason_bytes);
  std::string text = "HTTP " + std::to_string(attempt.status);
  const auto error = openai_error_of(attempt.body);
  if (!error.code.empty() || !error.message.empty()) {
    text += " (";
    text += log::escape_for_log(error.code, max_event_field_bytes);
    if (!error.code.empty() && !error.message.empty()) text += ": ";
    text += log::escape_for_log(error.message, log::reason_bytes);
    text += ")";
  }
  return text;
}

}  // namespace mb::protocol
