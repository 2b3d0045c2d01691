#include "agents/webhook_tools.hpp"

#include <algorithm>

#include "agents/agent_profile.hpp"
#include "protocol/webhook_signature.hpp"

namespace mb::agents {

std::optional<std::string> webhook_tool_name_problem(std::string_view name) {
  if (!valid_profile_name(name)) return "expected 1-64 letters, digits, '_' or '-'";
  for (const auto built_in : built_in_tool_names)
    if (name == built_in) return "'" + std::string(name) + "' is a built-in tool (docs/tools.md)";
  return std::nullopt;
}

std::optional<std::string> tool_url_problem(std::string_view url) {
  return protocol::webhook_url_problem(url, max_tool_url_chars);
}

void declare_webhook_tools(protocol::session_config& session, const std::vector<call::webhook_tool>& tools) {
  for (const auto& tool : tools) {
    const bool declared = std::any_of(session.tools.begin(), session.tools.end(), [&](const protocol::tool_declaration& d) {
      return d.name == tool.declaration.name;
    });
    if (!declared) session.tools.push_back(tool.declaration);
  }
}

}  // namespace mb::agents
