#pragma once
// One REST POST carried out with its attempts, for the Twilio and OpenAI clients: send, ask the API's
// retry rule (pure, protocol/) after each failed attempt whether and when to send again, wait, and
// report the outcome with the whole operation's elapsed time.
//
// @par Thread safety
// A free coroutine; runs on the calling coroutine's executor.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/asio.hpp"
#include "protocol/rest_retry.hpp"

namespace mb::net {
class tls_client_context;
}

namespace mb::telephony {

struct rest_result {
  bool ok = false;
  int status = 0;      // the last attempt's HTTP status; 0: no response
  std::string body;    // the last response's body (bounded)
  std::string detail;  // why it failed, safe to log and publish: no credentials
  bool timed_out = false;  // the last attempt ran out of its timeout_ms
  int attempts = 0;
  std::int64_t elapsed_ms = 0;  // from the first attempt to the outcome, backoff included
};

struct rest_post_request {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the credential among them: never in `detail`
  std::string body;
  int timeout_ms = 10000;  // per attempt
};

// After `attempts_made` attempts, the last one failed as given: whether and when to send again.
using retry_rule = std::function<protocol::retry_decision(const protocol::rest_attempt& last, int attempts_made)>;
// A failed attempt's loggable reason, in the API's terms.
using failure_describer = std::string (*)(const protocol::rest_attempt& attempt);

[[nodiscard]] net::awaitable<rest_result> post_with_retries(rest_post_request request,
                                                            std::shared_ptr<net::tls_client_context> tls,
                                                            retry_rule decide, failure_describer describe);

}  // namespace mb::telephony
