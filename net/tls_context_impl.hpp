#pragma once
// Private to net/: the OpenSSL context behind tls_client_context, shared by the Beast translation
// units that open client connections (message_socket.cpp for WebSockets, http_client.cpp for HTTP).

#include <boost/asio/ssl/context.hpp>

#include "net/websocket.hpp"

namespace mb::net {

struct tls_client_context::impl {
  asio::ssl::context ctx{asio::ssl::context::tls_client};
};

}  // namespace mb::net
