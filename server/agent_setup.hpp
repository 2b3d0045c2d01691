#pragma once
// Agent profiles at run time: loading AGENTS_FILE, and each call's setup when its stream starts.
// The webhook chose the profile and passed it, with the form fields its templates use, as
// <Parameter>s; Twilio hands them back in start.customParameters.

#include <optional>
#include <string>

#include "agents/agent_profile.hpp"
#include "agents/demo_mode.hpp"
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

// What SIP-mode profiles' <Dial><Sip> dials (docs/sip.md): OPENAI_SIP_URI; when it is empty and every
// SIP-mode profile's provider is simulated, `demo_uri` (the simulator's). "" when no profile is in SIP
// mode. nullopt with `error` naming OPENAI_SIP_URI and the profile when one has no URI.
[[nodiscard]] std::optional<std::string> sip_uri_for(const config::settings& settings,
                                                     const agents::agent_catalog& catalog,
                                                     const agents::demo_plan& plan, std::string_view demo_uri,
                                                     std::string& error);

// A profile's session, greeting and tools for one call: its {{variables}} filled from `values`, then its
// defaults (a warning naming `call_sid` for each left empty), its webhook tools declared.
struct rendered_agent {
  protocol::session_config session;
  std::string greeting;
  call::call_tools_config tools;
};
[[nodiscard]] rendered_agent render_agent(const agents::agent_profile& profile, const agents::variables& values,
                                          std::string_view call_sid);

// What a call with the profile gets: its session, greeting and tools (render_agent; warnings name
// `call_sid`), and its provider's upstream URL and credential header (agents::upstream_for) with the
// model and voice the provider takes. The prober (server/probe_setup.hpp) opens its sessions with it.
[[nodiscard]] bridge::call_setup setup_for(const agents::agent_profile& profile,
                                           const agents::provider_endpoints& endpoints,
                                           const agents::variables& values, std::string_view call_sid);

// Runs on the call's thread when start arrives: the profile the `agent` parameter names (else the one
// claiming the To parameter, else the default) with its templates filled from customParameters and
// its defaults, and its provider's upstream URL and credential header (agents::upstream_for). Logs a
// warning naming each variable left empty. nullopt, logged, for an unknown profile.
[[nodiscard]] std::optional<bridge::call_setup> resolve_call(const agents::agent_catalog& catalog,
                                                             const agents::provider_endpoints& endpoints,
                                                             const protocol::twilio_start& start);

}  // namespace mb::server
