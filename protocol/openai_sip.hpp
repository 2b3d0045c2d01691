#pragma once
// OpenAI's SIP mode on the wire (docs/protocols.md J): the incoming-call webhooks, the control plane's
// requests (accept, reject, refer, hang up) for the Realtime API and GPT-Live, the sideband's URL, and
// the SIP headers mediabridge's <Dial><Sip> adds so that the webhook can find the call's agent profile
// and {{variables}}. Pure: the I/O client is telephony::openai_calls, the signature check
// protocol/standard_webhook.
//
// @par Thread Safety
// Pure functions and plain values.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/rest_retry.hpp"
#include "protocol/session_config.hpp"

namespace mb::protocol {

// Which of OpenAI's runtimes an event or request is about. One pending call raises an incoming event
// for each; the first accept of either decides which runtime takes the call (J2).
enum class sip_runtime { realtime, live };

[[nodiscard]] std::string_view to_string(sip_runtime r) noexcept;

struct sip_header {
  std::string name;
  std::string value;
};

// Bounds on what a webhook may carry; more is refused as malformed.
inline constexpr std::size_t max_sip_headers = 64;
inline constexpr std::size_t max_sip_header_bytes = 2048;  // name or value
inline constexpr std::size_t max_sip_webhook_bytes = 64 * 1024;

// realtime.call.incoming, live.transport.incoming or the deprecated live.call.incoming.
struct incoming_sip_call {
  std::string event_id;    // evt_…
  std::string event_type;  // as received
  sip_runtime runtime = sip_runtime::realtime;
  std::string call_id;     // the Realtime call_id, or GPT-Live's session_id (valid_sip_call_id)
  std::vector<sip_header> sip_headers;
};

// A verified webhook's body: an incoming call, or another event type (acknowledged and ignored).
struct sip_webhook_event {
  std::string type;
  std::optional<incoming_sip_call> incoming;  // set for the three incoming-call types
};

// nullopt with `error` (short, safe to log: no body text) when the body is not a webhook event, or an
// incoming call lacks its id or breaks the bounds above.
[[nodiscard]] std::optional<sip_webhook_event> parse_sip_webhook(std::string_view body, std::string& error);

// Call ids go into request paths and URLs: 1-128 of [A-Za-z0-9_-].
[[nodiscard]] bool valid_sip_call_id(std::string_view id) noexcept;

// The headers mediabridge's <Dial><Sip> adds (docs/sip.md): the profile, Twilio's CallSid, a token
// binding both (server/stream_tokens, as for Media Streams) and each {{variable}}.
inline constexpr std::string_view sip_agent_header = "X-Mb-Agent";
inline constexpr std::string_view sip_call_sid_header = "X-Mb-Call-Sid";
inline constexpr std::string_view sip_token_header = "X-Mb-Token";
inline constexpr std::string_view sip_variable_header_prefix = "X-Mb-Var-";

// The value of the first header called `name` (case-insensitive); "" when absent.
[[nodiscard]] std::string_view sip_header_value(const std::vector<sip_header>& headers, std::string_view name);
// The user part of a From or To value: "<sip:+15551230000@host>;tag=x" → "+15551230000"; "" when none.
[[nodiscard]] std::string sip_user_of(std::string_view header_value);

// One control-plane request: POST <base><path> with a JSON body (empty: no body). A builder given an
// invalid call id (or, for reject and refer, an invalid status or target) returns an empty path:
// nothing is built from what a peer could have chosen, and the client refuses to send it.
struct sip_control_request {
  std::string path;
  std::string body;
};

enum class sip_control_action { accept, reject, refer, hangup };
// "/v1/realtime/calls/<id>/<action>" or "/v1/live/sessions/<id>/<action>"; "" for an invalid call id.
[[nodiscard]] std::string sip_control_path(sip_runtime runtime, std::string_view call_id, sip_control_action action);

// Accept with the session's configuration (J2): Realtime {"type":"realtime","model",…}, GPT-Live
// {"session":{"type":"live","model",…}}; no audio format (SIP negotiates its own). `model`: the profile's.
[[nodiscard]] sip_control_request accept_request(sip_runtime runtime, std::string_view call_id,
                                                 const session_config& session, std::string_view model);
// `status_code` 300-699 (486 busy, 503 unavailable, 404 not found, 403 forbidden), always sent: GPT-Live
// requires it, the Realtime API would otherwise answer 603.
[[nodiscard]] sip_control_request reject_request(sip_runtime runtime, std::string_view call_id, int status_code);
// `target_uri`: tel:+… or sip:…/sips:… (the Refer-To), at most max_sip_header_bytes, no spaces or
// control characters.
[[nodiscard]] sip_control_request refer_request(sip_runtime runtime, std::string_view call_id,
                                                std::string_view target_uri);
[[nodiscard]] sip_control_request hangup_request(sip_runtime runtime, std::string_view call_id);

// The control plane's base URL (https://host[:port]) from the provider's WebSocket URL (wss://host/v1/…;
// ws:// gives http://, for the simulator on loopback); nullopt when it is not a ws(s) URL.
[[nodiscard]] std::optional<std::string> sip_control_base(std::string_view websocket_url);
// The sideband's URL (J3): Realtime <ws url without query>?call_id=<id>; GPT-Live
// <…/v1/live/sessions>/<id>/attach (a URL ending in …/live, Azure's, gains /sessions). `websocket_url` is
// the provider's (OPENAI_REALTIME_URL, OPENAI_LIVE_URL). "" for an invalid call id or URL.
[[nodiscard]] std::string sideband_url(sip_runtime runtime, std::string_view websocket_url, std::string_view call_id);

// Whether a failed accept may be tried again: the call may not be known yet (404 call_id_not_found,
// which OpenAI is known to answer at first), a server fault, a timeout. A 4xx that names the request
// (400, 401, 403, 409 already accepted) is final.
// A 404 is retried unless its error code names something other than the call (call_id_not_found or
// no code: the call is not known yet); 408, 429, 5xx and no response (status 0) are retried.
// Accepting twice is harmless (the second answers 409, or accepts the same call), so even a timeout
// after the request left is retried.
[[nodiscard]] bool accept_retryable(int status, std::string_view body) noexcept;

// After `attempts_made` (>= 1) accept attempts, the last ending in `last`: whether to try again and
// after how long (protocol::backoff_ms: doubling from the policy's base, Retry-After honoured).
[[nodiscard]] retry_decision decide_accept_retry(const retry_policy& policy, const rest_attempt& last,
                                                 int attempts_made) noexcept;

// The "code" of OpenAI's error body {"error":{"message","type","code",…}}; "" when there is none.
[[nodiscard]] std::string sip_control_error_code(std::string_view body);
// A short, loggable reason for a failed control-plane attempt: the transport failure, or the HTTP
// status with OpenAI's error code and message (truncated, control characters escaped). Never holds a
// credential: the request is not part of it.
[[nodiscard]] std::string describe_sip_control_failure(const rest_attempt& attempt);

}  // namespace mb::protocol
