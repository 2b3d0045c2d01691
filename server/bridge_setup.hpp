#pragma once
// What the settings decide for every call, turned into the call core's terms: settings are plain
// numbers with their units in their names; the call core takes std::chrono durations.

#include "agents/settings_profile.hpp"
#include "bridge/call_session.hpp"
#include "call/call_supervisor.hpp"
#include "config/settings.hpp"

namespace mb::server {

// Each call's deadlines, upstream reconnects and rollover, for the Realtime API.
[[nodiscard]] call::supervisor_options supervisor_options_from(const config::settings& settings);

// Twilio's REST API client options: TWILIO_ACCOUNT_SID with TWILIO_API_KEY_SID/SECRET when a key is set,
// else with TWILIO_AUTH_TOKEN; base URL, per-attempt timeout and retries.
[[nodiscard]] telephony::twilio_client_options twilio_client_options_from(const config::settings& settings);

// What every call takes from the settings: the default profile's session and greeting, its provider,
// upstream URL and credential header at `endpoints` (the settings' own, or for simulated providers the
// simulator's: agents/demo_mode.hpp), per-call options, socket limits and the lifecycle. The process
// adds what is not a setting: tls, registry, events, metrics, peer_lines, authorize_start, resolve.
[[nodiscard]] bridge::bridge_context bridge_context_from(const config::settings& settings,
                                                         const agents::provider_endpoints& endpoints);

}  // namespace mb::server
