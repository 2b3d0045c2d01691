#include "simulator/client_secret_mint.hpp"

#include <cstdio>

#include <boost/json.hpp>

#include "protocol/bearer_token.hpp"

namespace mb::simulator {
namespace {

namespace json = boost::json;

constexpr std::int64_t default_ttl_s = 600;
constexpr std::int64_t min_ttl_s = 10;
constexpr std::int64_t max_ttl_s = 7200;

client_secret_reply refusal(client_secret_record record, unsigned status, std::string_view type,
                            std::string_view code, std::string_view message, std::string_view param) {
  record.status = status;
  json::value p = param.empty() ? json::value(nullptr) : json::value(param);
  return {status,
          json::serialize(json::object{
              {"error", {{"message", message}, {"type", type}, {"param", std::move(p)}, {"code", code}}}}),
          std::move(record)};
}

client_secret_reply bad_request(client_secret_record record, std::string_view message, std::string_view param) {
  return refusal(std::move(record), 400, "invalid_request_error", "invalid_value", message, param);
}

}  // namespace

bool is_client_secrets_target(std::string_view target) {
  return target.substr(0, target.find('?')) == "/v1/realtime/client_secrets";
}

client_secret_reply mint_client_secret(const client_secret_rules& rules, std::string_view authorization,
                                       std::string_view body, std::int64_t now_s, std::uint64_t serial,
                                       std::uint64_t entropy) {
  client_secret_record record;
  record.body = body;
  const auto key = protocol::presented_token(authorization, {});
  record.key_matched = !key.empty() && (rules.api_key.empty() || protocol::token_matches(key, rules.api_key));
  if (!record.key_matched)
    return refusal(std::move(record), 401, "invalid_request_error", "invalid_api_key",
                   "Incorrect API key provided: " + key + ".", "");
  if (rules.failure_status != 0)
    return refusal(std::move(record), rules.failure_status, "server_error", "simulated_failure",
                   "The simulator was told to refuse client secrets.", "");
  json::error_code ec;
  auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return bad_request(std::move(record), "The body must be a JSON object.", "");
  auto& request = value.as_object();
  std::int64_t ttl_s = default_ttl_s;
  if (const auto* expires = request.if_contains("expires_after")) {
    const auto* object = expires->if_object();
    const auto* anchor = object ? object->if_contains("anchor") : nullptr;
    const auto* seconds = object ? object->if_contains("seconds") : nullptr;
    if (!anchor || !(*anchor == "created_at"))
      return bad_request(std::move(record), "expires_after.anchor must be 'created_at'.", "expires_after.anchor");
    if (seconds) {
      if (!seconds->is_int64() || seconds->as_int64() < min_ttl_s || seconds->as_int64() > max_ttl_s)
        return bad_request(std::move(record), "expires_after.seconds must be an integer from 10 to 7200.",
                           "expires_after.seconds");
      ttl_s = seconds->as_int64();
    }
  }
  json::object session{{"type", "realtime"}};
  if (const auto* given = request.if_contains("session")) {
    const auto* type = given->is_object() ? given->as_object().if_contains("type") : nullptr;
    if (!type || !(*type == "realtime"))
      return bad_request(std::move(record), "session.type must be 'realtime'.", "session.type");
    session = given->as_object();
  }
  session["object"] = "realtime.session";
  // Without fmt: unit_tests compiles this file and links no fmt.
  char minted[64];
  std::snprintf(minted, sizeof minted, "ek_sim%llu_%016llx", static_cast<unsigned long long>(serial),
                static_cast<unsigned long long>(entropy));
  record.value = minted;
  record.expires_at = now_s + ttl_s;
  record.status = 200;
  std::string answer = json::serialize(
      json::object{{"value", record.value}, {"expires_at", record.expires_at}, {"session", std::move(session)}});
  return {200, std::move(answer), std::move(record)};
}

}  // namespace mb::simulator
