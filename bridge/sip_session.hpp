#pragma once
// One SIP-mode call (docs/sip.md): OpenAI takes the call's audio itself; this server accepts the call
// at OpenAI's control plane and watches and steers it over the sideband WebSocket, publishing what it
// sees through the same events, history and metrics as a Media Streams call.

#include <string>
#include <utility>
#include <vector>

#include "bridge/call_session.hpp"
#include "telephony/openai_calls.hpp"

namespace mb::bridge {

// What the webhook decided for one incoming call (server/sip_webhook).
struct sip_call_setup {
  telephony::openai_call_target control;  // the call at OpenAI's control plane
  std::string accept_body;                // protocol::accept_request(...).body: the profile's session
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;  // or openai_live
  std::string sideband_url;               // protocol::sideband_url
  std::vector<std::pair<std::string, std::string>> sideband_headers;  // the credential: never logged
  // call_sid: Twilio's CallSid when mediabridge's <Dial><Sip> placed the call (its token checked),
  // else OpenAI's call id; stream_sid: OpenAI's call id; from/to: the SIP From and To users.
  call_identity identity;
  std::string agent;
  std::vector<std::pair<std::string, std::string>> parameters;  // published in call.started (variables)
  std::string greeting;  // rendered; empty: wait for the caller
  call::call_tools_config tools;
};

enum class sip_admission { admitted, full, already_live };

// Takes the call's slot (MAX_CONCURRENT_CALLS, one live call per call_sid) and, when admitted, runs it
// on `ex`: accept (retried within bounds), then the sideband, reconnected when it drops, until the
// call ends. Nothing is published before the accept succeeds. ctx.openai_calls must be set. Never throws.
sip_admission start_sip_call(sip_call_setup setup, const bridge_context& ctx, asio::any_io_executor ex);

}  // namespace mb::bridge
