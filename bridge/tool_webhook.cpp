#include "bridge/tool_webhook.hpp"

#include <chrono>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>

#include "call/tool_calls.hpp"
#include "net/http_client.hpp"
#include "protocol/webhook_signature.hpp"

namespace mb::bridge {
namespace {

using namespace asio::experimental::awaitable_operators;

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Owns its arguments: it may outlive the call, which it then leaves alone.
net::awaitable<void> post(std::string url, std::vector<std::pair<std::string, std::string>> headers, std::string body,
                          std::shared_ptr<net::tls_client_context> tls, int timeout_ms,
                          std::shared_ptr<asio::steady_timer> running,
                          std::function<void(const call::webhook_response&)> on_response) {
  asio::steady_timer deadline(co_await asio::this_coro::executor, std::chrono::milliseconds(timeout_ms));
  // http_request's own deadline leaves out name resolution: this one bounds the whole exchange.
  auto outcome = co_await (net::http_request("POST", std::move(url), std::move(headers), std::move(body), std::move(tls),
                                             timeout_ms, call::max_tool_response_bytes) ||
                           deadline.async_wait(net::as_tuple_awaitable) ||
                           running->async_wait(net::as_tuple_awaitable));
  if (outcome.index() == 2) co_return;
  call::webhook_response response;
  if (auto* r = std::get_if<0>(&outcome)) {
    response = {r->status, std::move(r->body), std::move(r->failure)};
  } else {
    response.failure = "timed out after " + std::to_string(timeout_ms) + " ms";
  }
  on_response(response);
}

}  // namespace

void post_tool_webhook(asio::any_io_executor ex, const call::webhook_tool& tool, std::string body,
                       const std::string& signing_secret, std::shared_ptr<net::tls_client_context> tls,
                       std::shared_ptr<asio::steady_timer> running,
                       std::function<void(const call::webhook_response&)> on_response) {
  auto headers = protocol::json_webhook_headers(signing_secret, unix_now_s(), body);
  asio::co_spawn(std::move(ex),
                 post(tool.url, std::move(headers), std::move(body), std::move(tls), tool.timeout_ms,
                      std::move(running), std::move(on_response)),
                 asio::detached);
}

}  // namespace mb::bridge
