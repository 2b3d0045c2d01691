#include "telephony/openai_calls.hpp"

// Skeleton: the sip-protocol task implements these.
namespace mb::telephony {

openai_calls::openai_calls(openai_calls_options options, std::shared_ptr<net::tls_client_context> tls)
    : options_(options), tls_(std::move(tls)) {}

net::awaitable<rest_result> openai_calls::accept(const openai_call_target&, std::string) const {
  co_return rest_result{false, 0, {}, "not implemented", 0, 0};
}
net::awaitable<rest_result> openai_calls::reject(const openai_call_target&, int) const {
  co_return rest_result{false, 0, {}, "not implemented", 0, 0};
}
net::awaitable<rest_result> openai_calls::refer(const openai_call_target&, std::string) const {
  co_return rest_result{false, 0, {}, "not implemented", 0, 0};
}
net::awaitable<rest_result> openai_calls::hang_up(const openai_call_target&) const {
  co_return rest_result{false, 0, {}, "not implemented", 0, 0};
}

}  // namespace mb::telephony
