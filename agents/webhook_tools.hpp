#pragma once
// The rules for the `tools` of an agent profile (AGENTS_FILE; docs/agents.md, docs/tools.md): the
// functions the model may call, each answered by a webhook. agent_profile.cpp reads them.
//
// @par Thread Safety
// Pure functions.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call/call_tools.hpp"
#include "protocol/session_config.hpp"

namespace mb::agents {

inline constexpr std::size_t max_webhook_tools = 32;
inline constexpr std::size_t max_tool_description_chars = 2000;
inline constexpr std::size_t max_tool_parameters_bytes = 16 * 1024;  // the schema, serialised
inline constexpr std::size_t max_tool_url_chars = 2048;
inline constexpr int min_tool_timeout_ms = 100;
inline constexpr int max_tool_timeout_ms = 60000;

// The names of the built-in call-control tools: a webhook tool may not take them.
inline constexpr std::string_view built_in_tool_names[] = {"end_call", "transfer_call"};

// Why `name` may not name a webhook tool, or nullopt: like a profile name, and not a built-in tool's.
[[nodiscard]] std::optional<std::string> webhook_tool_name_problem(std::string_view name);

// Why `url` may not be a tool's webhook, or nullopt: https://, or http:// to a loopback host (tests, the
// demo), no credentials in it.
[[nodiscard]] std::optional<std::string> tool_url_problem(std::string_view url);

// Declares each of `tools` in `session` unless it already declares that name: the provider learns of
// a profile's webhook tools (demo mode's included) from its session configuration.
void declare_webhook_tools(protocol::session_config& session, const std::vector<call::webhook_tool>& tools);

}  // namespace mb::agents
