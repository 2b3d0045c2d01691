#include "protocol/client_secret.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "protocol/realtime_events.hpp"

namespace mb::protocol {
namespace {

namespace json = boost::json;

constexpr std::size_t max_address_chars = 45;  // the longest IPv6 text, IPv4-mapped included

bool printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Keys, masked or not, are letters, digits, '-', '_' and '*'.
bool is_word_boundary(char c) {
  const bool key_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '*';
  return !key_char;
}

}  // namespace

std::variant<client_secret_request, std::string> parse_client_secret_request(std::string_view body) {
  if (body.size() > max_client_secret_request_bytes)
    return "the body must be at most " + std::to_string(max_client_secret_request_bytes) + " bytes";
  client_secret_request request;
  if (trimmed(body).empty()) return request;
  json::error_code ec;
  const auto value = json::parse(body, ec);  // rejects invalid UTF-8 too
  if (ec || !value.is_object()) return std::string(R"(the body must be a JSON object: {} or {"agent":"<profile>"})");
  for (const auto& [key, field] : value.as_object()) {
    if (key != "agent") return std::string(R"(the body may hold only "agent")");
    if (field.is_null()) continue;
    if (!field.is_string()) return std::string(R"("agent" must be a string: an agent profile's name)");
    if (field.as_string().size() > max_agent_name_bytes)
      return R"("agent" must be at most )" + std::to_string(max_agent_name_bytes) + " bytes";
    request.agent = field.as_string().c_str();
  }
  return request;
}

std::string client_secret_upstream_body(const session_config& session, std::string_view model, int ttl_s) {
  auto object = realtime_session(session, session_audio_format::negotiated);
  if (!model.empty()) object["model"] = model;
  return json::serialize(json::object{{"expires_after", {{"anchor", "created_at"}, {"seconds", ttl_s}}},
                                      {"session", std::move(object)}});
}

std::optional<client_secret> parse_client_secret(std::string_view body) {
  json::error_code ec;
  const auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& answer = value.as_object();
  const auto* secret = answer.if_contains("value");
  const auto* expires = answer.if_contains("expires_at");
  if (!secret || !secret->is_string() || !expires || !expires->is_int64()) return std::nullopt;
  const std::string_view text = secret->as_string();
  if (text.empty() || text.size() > max_client_secret_bytes || !printable_ascii(text)) return std::nullopt;
  if (expires->as_int64() <= 0) return std::nullopt;
  client_secret out{std::string(text), expires->as_int64(), {}};
  if (const auto* session = answer.if_contains("session"); session && session->is_object())
    if (const auto* model = session->as_object().if_contains("model"); model && model->is_string())
      out.model = model->as_string().c_str();
  return out;
}

retry_decision decide_client_secret_retry(const rest_attempt& last, int attempts_made) noexcept {
  constexpr retry_policy once{.retries = 1, .base_backoff_ms = 200, .max_backoff_ms = 1000};
  if (succeeded(last) || attempts_made < 1 || attempts_made > once.retries) return {};
  const bool transient = last.status == 0 ? !last.request_sent : last.status == 429 || last.status >= 500;
  if (!transient) return {};
  return {true, backoff_ms(once, attempts_made, last.retry_after_ms)};
}

std::string without_credentials(std::string_view text, std::string_view credential) {
  constexpr std::string_view mask = "***";
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!credential.empty() && text.substr(i).starts_with(credential)) {
      out += mask;
      i += credential.size();
      continue;
    }
    const bool word_start = i == 0 || is_word_boundary(text[i - 1]);
    if (word_start && text.substr(i).starts_with("sk-")) {
      out += mask;
      while (i < text.size() && !is_word_boundary(text[i])) ++i;
      continue;
    }
    out += text[i++];
  }
  return out;
}

std::optional<std::string_view> last_forwarded_address(std::string_view x_forwarded_for) {
  const auto comma = x_forwarded_for.rfind(',');
  const auto last = trimmed(comma == std::string_view::npos ? x_forwarded_for : x_forwarded_for.substr(comma + 1));
  if (last.empty() || last.size() > max_address_chars) return std::nullopt;
  const bool address_shaped = std::all_of(last.begin(), last.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
  });
  if (!address_shaped) return std::nullopt;
  return last;
}

}  // namespace mb::protocol
