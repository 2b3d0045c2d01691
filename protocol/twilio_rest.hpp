#pragma once
// Twilio's call REST API (docs/protocols.md H): the requests mediabridge makes (hang up, redirect to new
// TwiML, place a call), their form bodies and Basic auth, what a response means, and which failures
// may be retried without acting twice. Pure: the I/O client is telephony::twilio_client.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// One attempt's outcome as the client saw it.
struct rest_attempt {
  int status = 0;              // 0: no response
  bool request_sent = false;   // the request may have reached Twilio (false: failed before sending)
  std::string body;
  std::string failure;         // transport failure; empty when a response came
};

}  // namespace mb::protocol
