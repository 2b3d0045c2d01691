#pragma once
// Demo mode, decided per provider: a provider whose credentials are not set is served by the built-in
// simulator, so that a bridge without any account still answers calls, and one with an OpenAI key
// still tries Gemini in a profile. Settings that name a provider but cannot reach it are refused.
// docs/configuration.md, "Demo mode".
//
// @par Thread Safety
// Pure functions of their arguments.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agents/agent_profile.hpp"
#include "agents/settings_profile.hpp"
#include "config/settings.hpp"
#include "upstream/provider.hpp"

namespace mb::agents {

struct provider_mode {
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  bool in_use = false;     // a profile (the settings' default included) names it
  bool simulated = false;  // its credentials are not set
};

struct demo_plan {
  std::vector<provider_mode> providers;  // one per provider kind, in upstream::all_providers order

  [[nodiscard]] bool simulated(upstream::provider_kind provider) const;
  // A provider in use is simulated: the simulator must run.
  [[nodiscard]] bool needs_simulator() const;
};

// Which providers are simulated. nullopt with `error` ("VARIABLE: problem", naming no secret) when a
// provider in use has its credentials but not what it needs besides them: an Azure provider whose
// profile names no deployment (model) while AZURE_OPENAI_DEPLOYMENT is empty. (A credential without
// AZURE_OPENAI_ENDPOINT is refused by config::load already.)
[[nodiscard]] std::optional<demo_plan> plan_demo(const config::settings& settings,
                                                 std::span<const agent_profile> profiles, std::string& error);

// What to set to reach a provider for real, e.g. "GEMINI_API_KEY".
[[nodiscard]] std::string_view credentials_for(upstream::provider_kind provider) noexcept;

// Where the built-in simulator answers each protocol.
struct simulator_urls {
  std::string realtime;  // ws://HOST:PORT/v1/realtime (each call adds ?model=)
  std::string live;      // GPT-Live's URL
  std::string azure;     // the simulator's base URL, http://HOST:PORT: it serves Azure's paths
  std::string gemini;    // Gemini Live's URL
  std::string tools;     // http://HOST:PORT/tools: the simulator's tool webhooks, <tools>/<name>
};

// The tool demo mode shows: the built-in simulator calls it on the caller's second turn (with
// demo_tool_arguments) and answers its webhook by echoing the call.
inline constexpr std::string_view demo_tool_name = "lookup_order";
inline constexpr std::string_view demo_tool_arguments = R"({"order_id":"A-17"})";

// `profiles` with the demo tool declared, its webhook the simulator's, in each profile a simulated
// provider serves (unless it already has a tool of that name).
[[nodiscard]] std::vector<agent_profile> with_demo_tool(std::vector<agent_profile> profiles, const demo_plan& plan,
                                                        const simulator_urls& simulator);

// `endpoints` with every simulated provider's URL and credential replaced by the simulator's, which
// accepts any credential ("demo"). An Azure deployment left empty becomes "demo".
[[nodiscard]] provider_endpoints simulated_endpoints(provider_endpoints endpoints, const demo_plan& plan,
                                                     const simulator_urls& simulator);

// One startup line per provider in use: where it connects and with which credential (never its
// value), or that it is simulated and what to set instead.
[[nodiscard]] std::vector<std::string> describe(const demo_plan& plan, const provider_endpoints& endpoints);

}  // namespace mb::agents
