#pragma once
// A loopback HTTP server for client tests: records every request and answers each with the next
// scripted answer (status, body, headers, an optional delay that outlasts a client's timeout), then
// with the default answer. One request per connection, as net::http_request sends.
//
// @par Thread Safety
// Every public method may be called from any thread; the server runs on its own thread.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace mb::test {

// One scripted answer.
struct scripted_answer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;  // before answering
};

// One request as received.
struct recorded_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header called `name` (case-insensitive); "" when absent.
  [[nodiscard]] std::string header(std::string_view name) const;
};

class scripted_http_server {
 public:
  using answer = scripted_answer;
  using request = recorded_request;

  explicit scripted_http_server(answer default_answer = {});
  ~scripted_http_server();
  scripted_http_server(const scripted_http_server&) = delete;
  scripted_http_server& operator=(const scripted_http_server&) = delete;

  // The next requests' answers, in order, after those already scripted.
  void script(std::vector<answer> answers);
  // "http://127.0.0.1:<port>" + path.
  [[nodiscard]] std::string url(std::string_view path = "") const;
  // Waits until at least `count` requests were received, or `timeout` passes.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout);
  [[nodiscard]] std::vector<request> requests();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::test
