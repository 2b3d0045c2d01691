#pragma once
// The agent profile the settings describe (always there, named "default"), and each call's upstream:
// which provider answers, at which URL, with which model.
//
// @par Thread Safety
// Pure functions of their arguments.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agents/agent_profile.hpp"
#include "config/settings.hpp"
#include "protocol/session_config.hpp"
#include "upstream/provider.hpp"

namespace mb::agents {

// The session the settings describe: INSTRUCTIONS, OPENAI_VOICE, TRANSCRIPTION_*, VAD_*.
[[nodiscard]] protocol::session_config session_from(const config::settings& settings);

// The profile "default": session_from, GREETING, PROVIDER, CALL_MODE, TRANSFER_DESTINATIONS, TRANSFER_CALLER_ID and
// DTMF_* (with the built-in tools declared: call_control.hpp). Its model is left empty, so that each
// provider runs the one its settings name (upstream_for).
[[nodiscard]] agent_profile profile_from(const config::settings& settings);

// Where each provider is reached, with which credential, and the model it runs for a profile that
// names none. In demo mode the simulated providers' URLs and credentials are the simulator's
// (demo_mode.hpp).
struct provider_endpoints {
  std::string realtime_url;    // OPENAI_REALTIME_URL; each call adds ?model=
  std::string realtime_model;  // OPENAI_MODEL
  std::string live_url;        // OPENAI_LIVE_URL, used as it is
  std::string live_model;      // OPENAI_LIVE_MODEL
  config::secret openai_api_key;
  std::string azure_endpoint;    // AZURE_OPENAI_ENDPOINT: http(s) or ws(s), no trailing '/'
  std::string azure_deployment;  // AZURE_OPENAI_DEPLOYMENT
  std::string azure_live_path;   // AZURE_OPENAI_LIVE_PATH
  config::secret azure_api_key;
  config::secret azure_ad_token;  // wins over azure_api_key
  std::string gemini_url;    // GEMINI_LIVE_URL, used as it is
  std::string gemini_model;  // GEMINI_MODEL
  std::string gemini_voice;  // GEMINI_VOICE
  config::secret gemini_api_key;
};

[[nodiscard]] provider_endpoints endpoints_from(const config::settings& settings);

// HTTP headers of the WebSocket upgrade. They carry credentials: never log them.
using header_list = std::vector<std::pair<std::string, std::string>>;

// A call's upstream as its profile decides it.
struct upstream_target {
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  std::string url;            // what the bridge connects to; never holds a credential
  header_list headers;        // the provider's credential header
  std::string session_model;  // session_config::model: GPT-Live and Gemini name it in their first message;
                              // empty for the Realtime API, whose model (Azure: deployment) is in the URL
  std::string session_voice;  // replaces session_config::voice: Gemini's names are not OpenAI's; empty: keep it
};

// OpenAI: Authorization: Bearer OPENAI_API_KEY. Azure: AZURE_OPENAI_ENDPOINT in its ws form plus
// /openai/v1/realtime?model=<deployment> or AZURE_OPENAI_LIVE_PATH, with Authorization: Bearer
// <AD token>, else api-key. Gemini: GEMINI_LIVE_URL with x-goog-api-key. The profile's model, when it
// names one, is the model (Azure: the deployment). docs/configuration.md, "Provider".
[[nodiscard]] upstream_target upstream_for(const agent_profile& profile, const provider_endpoints& endpoints);

// The Realtime URL for `model`: `base` plus ?model= (or &model=).
[[nodiscard]] std::string realtime_url(std::string_view base, std::string_view model);

// `url` with http:// turned into ws:// and https:// into wss:// (Azure's endpoint is given as the
// resource's https URL); other URLs as they are.
[[nodiscard]] std::string websocket_form(std::string_view url);

// The path of the Realtime API on an Azure resource (docs/protocols.md G1).
inline constexpr std::string_view azure_realtime_path = "/openai/v1/realtime";

}  // namespace mb::agents
