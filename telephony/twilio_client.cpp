#include "telephony/twilio_client.hpp"

namespace mb::telephony {

twilio_client::twilio_client(twilio_client_options options, std::shared_ptr<net::tls_client_context> tls)
    : options_(std::move(options)), tls_(std::move(tls)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
  if (auto problem = protocol::credentials_problem(options_.credentials))
    unavailable_ = "REST call control is not configured: " + *problem;
}

bool twilio_client::configured() const noexcept { return !unavailable_; }

net::awaitable<rest_result> twilio_client::update_call(protocol::call_update_request request) const {
  if (auto problem = protocol::request_problem(request)) {
    rest_result refused;
    refused.detail = "call update not sent: " + *problem;
    co_return refused;
  }
  co_return co_await post(protocol::call_path(options_.credentials.account_sid, request.call_sid),
                          protocol::call_update_fields(request), protocol::idempotent(request));
}

net::awaitable<rest_result> twilio_client::create_call(protocol::outbound_call_request request) const {
  if (auto problem = protocol::request_problem(request)) {
    rest_result refused;
    refused.detail = "call creation not sent: " + *problem;
    co_return refused;
  }
  // Never idempotent: a second request places a second call.
  co_return co_await post(protocol::calls_path(options_.credentials.account_sid),
                          protocol::outbound_call_fields(request), false);
}

net::awaitable<rest_result> twilio_client::post(std::string path, protocol::form_fields fields, bool idempotent) const {
  rest_result result;
  if (unavailable_) {
    result.detail = *unavailable_;
    co_return result;
  }
  const protocol::retry_policy policy{options_.retries, options_.base_backoff_ms};
  rest_post_request request{options_.base_url + path,
                            {{"Authorization", protocol::basic_authorization(options_.credentials)},
                             {"Content-Type", "application/x-www-form-urlencoded"},
                             {"Accept", "application/json"}},
                            protocol::encode_form(fields),
                            options_.timeout_ms};
  // Named: g++ 12 destroys temporaries inside co_await expressions twice.
  retry_rule decide = [policy, idempotent](const protocol::rest_attempt& last, int attempts_made) {
    return protocol::decide_retry(policy, last, idempotent, attempts_made);
  };
  co_return co_await post_with_retries(std::move(request), tls_, std::move(decide), &protocol::describe_failure);
}

}  // namespace mb::telephony
