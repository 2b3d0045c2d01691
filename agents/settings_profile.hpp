#pragma once
// The agent profile the settings describe (always there, named "default"), and each call's upstream:
// which provider answers, at which URL, with which model.
//
// @par Thread Safety
// Pure functions of their arguments.

#include <string>
#include <string_view>

#include "agents/agent_profile.hpp"
#include "config/settings.hpp"
#include "protocol/session_config.hpp"
#include "upstream/provider.hpp"

namespace mb::agents {

// The session the settings describe: INSTRUCTIONS, OPENAI_VOICE, TRANSCRIPTION_*, VAD_*.
[[nodiscard]] protocol::session_config session_from(const config::settings& settings);

// The profile "default": session_from, GREETING and PROVIDER. Its model is left empty, so that each
// provider runs the one its settings name (upstream_for).
[[nodiscard]] agent_profile profile_from(const config::settings& settings);

// Where each provider is reached, and the model it runs for a profile that names none.
struct provider_endpoints {
  std::string realtime_url;    // OPENAI_REALTIME_URL; each call adds ?model=
  std::string realtime_model;  // OPENAI_MODEL
  std::string live_url;        // OPENAI_LIVE_URL, used as it is
  std::string live_model;      // OPENAI_LIVE_MODEL
};

[[nodiscard]] provider_endpoints endpoints_from(const config::settings& settings);

// A call's upstream as its profile decides it.
struct upstream_target {
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  std::string url;            // what the bridge connects to
  std::string session_model;  // session_config::model: GPT-Live names it in session.start; empty for the
                              // Realtime API, whose model is in the URL
};

[[nodiscard]] upstream_target upstream_for(const agent_profile& profile, const provider_endpoints& endpoints);

// The Realtime URL for `model`: `base` plus ?model= (or &model=).
[[nodiscard]] std::string realtime_url(std::string_view base, std::string_view model);

}  // namespace mb::agents
