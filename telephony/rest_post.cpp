#include "telephony/rest_post.hpp"

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

net::awaitable<rest_result> post_with_retries(rest_post_request request, std::shared_ptr<net::tls_client_context> tls,
                                              retry_rule decide, failure_describer describe) {
  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  const auto finish = [&](rest_result& result) {
    result.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count();
  };
  rest_result result;
  for (;;) {
    ++result.attempts;
    auto response = co_await net::http_request("POST", request.url, request.headers, request.body, tls,
                                               request.timeout_ms);
    protocol::rest_attempt attempt{response.status, response.request_sent, std::move(response.body),
                                   std::move(response.failure), retry_after_of(response)};
    result.status = attempt.status;
    result.timed_out = response.timed_out;
    if (protocol::succeeded(attempt)) {
      result.ok = true;
      result.body = attempt.body.substr(0, max_result_body_bytes);
      result.detail.clear();
      finish(result);
      co_return result;
    }
    result.detail = describe(attempt);
    if (result.attempts > 1) result.detail += " (attempt " + std::to_string(result.attempts) + ")";
    const auto next = decide(attempt, result.attempts);
    if (!next.retry) {
      result.body = attempt.body.substr(0, max_result_body_bytes);
      finish(result);
      co_return result;
    }
    asio::steady_timer backoff(co_await asio::this_coro::executor, std::chrono::milliseconds(next.delay_ms));
    co_await backoff.async_wait(net::as_tuple_awaitable);
  }
}

}  // namespace mb::telephony
