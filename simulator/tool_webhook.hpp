#pragma once
// The simulator's tool webhook (POST /tools/<name> on its own listener): what a scripted tool
// answers and how its answer's body is made. Pure; upstream_simulator.cpp serves it.
//
// @par Thread Safety
// Pure functions and plain values.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mb::simulator {

enum class tool_reply_kind {
  echo,          // {"ok":true,"tool":<name>,"arguments":<the request's arguments, null when absent>}
  fixed,        // tool_reply::body as it is
  invalid_json,  // a body that is not JSON
  oversize,      // valid JSON larger than the bridge's 64 KiB bound on results
};

struct tool_reply {
  tool_reply_kind kind = tool_reply_kind::echo;
  std::string body;  // fixed: the body sent
  unsigned status = 200;
  std::chrono::milliseconds delay{0};  // before answering (timeout tests)
};

// Bodies of oversize replies: one byte past the 64 KiB a tool result may have.
inline constexpr std::size_t oversize_reply_bytes = 64 * 1024 + 1;

// A reply from its command-line spelling: "echo", "json:<JSON>", "status:<code>" (an error body with
// that status), "delay:<ms>" (echo after that long), "invalid" or "oversize". nullopt when it is
// none of these (or json: is not valid JSON, or the status is outside 100-599).
[[nodiscard]] std::optional<tool_reply> parse_tool_reply(std::string_view spec);

// The tool name of a webhook request target "/tools/<name>": 1-64 letters, digits, '_' or '-',
// no query. nullopt for any other target.
[[nodiscard]] std::optional<std::string> tool_name_of(std::string_view target);

// The body `reply` answers `request_body` of tool `tool` with.
[[nodiscard]] std::string tool_reply_body(const tool_reply& reply, std::string_view tool, std::string_view request_body);

}  // namespace mb::simulator
