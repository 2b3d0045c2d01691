#include "agents/demo_mode.hpp"

#include <algorithm>

namespace mb::agents {
namespace {

using upstream::provider_kind;

bool is_azure(provider_kind p) noexcept { return p == provider_kind::azure_realtime || p == provider_kind::azure_live; }

bool has_credentials(const config::settings& s, provider_kind p) noexcept {
  switch (p) {
    case provider_kind::openai_realtime:
    case provider_kind::openai_live: return !s.openai_api_key.empty();
    case provider_kind::azure_realtime:
    case provider_kind::azure_live: return !s.azure_api_key.empty() || !s.azure_ad_token.empty();
    case provider_kind::gemini_live: return !s.gemini_api_key.empty();
  }
  return false;
}

std::string azure_credential(const provider_endpoints& e) {
  if (e.azure_ad_token.empty()) return "api-key (AZURE_OPENAI_API_KEY)";
  if (e.azure_api_key.empty()) return "Entra ID token (AZURE_OPENAI_AD_TOKEN)";
  return "Entra ID token (AZURE_OPENAI_AD_TOKEN; AZURE_OPENAI_API_KEY is set too and unused)";
}

std::string or_default(const std::string& value) { return value.empty() ? "(none: each profile names it)" : value; }

}  // namespace

bool demo_plan::simulated(provider_kind provider) const {
  return std::any_of(providers.begin(), providers.end(),
                     [provider](const provider_mode& m) { return m.provider == provider && m.simulated; });
}

bool demo_plan::needs_simulator() const {
  return std::any_of(providers.begin(), providers.end(), [](const provider_mode& m) { return m.in_use && m.simulated; });
}

std::optional<demo_plan> plan_demo(const config::settings& settings, std::span<const agent_profile> profiles,
                                   std::string& error) {
  demo_plan plan;
  for (const auto kind : upstream::all_providers) {
    provider_mode mode{.provider = kind, .simulated = !has_credentials(settings, kind)};
    for (const auto& profile : profiles) {
      if (profile.provider != kind) continue;
      mode.in_use = true;
      if (!mode.simulated && is_azure(kind) && profile.model.empty() && settings.azure_deployment.empty()) {
        error = "AZURE_OPENAI_DEPLOYMENT: must be set: agent profile '" + profile.name + "' uses " +
                std::string(upstream::to_string(kind)) + " and names no deployment (\"model\")";
        return std::nullopt;
      }
    }
    plan.providers.push_back(mode);
  }
  return plan;
}

std::string_view credentials_for(provider_kind provider) noexcept {
  switch (provider) {
    case provider_kind::openai_realtime:
    case provider_kind::openai_live: return "OPENAI_API_KEY";
    case provider_kind::azure_realtime:
    case provider_kind::azure_live:
      return "AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN";
    case provider_kind::gemini_live: return "GEMINI_API_KEY";
  }
  return "";
}

provider_endpoints simulated_endpoints(provider_endpoints endpoints, const demo_plan& plan,
                                       const simulator_urls& simulator) {
  const config::secret any_key("demo");
  // One key serves both OpenAI protocols, and one endpoint and credential both Azure ones: each pair
  // is simulated together.
  if (plan.simulated(provider_kind::openai_realtime)) {
    endpoints.realtime_url = simulator.realtime;
    endpoints.live_url = simulator.live;
    endpoints.openai_api_key = any_key;
  }
  if (plan.simulated(provider_kind::azure_realtime)) {
    endpoints.azure_endpoint = simulator.azure;
    endpoints.azure_api_key = any_key;
    endpoints.azure_ad_token = {};
    if (endpoints.azure_deployment.empty()) endpoints.azure_deployment = "demo";
  }
  if (plan.simulated(provider_kind::gemini_live)) {
    endpoints.gemini_url = simulator.gemini;
    endpoints.gemini_api_key = any_key;
  }
  return endpoints;
}

std::vector<agent_profile> with_demo_tool(std::vector<agent_profile> profiles, const demo_plan& plan,
                                         const simulator_urls& simulator) {
  for (auto& profile : profiles) {
    if (!plan.simulated(profile.provider)) continue;
    auto& tools = profile.tools.tools;
    if (std::any_of(tools.begin(), tools.end(),
                    [](const call::webhook_tool& t) { return t.declaration.name == demo_tool_name; }))
      continue;
    call::webhook_tool tool;
    tool.declaration = {.name = std::string(demo_tool_name),
                        .description = "Looks up an order by its id (demo: the simulator echoes the request).",
                        .parameters_json = R"({"type":"object","properties":{"order_id":{"type":"string",)"
                                           R"("description":"The order's id"}},"required":["order_id"]})"};
    tool.url = simulator.tools + "/" + std::string(demo_tool_name);
    tools.push_back(std::move(tool));
  }
  return profiles;
}

std::vector<std::string> describe(const demo_plan& plan, const provider_endpoints& endpoints) {
  std::vector<std::string> lines;
  for (const auto& mode : plan.providers) {
    if (!mode.in_use) continue;
    std::string line = "upstream ";
    line += upstream::to_string(mode.provider);
    if (mode.simulated) {
      line += ": SIMULATED by the built-in simulator (set ";
      line += credentials_for(mode.provider);
      line += " to reach the real service)";
      lines.push_back(std::move(line));
      continue;
    }
    switch (mode.provider) {
      case provider_kind::openai_realtime:
        line += ": " + endpoints.realtime_url + ", model " + endpoints.realtime_model + ", OPENAI_API_KEY";
        break;
      case provider_kind::openai_live:
        line += ": " + endpoints.live_url + ", model " + endpoints.live_model + ", OPENAI_API_KEY";
        break;
      case provider_kind::azure_realtime:
        line += ": " + websocket_form(endpoints.azure_endpoint) + std::string(azure_realtime_path) + ", deployment " +
                or_default(endpoints.azure_deployment) + ", " + azure_credential(endpoints);
        break;
      case provider_kind::azure_live:
        line += ": " + websocket_form(endpoints.azure_endpoint) + endpoints.azure_live_path + ", deployment " +
                or_default(endpoints.azure_deployment) + ", " + azure_credential(endpoints);
        break;
      case provider_kind::gemini_live:
        line += ": " + endpoints.gemini_url + ", model " + endpoints.gemini_model + ", GEMINI_API_KEY";
        break;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace mb::agents
