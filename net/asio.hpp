#pragma once
// Asio vocabulary shared by the I/O folders. Asio and Beast are compiled once, in net/asio_impl.cpp
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set by the mb_net target).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace mb {
namespace asio = boost::asio;
using error_code = boost::system::error_code;
}  // namespace mb

namespace mb::net {

namespace asio = boost::asio;
using error_code = boost::system::error_code;
template <class T = void>
using awaitable = asio::awaitable<T>;

// Boost 1.81 has no default completion token and no bare as_tuple: spell them once here.
inline constexpr auto use_awaitable = asio::use_awaitable;
inline constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

}  // namespace mb::net
