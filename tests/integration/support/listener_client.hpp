#pragma once
// A listener of mediabridge's event endpoints for tests: WebSocket (net::connect_websocket) or
// Server-Sent Events (a raw HTTP/1.1 GET), on its own thread. It records every event and how the
// stream ended; tests wait on conditions over those records, never on the clock alone.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "net/asio.hpp"
#include "net/http_client.hpp"
#include "net/message_socket.hpp"

namespace mb::test {

struct listener_options {
  std::uint16_t port = 0;
  std::string target = "/v1/events";  // path and query, e.g. /v1/events?token=…
  bool sse = false;
  std::string authorization{};        // sent as the Authorization header when not empty
  std::string origin{};               // sent as the Origin header when not empty, as browsers do
  bool paused = false;                // connect, but read nothing until resume()
};

class listener_client {
 public:
  using events_t = std::vector<boost::json::object>;

  explicit listener_client(listener_options options);  // starts connecting
  ~listener_client();                                   // drops the connection
  listener_client(const listener_client&) = delete;
  listener_client& operator=(const listener_client&) = delete;

  // True once the server accepted the stream (101, or 200 for SSE); false when it refused or failed.
  bool wait_connected(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  [[nodiscard]] int http_status() const;  // the status of the answer (101, 200, 401, …); 0 when none

  bool wait_for(const std::function<bool(const events_t&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  [[nodiscard]] events_t events() const;
  // The server's close: the WebSocket close frame, or the SSE `event: close` (code 0 when none came).
  [[nodiscard]] net::close_reason close_reason() const;
  [[nodiscard]] std::size_t keep_alives() const;  // SSE comments received
  bool wait_keep_alives(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  void resume();  // a paused listener starts reading

 private:
  net::awaitable<void> run_websocket();
  net::awaitable<void> run_sse();
  net::awaitable<void> wait_until_resumed();
  void set_connected(bool accepted, int status);
  void add_event(std::string_view json);
  void set_closed(net::close_reason reason);

  listener_options options_;
  asio::io_context ioc_;
  asio::steady_timer resume_signal_;
  bool resumed_ = false;  // ioc_'s thread only
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool answered_ = false;
  bool accepted_ = false;
  int status_ = 0;
  events_t events_;
  bool closed_ = false;
  net::close_reason close_reason_{0, {}};
  std::size_t keep_alives_ = 0;
};

// One blocking HTTP request to the server under test (5 s at most).
net::http_response http(std::string method, std::string url,
                        std::vector<std::pair<std::string, std::string>> headers = {});

// The (type == wanted) events of one call, in arrival order.
listener_client::events_t of_type(const listener_client::events_t& events, std::string_view type,
                                  std::string_view call_sid = {});
bool has_event(const listener_client::events_t& events, std::string_view type, std::string_view call_sid);

}  // namespace mb::test
