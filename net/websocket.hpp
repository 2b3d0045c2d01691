#pragma once
// Opening message_sockets: as a client (ws:// or wss:// with verified TLS) or as a plain server.
// No Beast types appear here; the server's HTTP session upgrades through net/websocket_upgrade.hpp.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "net/message_socket.hpp"

namespace mb::net {

// OpenSSL client context: system CA store, peer verification, optional extra CA bundle.
// @par Thread safety
// Safe to share between threads once created (OpenSSL SSL_CTX is used read-only).
class tls_client_context {
 public:
  // Returns nullptr and sets `error` when the CA file cannot be loaded.
  static std::shared_ptr<tls_client_context> create(const std::string& extra_ca_file, std::string& error);
  ~tls_client_context();
  struct impl;
  impl& get() noexcept { return *impl_; }

 private:
  explicit tls_client_context(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

struct connect_request {
  std::string url;  // ws://host[:port]/path?query or wss://…
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization (never logged)
  socket_limits limits;
  int connect_timeout_ms = 10000;  // DNS + TCP + TLS
};

// How long each stage of a connect took, for the stages it reached (the prober reports them:
// docs/latency.md "The prober").
struct connect_timings {
  using duration = std::chrono::steady_clock::duration;
  duration resolve{};                // DNS
  duration tcp{};                    // TCP connect
  std::optional<duration> tls;       // TLS handshake; none on ws://
  duration upgrade{};                // WebSocket upgrade request → 101
};

struct connect_result {
  std::unique_ptr<message_socket> socket;  // null on failure
  error_code ec;
  std::string failure;  // human-readable stage and reason, safe to log (no headers)
  int http_status = 0;  // the status when the server refused the upgrade
  connect_timings timings;
};

// Connects on the calling coroutine's executor, so the socket shares the caller's strand.
awaitable<connect_result> connect_websocket(const connect_request& request,
                                            std::shared_ptr<tls_client_context> tls);

// What a plain WebSocket server learns from the upgrade request.
struct upgrade_request {
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;
  [[nodiscard]] std::string header(std::string_view name) const;  // case-insensitive, "" when absent
};

struct accept_result {
  std::unique_ptr<message_socket> socket;  // null on failure
  upgrade_request request;
  error_code ec;
  unsigned refused_status = 0;  // the HTTP status the upgrade was refused with (0 when it was not)
};

// Decides whether an upgrade request may proceed: 0 to accept it, or the HTTP status to refuse it
// with (e.g. 401 for missing credentials).
using upgrade_check = std::function<unsigned(const upgrade_request&)>;

// A request on the same listener that is not a WebSocket upgrade (e.g. the simulator's tool webhooks).
struct plain_http_request {
  std::string method;
  upgrade_request head;  // target and headers
  std::string body;
};

struct plain_http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// Answers a plain request; may take its time (a coroutine on the connection's executor).
using plain_http_handler = std::function<awaitable<plain_http_response>(plain_http_request)>;

// Where a plain request's body is refused with 413 (upgrade requests have none).
inline constexpr std::size_t max_plain_body_bytes = 256 * 1024;

// Reads the HTTP upgrade request from a freshly accepted TCP socket and completes the handshake,
// unless `check` refuses it: then it answers with that status and an empty body and closes. A
// request that is not an upgrade goes to `plain` when given (its answer is written, then the
// connection closes; accept_result::socket stays null), else fails with no_connection_upgrade.
awaitable<accept_result> accept_websocket(asio::ip::tcp::socket socket, socket_limits limits,
                                          upgrade_check check = {}, plain_http_handler plain = {});

}  // namespace mb::net
