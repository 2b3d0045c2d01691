#include "protocol/twilio_rest.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "log/escape.hpp"
#include "protocol/base64.hpp"

namespace mb::protocol {
namespace {

constexpr std::string_view api_prefix = "/2010-04-01/Accounts/";
constexpr std::size_t max_json_body_bytes = 64 * 1024;

bool lowercase_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::optional<boost::json::object> parse_object(std::string_view body) {
  if (body.empty() || body.size() > max_json_body_bytes) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string string_field(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (!value || !value->is_string()) return {};
  return std::string(value->as_string());
}

int int_field(const boost::json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (!value) return 0;
  if (value->is_int64()) return static_cast<int>(std::clamp<std::int64_t>(value->as_int64(), -1, 1'000'000'000));
  if (value->is_uint64()) return static_cast<int>(std::min<std::uint64_t>(value->as_uint64(), 1'000'000'000));
  return 0;
}

}  // namespace

bool valid_sid(std::string_view sid, std::string_view prefix) noexcept {
  return prefix.size() == 2 && sid.size() == 34 && sid.substr(0, 2) == prefix &&
         std::all_of(sid.begin() + 2, sid.end(), lowercase_hex);
}

std::optional<std::string> credentials_problem(const twilio_rest_credentials& credentials) {
  if (credentials.account_sid.empty()) return "TWILIO_ACCOUNT_SID is not set";
  if (!valid_account_sid(credentials.account_sid)) return "TWILIO_ACCOUNT_SID is not AC followed by 32 hex digits";
  if (credentials.username.empty() || credentials.username == credentials.account_sid) {
    if (credentials.password.empty()) return "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET) is not set";
    return std::nullopt;
  }
  if (!valid_api_key_sid(credentials.username)) return "TWILIO_API_KEY_SID is not SK followed by 32 hex digits";
  if (credentials.password.empty()) return "TWILIO_API_KEY_SECRET is not set";
  return std::nullopt;
}

std::string call_path(std::string_view account_sid, std::string_view call_sid) {
  if (!valid_account_sid(account_sid) || !valid_call_sid(call_sid)) return {};
  std::string path(api_prefix);
  path.append(account_sid).append("/Calls/").append(call_sid).append(".json");
  return path;
}

std::string calls_path(std::string_view account_sid) {
  if (!valid_account_sid(account_sid)) return {};
  std::string path(api_prefix);
  path.append(account_sid).append("/Calls.json");
  return path;
}

std::string basic_authorization(const twilio_rest_credentials& credentials) {
  const auto& username = credentials.username.empty() ? credentials.account_sid : credentials.username;
  return "Basic " + base64_encode(username + ":" + credentials.password);
}

std::optional<std::pair<std::string, std::string>> parse_basic_authorization(std::string_view value) {
  constexpr std::string_view scheme = "Basic ";
  if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme) return std::nullopt;
  auto decoded = base64_decode(value.substr(scheme.size()));
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

form_fields call_update_fields(const call_update_request& request) {
  if (request.what == call_update_request::kind::hang_up) return {{"Status", "completed"}};
  return {{"Twiml", request.twiml}};
}

form_fields outbound_call_fields(const outbound_call_request& request) {
  form_fields fields{{"To", request.to}, {"From", request.from}, {"Url", request.url}, {"Method", "POST"}};
  if (!request.status_callback.empty()) {
    fields.emplace_back("StatusCallback", request.status_callback);
    fields.emplace_back("StatusCallbackMethod", "POST");
    for (const char* event : {"initiated", "ringing", "answered", "completed"})
      fields.emplace_back("StatusCallbackEvent", event);
  }
  return fields;
}

std::optional<std::string> request_problem(const call_update_request& request) {
  if (!valid_call_sid(request.call_sid)) return "the call SID is not CA followed by 32 hex digits";
  if (request.what == call_update_request::kind::hang_up) return std::nullopt;
  if (request.twiml.empty()) return "a redirect needs TwiML";
  if (request.twiml.size() > max_twiml_bytes)
    return "the TwiML has " + std::to_string(request.twiml.size()) + " bytes (Twilio takes at most " +
           std::to_string(max_twiml_bytes) + ")";
  return std::nullopt;
}

std::optional<std::string> request_problem(const outbound_call_request& request) {
  constexpr std::size_t max_field_bytes = 2048;
  const std::pair<const char*, const std::string*> fields[] = {
      {"To", &request.to}, {"From", &request.from}, {"Url", &request.url}, {"StatusCallback", &request.status_callback}};
  for (const auto& [name, value] : fields) {
    if (value->empty() && value != &request.status_callback) return std::string(name) + " is empty";
    if (value->size() > max_field_bytes) return std::string(name) + " is longer than 2048 bytes";
    if (std::any_of(value->begin(), value->end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
      return std::string(name) + " holds control characters";
  }
  return std::nullopt;
}

bool idempotent(const call_update_request& request) noexcept {
  return request.what == call_update_request::kind::hang_up;
}

std::optional<call_resource> parse_call_resource(std::string_view body) {
  const auto object = parse_object(body);
  if (!object) return std::nullopt;
  call_resource resource{string_field(*object, "sid"), string_field(*object, "status")};
  if (!valid_call_sid(resource.sid)) return std::nullopt;
  return resource;
}

std::optional<rest_error> parse_rest_error(std::string_view body) {
  const auto object = parse_object(body);
  if (!object || !object->contains("code")) return std::nullopt;
  return rest_error{int_field(*object, "code"), string_field(*object, "message"), string_field(*object, "more_info"),
                    int_field(*object, "status")};
}

std::string describe_failure(const rest_attempt& attempt) {
  if (attempt.status == 0) return log::escape_for_log(attempt.failure.empty() ? "no response" : attempt.failure,
                                                      log::reason_bytes);
  std::string text = "HTTP " + std::to_string(attempt.status);
  if (const auto error = parse_rest_error(attempt.body)) {
    text += " (Twilio error " + std::to_string(error->code);
    if (!error->message.empty()) text += ": " + log::escape_for_log(error->message, log::reason_bytes);
    text += ")";
  }
  return text;
}

retry_decision decide_retry(const retry_policy& policy, const rest_attempt& last, bool idempotent,
                            int attempts_made) noexcept {
  if (succeeded(last) || attempts_made < 1 || attempts_made > policy.retries) return {};
  bool safe = false;
  if (last.status == 0)
    safe = !last.request_sent || idempotent;
  else if (last.status == 429 || last.status == 503)
    safe = true;
  else if (last.status >= 500)
    safe = idempotent;
  if (!safe) return {};
  return {true, backoff_ms(policy, attempts_made, last.retry_after_ms)};
}

}  // namespace mb::protocol
