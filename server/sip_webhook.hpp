#pragma once
// POST /openai/webhook: OpenAI's incoming-call webhooks for SIP-mode profiles (docs/protocols.md J5,
// docs/security.md "OpenAI's webhooks"). The signature is checked before anything else happens; a
// valid delivery is answered at once with {"status": "accepted"|"rejected"|"ignored"|"duplicate"},
// and the accept (bridge::start_sip_call) or the reject at OpenAI's control plane runs after the reply.
//
// @par Thread safety
// handle() may run on any HTTP thread: the ids it remembers are kept under a mutex.

#include <cstdint>
#include <mutex>
#include <string>

#include "agents/settings_profile.hpp"
#include "net/asio.hpp"
#include "server/routes.hpp"
#include "sip/replay_guard.hpp"

namespace mb::server {

class sip_webhook {
 public:
  // `key`: protocol::standard_webhook_key(OPENAI_WEBHOOK_SECRET). `endpoints`: where each provider is
  // reached, as for Media Streams calls (resolve_call): the control plane and the sideband derive from
  // the provider's URL.
  sip_webhook(std::string key, agents::provider_endpoints endpoints);

  // Answers one request; `ex` runs what follows the reply (the call, or the reject).
  http_reply handle(server_context& ctx, const http_request_view& request, const asio::any_io_executor& ex);

 private:
  std::string key_;
  agents::provider_endpoints endpoints_;
  std::mutex mutex_;
  sip::replay_guard deliveries_;  // webhook-ids
  sip::replay_guard calls_;       // call ids accepted or rejected: one call raises two events
};

// The endpoint: 405 for anything but POST, 503 without OPENAI_WEBHOOK_SECRET (ctx.openai_webhook
// null), else sip_webhook::handle.
http_reply handle_openai_webhook(server_context& ctx, const http_request_view& request,
                                 const asio::any_io_executor& ex);

}  // namespace mb::server
