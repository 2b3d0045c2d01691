#pragma once
// What the REST clients (Twilio's call API, OpenAI's SIP control plane) share about one request's
// attempts: an attempt's outcome, the backoff between attempts and the Retry-After header. Which
// failures may be retried is each API's own rule (protocol/twilio_rest, protocol/openai_sip).
//
// @par Thread Safety
// Pure functions and plain values.

#include <string>
#include <string_view>

namespace mb::protocol {

// One attempt's outcome as the client saw it.
struct rest_attempt {
  int status = 0;              // 0: no response
  bool request_sent = false;   // the request may have reached the server (false: failed before sending)
  std::string body;
  std::string failure;         // transport failure; empty when a response came
  int retry_after_ms = 0;      // the response's Retry-After, in ms; 0: none
};

struct retry_policy {
  int retries = 2;             // attempts after the first
  int base_backoff_ms = 200;
  int max_backoff_ms = 2000;
};

struct retry_decision {
  bool retry = false;
  int delay_ms = 0;
};

[[nodiscard]] bool succeeded(const rest_attempt& attempt) noexcept;

// A Retry-After header's delay in ms (whole seconds only, capped at 60 s); 0 when absent or not a number.
[[nodiscard]] int retry_after_ms(std::string_view header_value) noexcept;

// The wait before the attempt after `attempts_made` (>= 1): base_backoff_ms doubled per attempt made,
// capped at max_backoff_ms, or the server's Retry-After when longer (capped the same).
[[nodiscard]] int backoff_ms(const retry_policy& policy, int attempts_made, int retry_after_ms) noexcept;

}  // namespace mb::protocol
