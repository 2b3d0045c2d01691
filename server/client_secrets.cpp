#include "server/client_secrets.hpp"

#include <algorithm>
#include <variant>

#include <spdlog/spdlog.h>

#include "agents/agent_profile.hpp"
#include "bridge/peer_log.hpp"
#include "log/escape.hpp"
#include "protocol/client_secret.hpp"
#include "protocol/openai_sip.hpp"
#include "server/agent_setup.hpp"
#include "telephony/rest_post.hpp"

namespace mb::server {
namespace {

constexpr std::int64_t minute_ms = 60 * 1000;
// Stands where a call's SID goes in the warnings about template variables left empty.
constexpr std::string_view log_subject = "(client secret)";

// The address a client's requests are counted under: a trusted proxy's X-Forwarded-For entry for the
// client, else the TCP peer.
std::string_view client_address(const server_context& ctx, const http_request_view& req) {
  if (is_trusted_proxy(ctx.settings, req.peer_address))
    if (const auto forwarded = protocol::last_forwarded_address(req.header("X-Forwarded-For"))) return *forwarded;
  return req.peer_address;
}

// OpenAI's client_secrets endpoint on the host of the profile's Realtime URL (wss://api.openai.com/…
// gives https://api.openai.com/v1/realtime/client_secrets; the simulator's ws:// gives http://).
std::optional<std::string> upstream_url(const agents::upstream_target& target) {
  auto base = protocol::sip_control_base(target.url);
  if (!base) return std::nullopt;
  return *base + std::string(protocol::client_secrets_path);
}

}  // namespace

client_secret_options client_secret_options_from(const config::settings& settings) {
  client_secret_options options;
  options.ttl_s = settings.client_secret_ttl_s;
  options.per_minute = settings.client_secret_per_minute;
  return options;
}

client_secret_service::client_secret_service(client_secret_options options, agents::provider_endpoints endpoints,
                                             std::shared_ptr<net::tls_client_context> tls)
    : options_(options),
      endpoints_(std::move(endpoints)),
      tls_(std::move(tls)),
      clients_(limits::rate{.burst = static_cast<std::uint32_t>(std::max(options.per_minute, 1)),
                            .refill_interval_ms = minute_ms / std::max(options.per_minute, 1)},
               options.max_clients) {}

std::optional<http_reply> client_secret_service::over_rate(const server_context& ctx, const http_request_view& req) {
  const auto address = client_address(ctx, req);
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count();
  limits::rate_verdict verdict;
  {
    std::lock_guard lock(mutex_);
    verdict = clients_.take(address, now_ms);
  }
  if (verdict.allowed) return std::nullopt;
  const auto retry_after_s = verdict.retry_after_ms < 0 ? minute_ms / 1000 : (verdict.retry_after_ms + 999) / 1000;
  bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                        "client secrets: refused a mint for {}: over CLIENT_SECRET_PER_MINUTE={}", address,
                        options_.per_minute);
  auto reply = error_reply(429, "too many client secrets for this client: at most " +
                                    std::to_string(options_.per_minute) + " a minute");
  reply.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(retry_after_s, 1)));
  return reply;
}

net::awaitable<http_reply> client_secret_service::mint(server_context& ctx, const http_request_view& req) {
  if (auto refused = over_rate(ctx, req)) co_return std::move(*refused);
  const auto parsed = protocol::parse_client_secret_request(req.body);
  if (const auto* problem = std::get_if<std::string>(&parsed)) co_return error_reply(400, *problem);
  const auto& requested = std::get<protocol::client_secret_request>(parsed).agent;
  if (!ctx.agents) co_return error_reply(503, "this server has no agent profiles");
  const auto* profile = agents::valid_profile_name(requested) || requested.empty()
                            ? ctx.agents->select(requested, {})
                            : nullptr;
  if (!profile) co_return error_reply(404, "no such agent profile");
  if (profile->provider != upstream::provider_kind::openai_realtime)
    co_return error_reply(400, "agent '" + profile->name + "' uses " + std::string(upstream::to_string(profile->provider)) +
                                   ": client secrets are minted for openai-realtime profiles only");

  const auto target = agents::upstream_for(*profile, endpoints_);
  const auto url = upstream_url(target);
  if (!url) co_return error_reply(502, "OPENAI_REALTIME_URL has no host to ask for a client secret");
  const std::string model = profile->model.empty() ? endpoints_.realtime_model : profile->model;
  const auto rendered = render_agent(*profile, {}, log_subject);
  telephony::rest_post_request post{*url, target.headers,
                                    protocol::client_secret_upstream_body(rendered.session, model, options_.ttl_s),
                                    options_.timeout_ms};
  post.headers.emplace_back("Content-Type", "application/json");
  post.headers.emplace_back("Accept", "application/json");
  // Named: g++ 12 destroys temporaries inside co_await expressions twice.
  telephony::retry_rule decide = &protocol::decide_client_secret_retry;
  const auto result = co_await telephony::post_with_retries(std::move(post), tls_, std::move(decide),
                                                            &protocol::describe_sip_control_failure);
  const auto& key = endpoints_.openai_api_key.reveal();
  if (!result.ok) {
    const auto detail = protocol::without_credentials(result.detail, key);
    bridge::log_peer_line(req.log_lines, spdlog::level::warn, "client secrets: agent '{}' for {}: OpenAI failed: {}",
                          profile->name, client_address(ctx, req), detail);
    if (result.timed_out)
      co_return error_reply(504, "OpenAI did not answer within " + std::to_string(options_.timeout_ms) + " ms");
    co_return error_reply(502, "OpenAI refused the client secret: " + detail);
  }
  const auto secret = protocol::parse_client_secret(result.body);
  if (!secret) {
    bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                          "client secrets: agent '{}': OpenAI's answer held no usable client secret", profile->name);
    co_return error_reply(502, "OpenAI's answer held no usable client secret");
  }
  bridge::log_peer_line(req.log_lines, spdlog::level::info,
                        "client secrets: minted one for agent '{}' ({}) for {}, expiring at {}", profile->name, model,
                        client_address(ctx, req), secret->expires_at);
  co_return json_reply(200, {{"value", secret->value},
                             {"expires_at", secret->expires_at},
                             {"agent", profile->name},
                             {"model", secret->model.empty() ? model : secret->model}});
}

}  // namespace mb::server
