#include "agents/webhook_tools.hpp"

#include <algorithm>

#include <boost/url/parse.hpp>

#include "agents/agent_profile.hpp"
#include "protocol/local_access.hpp"

namespace mb::agents {

std::optional<std::string> webhook_tool_name_problem(std::string_view name) {
  if (!valid_profile_name(name)) return "expected 1-64 letters, digits, '_' or '-'";
  for (const auto built_in : built_in_tool_names)
    if (name == built_in) return "'" + std::string(name) + "' is a built-in tool (docs/tools.md)";
  return std::nullopt;
}

std::optional<std::string> tool_url_problem(std::string_view url) {
  if (url.size() > max_tool_url_chars) return "longer than " + std::to_string(max_tool_url_chars) + " characters";
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->encoded_host().empty()) return "expected an absolute https:// URL";
  if (parsed->has_userinfo()) return "credentials do not belong in the URL (the body is signed instead)";
  if (parsed->scheme() == "https") return std::nullopt;
  if (parsed->scheme() == "http" && protocol::is_loopback_host(parsed->encoded_authority())) return std::nullopt;
  return "expected https://, or http:// to a loopback host (127.0.0.1, [::1], localhost)";
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
