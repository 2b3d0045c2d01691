#pragma once
// What the webhook endpoint does with one incoming-call event (docs/protocols.md J5): which agent
// profile takes the call, whether this event (Realtime's or GPT-Live's: one call raises both) is the
// one to act on, and the call's {{variables}}. The I/O part (server/sip_webhook) checks the token,
// keeps the call ids already handled, builds the call's setup and carries the decision out.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <string>
#include <string_view>

#include "agents/agent_profile.hpp"
#include "agents/prompt_template.hpp"
#include "protocol/openai_sip.hpp"

namespace mb::sip {

// X-Mb-Token against X-Mb-Call-Sid (server/stream_tokens, as for a Media Stream).
enum class token_status {
  absent,   // no X-Mb-Token: a trunk pointed straight at OpenAI, not mediabridge's <Dial><Sip>
  valid,    // issued by this server's /voice for that CallSid, not expired
  invalid,  // present but forged, expired, or for another CallSid
};

// At most this many X-Mb-Var-* headers are read (the rest are ignored), only those whose names the
// profile's templates use.
inline constexpr std::size_t max_sip_variables = 32;

enum class call_verdict {
  accept,  // start the call (bridge::start_sip_call); admission may still refuse it (486)
  reject,  // POST …/reject with reject_status
  ignore,  // the other runtime's event for the call: answered "ignored", nothing done
};

struct call_decision {
  call_verdict verdict = call_verdict::ignore;
  int reject_status = 0;                           // 403, 404 or 503 when rejected
  const agents::agent_profile* profile = nullptr;  // set for accept, and for a reject once a profile is chosen
  std::string call_sid;                            // Twilio's CallSid with a valid token, else OpenAI's call id
  std::string from;                                // the SIP From and To users (protocol::sip_user_of)
  std::string to;
  agents::variables variables;  // CallSid, From, To, then X-Mb-Var-* values (valid token only)
  std::string reason;           // why, for the log (no header values)
};

// The runtime a SIP-mode profile's provider accepts on: openai-realtime → realtime, openai-live → live.
[[nodiscard]] bool accepts_on(const agents::agent_profile& profile, protocol::sip_runtime runtime) noexcept;

// `call`: a verified incoming-call event; `token`: its X-Mb-Token checked against its X-Mb-Call-Sid.
// A valid token selects the X-Mb-Agent profile, which must be SIP-mode (else reject 404); an invalid
// one rejects 403; none selects the SIP-mode profile claiming the To user (else reject 404). Rejects
// without a profile act on whichever event comes first; otherwise only the profile's runtime's event
// acts, the other is ignored. Draining rejects 503.
[[nodiscard]] call_decision decide_call(const agents::agent_catalog& catalog, const protocol::incoming_sip_call& call,
                                        token_status token, bool draining);

}  // namespace mb::sip
