#pragma once
// POST /v1/realtime/client_secrets (docs/client-secrets.md): mints a short-lived OpenAI client secret for
// an agent profile, so that a browser or app can open its own Realtime session with the profile's
// configuration. The API key is only the Bearer of the upstream request (docs/protocols.md K1): the
// client gets the secret's value, its expiry, the agent and the model. Authorised by check_api_access
// like every /v1 route before it gets here; then rate-limited per client address.
//
// @par Thread Safety
// mint() may run on any HTTP thread: the per-client buckets are kept under a mutex; the upstream
// request runs on the caller's executor.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>

#include "agents/settings_profile.hpp"
#include "config/settings.hpp"
#include "limits/keyed_rate_limiter.hpp"
#include "net/asio.hpp"
#include "server/routes.hpp"

namespace mb::net {
class tls_client_context;
}

namespace mb::server {

struct client_secret_options {
  int ttl_s = 600;                 // CLIENT_SECRET_TTL_S: expires_after.seconds
  int per_minute = 10;             // CLIENT_SECRET_PER_MINUTE, per client address
  std::size_t max_clients = 4096;  // client addresses whose buckets are remembered (least recently used forgotten)
  int timeout_ms = 10000;          // per upstream attempt; running out answers 504
};

[[nodiscard]] client_secret_options client_secret_options_from(const config::settings& settings);

class client_secret_service {
 public:
  // `endpoints`: where each provider is reached, as for calls (in demo mode, the simulator).
  client_secret_service(client_secret_options options, agents::provider_endpoints endpoints,
                        std::shared_ptr<net::tls_client_context> tls);

  // 200 {"value","expires_at","agent","model"}; 400 for a bad body or a profile that is not
  // openai-realtime, 404 for an unknown profile, 429 with Retry-After over the client's rate, 502 when
  // OpenAI refuses or answers nonsense, 504 when it does not answer in time, 503 without profiles.
  net::awaitable<http_reply> mint(server_context& ctx, const http_request_view& request);

 private:
  // The 429 when the client has used its rate; nullopt after spending one of its tokens.
  std::optional<http_reply> over_rate(const server_context& ctx, const http_request_view& request);

  client_secret_options options_;
  agents::provider_endpoints endpoints_;
  std::shared_ptr<net::tls_client_context> tls_;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  limits::keyed_rate_limiter clients_;  // guarded by mutex_
};

}  // namespace mb::server
