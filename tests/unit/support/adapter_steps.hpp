#pragma once
// For unit tests of the upstream adapters: steps one as the call's I/O shell does, on a fake clock (ms),
// one message (with simdjson's padding after it) or one tick at a time. The events of the last step
// stay in `out`, their views valid until the next step; `describe` makes each one line to compare.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/parse_error.hpp"
#include "tests/unit/support/padded.hpp"
#include "upstream/event.hpp"

namespace mb::test {

template <class Adapter, std::string (*describe)(const upstream::event&)>
struct adapter_steps {
  Adapter adapter;
  std::string buffer;
  std::vector<upstream::event> out;
  std::optional<protocol::parse_error> error;

  template <class... Args>
  explicit adapter_steps(Args&&... args) : adapter(std::forward<Args>(args)...) {}

  std::vector<std::string> step(std::string_view message, std::int64_t now_ms) {
    assign_padded(buffer, message);
    out.clear();
    error = adapter.translate(buffer, buffer.capacity(), now_ms, out);
    return described();
  }

  std::vector<std::string> tick(std::int64_t now_ms) {
    out.clear();
    adapter.on_tick(now_ms, out);
    return described();
  }

  [[nodiscard]] std::vector<std::string> described() const {
    std::vector<std::string> lines;
    for (const auto& e : out) lines.push_back(describe(e));
    return lines;
  }
};

}  // namespace mb::test
