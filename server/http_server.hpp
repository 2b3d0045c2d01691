#pragma once
// The listening socket: HTTP/1.1 with keep-alive for webhooks and health, WebSocket upgrades for
// /media-stream (one call each).

#include <cstdint>
#include <memory>
#include <string>

#include "server/io_pool.hpp"
#include "server/server_context.hpp"

namespace mb::server {

class http_server {
 public:
  http_server(io_pool& pool, server_context& ctx);
  ~http_server();
  // Binds and starts accepting; returns the bound port (useful with port 0). Throws on bind failure.
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  void close();  // stops accepting; running connections go on

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::server
