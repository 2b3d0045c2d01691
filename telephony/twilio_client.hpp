#pragma once
// Twilio's call REST API over HTTPS (docs/tools.md, docs/protocols.md H): hang up or redirect a live
// call, place an outbound call. The requests, their auth and which failures may be retried are pure
// (protocol/twilio_rest); this carries them out with net::http_request, retrying within bounds only
// what cannot act twice.
//
// @par Thread safety
// Immutable after construction: one client serves every call; each request runs on the calling
// coroutine's executor.

#include <memory>
#include <optional>
#include <string>

#include "net/asio.hpp"
#include "protocol/twilio_rest.hpp"
#include "telephony/rest_post.hpp"

namespace mb::net {
class tls_client_context;
}

namespace mb::telephony {

struct twilio_client_options {
  std::string base_url = "https://api.twilio.com";
  protocol::twilio_rest_credentials credentials;
  int timeout_ms = 10000;  // per attempt
  int retries = 2;         // at most this many more attempts, only where protocol::decide_retry allows
  int base_backoff_ms = 200;
};

class twilio_client {
 public:
  twilio_client(twilio_client_options options, std::shared_ptr<net::tls_client_context> tls);

  // Credentials are set: requests can be made. Otherwise every request fails at once with a detail
  // that names the missing settings (unavailable_reason()).
  [[nodiscard]] bool configured() const noexcept;
  [[nodiscard]] const std::optional<std::string>& unavailable_reason() const noexcept { return unavailable_; }

  [[nodiscard]] net::awaitable<rest_result> update_call(protocol::call_update_request request) const;
  // On success, rest_result::body holds the call resource (protocol::parse_call_resource reads its SID).
  [[nodiscard]] net::awaitable<rest_result> create_call(protocol::outbound_call_request request) const;

 private:
  [[nodiscard]] net::awaitable<rest_result> post(std::string path, protocol::form_fields fields, bool idempotent) const;

  twilio_client_options options_;
  std::optional<std::string> unavailable_;
  std::shared_ptr<net::tls_client_context> tls_;
};

}  // namespace mb::telephony
