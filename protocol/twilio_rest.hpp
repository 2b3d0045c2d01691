#pragma once
// Twilio's call REST API (docs/protocols.md H): the requests mediabridge makes (hang up, redirect to new
// TwiML, place a call), their form bodies and Basic auth, what a response means, and which failures
// may be retried without acting twice. Pure: the I/O client is telephony::twilio_client.
//
// @par Thread Safety
// Pure functions and plain values.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/form.hpp"
#include "protocol/rest_retry.hpp"

namespace mb::protocol {

struct twilio_rest_credentials {
  std::string account_sid;  // AC…: the path's account
  std::string username;     // the account SID, or an API key SID (SK…)
  std::string password;     // the auth token, or the API key's secret: never logged
};

// POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json
struct call_update_request {
  std::string call_sid;
  enum class kind { hang_up, redirect } what = kind::hang_up;  // Status=completed, or Twiml=…
  std::string twiml;
};

// POST /2010-04-01/Accounts/{AccountSid}/Calls.json
struct outbound_call_request {
  std::string to;    // E.164 or sip:
  std::string from;  // a Twilio number
  std::string url;   // the voice webhook Twilio fetches when the call is answered
  std::string status_callback;  // where Twilio reports initiated, ringing, answered, completed
};

// SIDs are two letters and 32 lowercase hex digits (AC… accounts, CA… calls, SK… API keys). Every SID
// that goes into a path is checked first, so nothing a peer sends can change the request's target.
[[nodiscard]] bool valid_sid(std::string_view sid, std::string_view prefix) noexcept;
[[nodiscard]] inline bool valid_account_sid(std::string_view sid) noexcept { return valid_sid(sid, "AC"); }
[[nodiscard]] inline bool valid_call_sid(std::string_view sid) noexcept { return valid_sid(sid, "CA"); }
[[nodiscard]] inline bool valid_api_key_sid(std::string_view sid) noexcept { return valid_sid(sid, "SK"); }

// Why the credentials cannot be used, naming the settings to fix; nullopt when they can. The username
// must be the account SID itself (with the auth token) or an API key SID (with its secret).
[[nodiscard]] std::optional<std::string> credentials_problem(const twilio_rest_credentials& credentials);

// "/2010-04-01/Accounts/AC…/Calls/CA….json" and "/2010-04-01/Accounts/AC…/Calls.json"; the SIDs must be
// valid (callers check them; an invalid one yields an empty path).
[[nodiscard]] std::string call_path(std::string_view account_sid, std::string_view call_sid);
[[nodiscard]] std::string calls_path(std::string_view account_sid);

// The Authorization header's value: "Basic " + base64(username ":" password).
[[nodiscard]] std::string basic_authorization(const twilio_rest_credentials& credentials);
// The username and password of a "Basic …" header value; nullopt when it is not one.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> parse_basic_authorization(std::string_view value);

// Form fields of a call update: Status=completed, or Twiml=<the document>.
[[nodiscard]] form_fields call_update_fields(const call_update_request& request);
// Form fields of a call creation: To, From, Url, Method=POST and, with a status callback,
// StatusCallback, StatusCallbackMethod=POST and StatusCallbackEvent once per event (initiated, ringing,
// answered, completed).
[[nodiscard]] form_fields outbound_call_fields(const outbound_call_request& request);

// Why a request must not be sent, or nullopt: a call SID that is not CA + 32 hex digits, a redirect
// without TwiML or with more than max_twiml_bytes (Twilio's limit for the Twiml parameter), a creation
// without To, From or Url, or with fields over 2048 bytes or holding control characters.
inline constexpr std::size_t max_twiml_bytes = 4000;
[[nodiscard]] std::optional<std::string> request_problem(const call_update_request& request);
[[nodiscard]] std::optional<std::string> request_problem(const outbound_call_request& request);

// What a request is, for the retry policy: idempotent ones (a hang-up: completing a completed call
// changes nothing) may be sent again after Twilio might have acted; the others (a redirect runs its
// TwiML again, a creation places a second call) may not.
[[nodiscard]] bool idempotent(const call_update_request& request) noexcept;

// The call resource in a 2xx response: {"sid":"CA…","status":"queued",…}.
struct call_resource {
  std::string sid;
  std::string status;
};
[[nodiscard]] std::optional<call_resource> parse_call_resource(std::string_view body);

// Twilio's error body: {"code":20404,"message":"…","more_info":"https://…","status":404}.
struct rest_error {
  int code = 0;
  std::string message;
  std::string more_info;
  int status = 0;
};
[[nodiscard]] std::optional<rest_error> parse_rest_error(std::string_view body);

// A short, loggable reason for a failed attempt: the transport failure, or the HTTP status with
// Twilio's error code and message (truncated, control characters escaped). Never holds credentials:
// neither the request nor its headers are part of it.
[[nodiscard]] std::string describe_failure(const rest_attempt& attempt);

// The retry policy (docs/protocols.md H4). After `attempts_made` attempts (>= 1), the last ending in
// `last`, whether to send again and after how long. Sending again is safe when the request never left
// (connect, TLS), when Twilio says it did not act (429, 503), and, for idempotent requests only,
// after another 5xx or after a failure once the request was sent (a timeout while reading). A 2xx and
// any other 4xx are final. Backoff doubles from base_backoff_ms, capped at max_backoff_ms, and
// honours Retry-After up to the cap (protocol::backoff_ms).
[[nodiscard]] retry_decision decide_retry(const retry_policy& policy, const rest_attempt& last, bool idempotent,
                                          int attempts_made) noexcept;

}  // namespace mb::protocol
