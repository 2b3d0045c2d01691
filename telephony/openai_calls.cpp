#include "telephony/openai_calls.hpp"

namespace mb::telephony {
namespace {

// A request with an empty path names an invalid call id, status or target (protocol/openai_sip): it is
// refused here, never sent.
rest_result refused(std::string_view what) {
  rest_result result;
  result.detail = std::string(what) + " not sent: invalid call id, status code or target";
  return result;
}

rest_post_request post_of(const openai_call_target& target, const protocol::sip_control_request& request,
                          int timeout_ms) {
  rest_post_request post{target.base_url + request.path, target.credential, request.body, timeout_ms};
  if (!request.body.empty()) post.headers.emplace_back("Content-Type", "application/json");
  post.headers.emplace_back("Accept", "application/json");
  return post;
}

}  // namespace

openai_calls::openai_calls(openai_calls_options options, std::shared_ptr<net::tls_client_context> tls)
    : options_(options), tls_(std::move(tls)) {}

net::awaitable<rest_result> openai_calls::accept(const openai_call_target& target, std::string body) const {
  protocol::sip_control_request request{
      protocol::sip_control_path(target.runtime, target.call_id, protocol::sip_control_action::accept),
      std::move(body)};
  if (request.path.empty()) co_return refused("accept");
  const protocol::retry_policy policy{options_.accept_retries, options_.base_backoff_ms};
  // Named: g++ 12 destroys temporaries inside co_await expressions twice.
  retry_rule decide = [policy](const protocol::rest_attempt& last, int attempts_made) {
    return protocol::decide_accept_retry(policy, last, attempts_made);
  };
  co_return co_await post_with_retries(post_of(target, request, options_.timeout_ms), tls_, std::move(decide),
                                       &protocol::describe_sip_control_failure);
}

// Reject, refer and hang up are sent once: each could act twice (a second refer transfers again), and
// OpenAI does not document them as idempotent.
net::awaitable<rest_result> openai_calls::send_once(const openai_call_target& target,
                                                    protocol::sip_control_request request,
                                                    std::string_view what) const {
  if (request.path.empty()) co_return refused(what);
  retry_rule never = [](const protocol::rest_attempt&, int) { return protocol::retry_decision{}; };
  co_return co_await post_with_retries(post_of(target, request, options_.timeout_ms), tls_, std::move(never),
                                       &protocol::describe_sip_control_failure);
}

net::awaitable<rest_result> openai_calls::reject(const openai_call_target& target, int status_code) const {
  co_return co_await send_once(target, protocol::reject_request(target.runtime, target.call_id, status_code), "reject");
}

net::awaitable<rest_result> openai_calls::refer(const openai_call_target& target, std::string target_uri) const {
  co_return co_await send_once(target, protocol::refer_request(target.runtime, target.call_id, target_uri), "refer");
}

net::awaitable<rest_result> openai_calls::hang_up(const openai_call_target& target) const {
  co_return co_await send_once(target, protocol::hangup_request(target.runtime, target.call_id), "hangup");
}

}  // namespace mb::telephony
