#pragma once
// Server-side upgrade of an HTTP request that server/ has already read and routed.
// Includes Beast's HTTP types, so only the HTTP session translation unit should include it.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/message_socket.hpp"

namespace mb::net {

struct upgrade_result {
  std::unique_ptr<message_socket> socket;  // null on failure
  error_code ec;
};

awaitable<upgrade_result> accept_upgrade(boost::beast::tcp_stream stream,
                                         const boost::beast::http::request<boost::beast::http::string_body>& request,
                                         socket_limits limits);

}  // namespace mb::net
