#pragma once
// The listening socket: HTTP/1.1 with keep-alive for webhooks and health, WebSocket upgrades for
// /media-stream (one call each).
//
// Descriptors running out (docs/security.md, "Limits and timeouts"): connections and the calls'
// upstream sockets are held to a socket budget below the open file limit (limits/connection_budget.hpp);
// past it, and whenever accept() itself fails with EMFILE/ENFILE, a few descriptors held in reserve
// take connections that answer health checks only. A failing accept is retried with backoff and
// logged at most once per interval (limits/accept_backoff.hpp), never at once in a loop.

#include <cstdint>
#include <memory>
#include <string>

#include "server/io_pool.hpp"
#include "server/server_context.hpp"

namespace mb::metrics {
class registry;
}

namespace mb::server {

class http_server {
 public:
  http_server(io_pool& pool, server_context& ctx);
  ~http_server();
  // Binds and starts accepting; returns the bound port (useful with port 0). Throws on bind failure.
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  void close();  // stops accepting; running connections go on
  // mediabridge_accept_errors_total, mediabridge_connections_limited_total, mediabridge_socket_budget.
  // The server must outlive every scrape of `r`.
  void register_metrics(metrics::registry& r) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::server
