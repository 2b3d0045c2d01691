#pragma once
// Runs one coroutine (a client request, say) to completion on a private io_context, bounded, and
// returns its value; its exception is rethrown, and a coroutine still running at the bound fails the test.

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <utility>

#include "net/asio.hpp"

namespace mb::test {

template <class T>
T run_awaitable(net::awaitable<T> task, std::chrono::milliseconds bound = std::chrono::seconds(30)) {
  net::asio::io_context ioc;
  std::optional<T> out;
  std::exception_ptr error;
  net::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    out = std::move(value);
  });
  ioc.run_for(bound);
  if (error) std::rethrow_exception(error);
  REQUIRE(out);
  return std::move(*out);
}

}  // namespace mb::test
