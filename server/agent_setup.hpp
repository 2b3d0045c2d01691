#pragma once
// Agent profiles at run time: loading AGENTS_FILE, and each call's setup when its stream starts.
// The webhook chose the profile and passed it, with the form fields its templates use, as
// <Parameter>s; Twilio hands them back in start.customParameters.

#include <optional>
#include <string>

#include "agents/agent_profile.hpp"
#include "agents/settings_profile.hpp"
#include "bridge/call_session.hpp"
#include "config/settings.hpp"

namespace mb::server {

// The <Parameter> naming the chosen profile.
inline constexpr std::string_view agent_parameter = "agent";

// `base` (what the settings describe, agents::profile_from, named "default") plus AGENTS_FILE's
// profiles, with DEFAULT_AGENT checked. Reads the file. nullopt with `error` when the file or a profile is invalid.
[[nodiscard]] std::optional<agents::agent_catalog> load_agents(const config::settings& settings,
                                                               agents::agent_profile base, std::string& error);

// Runs on the call's thread when start arrives: the profile the `agent` parameter names (else the one
// claiming the To parameter, else the default) with its templates filled from customParameters and
// its defaults, and its provider's upstream URL and credential header (agents::upstream_for). Logs a
// warning naming each variable left empty. nullopt, logged, for an unknown profile.
[[nodiscard]] std::optional<bridge::call_setup> resolve_call(const agents::agent_catalog& catalog,
                                                             const agents::provider_endpoints& endpoints,
                                                             const protocol::twilio_start& start);

}  // namespace mb::server
