#include "telephony/twilio_client.hpp"

namespace mb::telephony {

twilio_client::twilio_client(twilio_client_options options, std::shared_ptr<net::tls_client_context> tls)
    : options_(std::move(options)), tls_(std::move(tls)) {}

bool twilio_client::configured() const noexcept {
  return !options_.credentials.account_sid.empty() && !options_.credentials.password.empty();
}

// SKELETON: the rest task implements the requests and their retries.
net::awaitable<rest_result> twilio_client::update_call(protocol::call_update_request) const {
  rest_result r;
  r.detail = "not implemented";
  co_return r;
}
net::awaitable<rest_result> twilio_client::create_call(protocol::outbound_call_request) const {
  rest_result r;
  r.detail = "not implemented";
  co_return r;
}

}  // namespace mb::telephony
