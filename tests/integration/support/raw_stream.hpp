#pragma once
// A hand-driven Media Streams client for tests that send what Twilio never would. Every call
// blocks on its own io_context for at most the given time.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "net/websocket.hpp"
#include "routing/route.hpp"

namespace mb::test {

class raw_stream {
 public:
  // Connects to ws://127.0.0.1:port<target> (path and query); check connected() / http_status().
  explicit raw_stream(std::uint16_t port, std::vector<std::pair<std::string, std::string>> headers = {},
                      const std::string& target = std::string(routing::media_stream_path));
  ~raw_stream();
  [[nodiscard]] bool connected() const { return socket_ != nullptr; }
  [[nodiscard]] int http_status() const { return http_status_; }

  bool send(const std::string& text);
  bool send_binary(const std::string& bytes);
  // The next message, or nullopt when the socket closed (see close_code()) or the time ran out.
  std::optional<std::string> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until the bridge closes; returns its close code (0 when none came within the timeout).
  int wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  [[nodiscard]] int close_code() const { return close_code_; }

  // Twilio-shaped messages.
  static std::string connected_message();
  static std::string start_message(const std::string& call_sid, const std::string& stream_sid,
                                   const std::vector<std::pair<std::string, std::string>>& parameters);
  static std::string media_message(const std::string& stream_sid, int chunk, const std::string& payload_b64);
  static std::string stop_message(const std::string& stream_sid);

 private:
  asio::io_context ioc_;
  std::unique_ptr<net::message_socket> socket_;
  int http_status_ = 0;
  int close_code_ = 0;
  bool closed_ = false;
};

}  // namespace mb::test

#include "net/http_client.hpp"

namespace mb::test {
// One blocking HTTP request to a loopback URL (bounded to 5 s).
net::http_response http(std::string method, std::string url, std::vector<std::pair<std::string, std::string>> headers = {},
                        std::string body = {});
}  // namespace mb::test
