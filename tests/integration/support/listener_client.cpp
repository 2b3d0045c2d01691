#include "tests/integration/support/listener_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "net/websocket.hpp"

namespace mb::test {

listener_client::listener_client(listener_options options)
    : options_(std::move(options)), resume_signal_(ioc_) {
  resume_signal_.expires_at(asio::steady_timer::time_point::max());
  asio::co_spawn(ioc_, options_.sse ? run_sse() : run_websocket(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

listener_client::~listener_client() {
  ioc_.stop();
  thread_.join();
}

void listener_client::resume() {
  asio::post(ioc_, [this] {
    resumed_ = true;
    resume_signal_.cancel();
  });
}

net::awaitable<void> listener_client::wait_until_resumed() {
  if (options_.paused && !resumed_) co_await resume_signal_.async_wait(net::as_tuple_awaitable);
}

net::awaitable<void> listener_client::run_websocket() {
  net::connect_request request;
  request.url = "ws://127.0.0.1:" + std::to_string(options_.port) + options_.target;
  if (!options_.authorization.empty()) request.headers.emplace_back("Authorization", options_.authorization);
  if (!options_.origin.empty()) request.headers.emplace_back("Origin", options_.origin);
  request.connect_timeout_ms = 5000;
  request.limits.max_message_bytes = 4 << 20;
  auto result = co_await net::connect_websocket(request, nullptr);
  set_connected(result.socket != nullptr, result.socket ? 101 : result.http_status);
  if (!result.socket) {
    set_closed({0, {}});
    co_return;
  }
  co_await wait_until_resumed();
  std::string buffer;
  for (;;) {
    const auto r = co_await result.socket->read(buffer, 0);
    if (r.status != net::read_status::message) break;
    add_event(buffer);
  }
  set_closed(result.socket->peer_close_reason());
}

net::awaitable<void> listener_client::run_sse() {
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  auto [cec] = co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), options_.port},
                                             net::as_tuple_awaitable);
  std::string data;
  int status = 0;
  if (!cec) {
    std::string request = "GET " + options_.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    if (!options_.authorization.empty()) request += "Authorization: " + options_.authorization + "\r\n";
    if (!options_.origin.empty()) request += "Origin: " + options_.origin + "\r\n";
    request += "\r\n";
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(request), net::as_tuple_awaitable);
    auto [hec, head] = co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n",
                                                       net::as_tuple_awaitable);
    // "HTTP/1.1 200 OK"
    if (!wec && !hec && data.size() > 12) status = std::stoi(data.substr(9, 3));
    if (!hec) data.erase(0, head);
  }
  set_connected(status == 200, status);
  net::close_reason reason{0, {}};
  if (status == 200) {
    co_await wait_until_resumed();
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\n\n", net::as_tuple_awaitable);
      if (ec) break;
      const std::string block = data.substr(0, n - 2);
      data.erase(0, n);
      std::string name;
      std::string payload;
      std::size_t start = 0;
      while (start <= block.size()) {
        const auto end = std::min(block.find('\n', start), block.size());
        const std::string_view line(block.data() + start, end - start);
        if (line.starts_with(":")) {
          std::lock_guard lock(mutex_);
          ++keep_alives_;
          changed_.notify_all();
        } else if (line.starts_with("event: ")) {
          name = line.substr(7);
        } else if (line.starts_with("data: ")) {
          payload = line.substr(6);
        }
        start = end + 1;
      }
      if (name == "close") {
        const auto v = boost::json::parse(payload).as_object();
        reason = {static_cast<std::uint16_t>(v.at("code").as_int64()), std::string(v.at("reason").as_string())};
      } else if (!payload.empty()) {
        add_event(payload);
      }
    }
  }
  set_closed(std::move(reason));
}

void listener_client::set_connected(bool accepted, int status) {
  std::lock_guard lock(mutex_);
  answered_ = true;
  accepted_ = accepted;
  status_ = status;
  changed_.notify_all();
}

void listener_client::add_event(std::string_view json) {
  auto event = boost::json::parse(json).as_object();
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(event));
  changed_.notify_all();
}

void listener_client::set_closed(net::close_reason reason) {
  std::lock_guard lock(mutex_);
  closed_ = true;
  close_reason_ = std::move(reason);
  changed_.notify_all();
}

bool listener_client::wait_connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return answered_; });
  return accepted_;
}

int listener_client::http_status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

bool listener_client::wait_for(const std::function<bool(const events_t&)>& pred, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return pred(events_); });
}

bool listener_client::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return closed_; });
}

listener_client::events_t listener_client::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

net::close_reason listener_client::close_reason() const {
  std::lock_guard lock(mutex_);
  return close_reason_;
}

std::size_t listener_client::keep_alives() const {
  std::lock_guard lock(mutex_);
  return keep_alives_;
}

bool listener_client::wait_keep_alives(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return keep_alives_ >= n; });
}

net::http_response http(std::string method, std::string url, std::vector<std::pair<std::string, std::string>> headers) {
  asio::io_context ioc;
  net::http_response response;
  asio::co_spawn(ioc, net::http_request(std::move(method), std::move(url), std::move(headers), {}, nullptr, 5000),
                 [&](std::exception_ptr e, net::http_response r) {
                   if (e) std::rethrow_exception(e);
                   response = std::move(r);
                 });
  ioc.run();
  return response;
}

listener_client::events_t of_type(const listener_client::events_t& events, std::string_view type,
                                  std::string_view call_sid) {
  listener_client::events_t out;
  for (const auto& e : events)
    if (e.at("type").as_string() == type && (call_sid.empty() || e.at("call_sid").as_string() == call_sid))
      out.push_back(e);
  return out;
}

bool has_event(const listener_client::events_t& events, std::string_view type, std::string_view call_sid) {
  return !of_type(events, type, call_sid).empty();
}

}  // namespace mb::test
