#include "telephony/twilio_client.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string_view>

#include <boost/asio/this_coro.hpp>

#include "net/http_client.hpp"

namespace mb::telephony {
namespace {

constexpr std::size_t max_result_body_bytes = 64 * 1024;

int retry_after_of(const net::http_response& response) {
  constexpr std::string_view header = "retry-after";
  for (const auto& [name, value] : response.headers) {
    const bool match = name.size() == header.size() &&
                       std::equal(name.begin(), name.end(), header.begin(), [](char a, char b) {
                         return std::tolower(static_cast<unsigned char>(a)) == b;
                       });
    if (match) return protocol::retry_after_ms(value);
  }
  return 0;
}

}  // namespace

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
  const std::string url = options_.base_url + path;
  const std::string body = protocol::encode_form(fields);
  const std::vector<std::pair<std::string, std::string>> headers{
      {"Authorization", protocol::basic_authorization(options_.credentials)},
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"}};
  for (;;) {
    ++result.attempts;
    auto response = co_await net::http_request("POST", url, headers, body, tls_, options_.timeout_ms);
    protocol::rest_attempt attempt{response.status, response.request_sent, std::move(response.body),
                                   std::move(response.failure), retry_after_of(response)};
    result.status = attempt.status;
    if (protocol::succeeded(attempt)) {
      result.ok = true;
      result.body = attempt.body.substr(0, max_result_body_bytes);
      result.detail.clear();
      co_return result;
    }
    result.detail = protocol::describe_failure(attempt);
    if (result.attempts > 1) result.detail += " (attempt " + std::to_string(result.attempts) + ")";
    const auto next = protocol::decide_retry(policy, attempt, idempotent, result.attempts);
    if (!next.retry) {
      result.body = attempt.body.substr(0, max_result_body_bytes);
      co_return result;
    }
    asio::steady_timer backoff(co_await asio::this_coro::executor, std::chrono::milliseconds(next.delay_ms));
    co_await backoff.async_wait(net::as_tuple_awaitable);
  }
}

}  // namespace mb::telephony
