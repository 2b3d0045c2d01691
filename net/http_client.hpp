#pragma once
// A minimal HTTP/1.1 client (one request per connection, "Connection: close") for tools and tests,
// e.g. posting a voice webhook as Twilio does. No Beast types appear here.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/asio.hpp"

namespace mb::net {

class tls_client_context;

struct http_response {
  int status = 0;  // 0 when no response was received (see failure)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // in wire order, names as sent
  std::string failure;  // empty on success; otherwise the stage and reason (safe to log: no headers)
  // Writing the request began: a failure after this point (write, read, timeout) may come after the
  // server acted on it. False: it failed before (URL, resolve, connect, TLS) and the server saw nothing.
  bool request_sent = false;
  bool timed_out = false;  // the failure is `timeout_ms` running out (connect, TLS, write or read)
};

// Sends `method` `url` (http:// or https://) with the given extra headers and body and reads the whole
// response (a body over `max_body_bytes` is a failure). Runs on the calling coroutine's executor. https verifies the peer
// against `tls` (required for https) with SNI and host-name checks. `timeout_ms` bounds connect, TLS,
// write and read together; name resolution is bounded only by the system resolver.
awaitable<http_response> http_request(std::string method, std::string url,
                                      std::vector<std::pair<std::string, std::string>> headers, std::string body,
                                      std::shared_ptr<tls_client_context> tls, int timeout_ms,
                                      std::size_t max_body_bytes = std::size_t{1} << 20);

}  // namespace mb::net
