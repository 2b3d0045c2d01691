#include "tests/integration/support/scripted_http_server.hpp"

#include <algorithm>
#include <cctype>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "net/asio.hpp"

namespace mb::test {
namespace {

namespace asio = net::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

struct scripted_http_server::impl {
  explicit impl(answer fallback) : fallback_(std::move(fallback)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~impl() {
    ioc_.stop();
    thread_.join();
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(net::as_tuple_awaitable);
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  net::awaitable<void> serve(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::request<http::string_body> message;
    stream.expires_after(5s);
    auto [read_error, n] = co_await http::async_read(stream, buffer, message, net::as_tuple_awaitable);
    if (read_error) co_return;
    request seen{std::string(message.method_string()), std::string(message.target()), {}, message.body()};
    for (const auto& field : message) seen.headers.emplace_back(field.name_string(), field.value());
    answer reply;
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(std::move(seen));
      if (script_.empty()) {
        reply = fallback_;
      } else {
        reply = std::move(script_.front());
        script_.pop_front();
      }
    }
    changed_.notify_all();
    if (reply.delay_ms > 0) {
      asio::steady_timer delay(ioc_, std::chrono::milliseconds(reply.delay_ms));
      co_await delay.async_wait(net::as_tuple_awaitable);
    }
    http::response<http::string_body> response(static_cast<http::status>(reply.status), 11);
    response.set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    response.body() = reply.body;
    response.prepare_payload();
    co_await http::async_write(stream, response, net::as_tuple_awaitable);
  }

  answer fallback_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<answer> script_;
  std::vector<request> seen_;
};

std::string recorded_request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

scripted_http_server::scripted_http_server(answer default_answer)
    : impl_(std::make_unique<impl>(std::move(default_answer))) {}

scripted_http_server::~scripted_http_server() = default;

void scripted_http_server::script(std::vector<answer> answers) {
  std::lock_guard lock(impl_->mutex_);
  for (auto& a : answers) impl_->script_.push_back(std::move(a));
}

std::string scripted_http_server::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor_.local_endpoint().port()) + std::string(path);
}

bool scripted_http_server::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex_);
  return impl_->changed_.wait_for(lock, timeout, [&] { return impl_->seen_.size() >= count; });
}

std::vector<scripted_http_server::request> scripted_http_server::requests() {
  std::lock_guard lock(impl_->mutex_);
  return impl_->seen_;
}

}  // namespace mb::test
