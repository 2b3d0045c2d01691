#include "agents/settings_profile.hpp"

#include <algorithm>
#include <cctype>

#include "call/call_control.hpp"

namespace mb::agents {

protocol::session_config session_from(const config::settings& s) {
  protocol::session_config c;
  c.instructions = s.instructions;
  c.voice = s.openai_voice;
  c.transcription_model = s.transcription_model;
  c.transcription_language = s.transcription_language;
  c.transcription_prompt = s.transcription_prompt;
  switch (s.vad.type) {
    case config::vad_type::server_vad: c.turn_detection = protocol::turn_detection_type::server_vad; break;
    case config::vad_type::semantic_vad: c.turn_detection = protocol::turn_detection_type::semantic_vad; break;
    case config::vad_type::none: c.turn_detection = protocol::turn_detection_type::none; break;
  }
  c.vad_threshold = s.vad.threshold;
  c.vad_prefix_padding_ms = s.vad.prefix_padding_ms;
  c.vad_silence_duration_ms = s.vad.silence_duration_ms;
  c.vad_eagerness = s.vad.eagerness;
  c.vad_create_response = s.vad.create_response;
  c.vad_interrupt_response = s.vad.interrupt_response;
  return c;
}

agent_profile profile_from(const config::settings& settings) {
  agent_profile p;
  p.name = "default";
  p.session = session_from(settings);
  p.greeting = settings.greeting;
  p.provider = settings.provider;
  p.mode = settings.call_mode == "sip" ? call_mode::sip : call_mode::media_stream;
  p.record = settings.record_calls;
  std::string problem;  // none: the settings checked TRANSFER_DESTINATIONS
  for (auto& [name, target] : config::parse_transfer_destinations(settings.transfer_destinations, problem))
    p.tools.transfers.push_back({std::move(name), std::move(target), {}});
  p.tools.transfer_caller_id = settings.transfer_caller_id;
  p.tools.dtmf.gap_ms = settings.dtmf_gap_ms;
  p.tools.dtmf.mask = settings.dtmf_mask;
  call::declare_builtin_tools(p.session, p.tools);
  return p;
}

provider_endpoints endpoints_from(const config::settings& settings) {
  return {.realtime_url = settings.openai_realtime_url,
          .realtime_model = settings.openai_model,
          .live_url = settings.openai_live_url,
          .live_model = settings.openai_live_model,
          .openai_api_key = settings.openai_api_key,
          .azure_endpoint = settings.azure_endpoint,
          .azure_deployment = settings.azure_deployment,
          .azure_live_path = settings.azure_live_path,
          .azure_api_key = settings.azure_api_key,
          .azure_ad_token = settings.azure_ad_token,
          .gemini_url = settings.gemini_live_url,
          .gemini_model = settings.gemini_model,
          .gemini_voice = settings.gemini_voice,
          .gemini_api_key = settings.gemini_api_key};
}

namespace {

// Azure takes an Entra ID token or a key; the token is what Azure recommends, and what OpenAI's own
// Azure client sends when it has both.
header_list azure_headers(const provider_endpoints& e) {
  if (!e.azure_ad_token.empty()) return {{"Authorization", "Bearer " + e.azure_ad_token.reveal()}};
  return {{"api-key", e.azure_api_key.reveal()}};
}

}  // namespace

upstream_target upstream_for(const agent_profile& profile, const provider_endpoints& endpoints) {
  upstream_target target;
  target.provider = profile.provider;
  const auto model_or = [&](const std::string& fallback) { return profile.model.empty() ? fallback : profile.model; };
  switch (profile.provider) {
    case upstream::provider_kind::openai_realtime:
      target.url = realtime_url(endpoints.realtime_url, model_or(endpoints.realtime_model));
      target.headers = {{"Authorization", "Bearer " + endpoints.openai_api_key.reveal()}};
      break;
    case upstream::provider_kind::openai_live:
      target.url = endpoints.live_url;
      target.headers = {{"Authorization", "Bearer " + endpoints.openai_api_key.reveal()}};
      target.session_model = model_or(endpoints.live_model);
      break;
    case upstream::provider_kind::azure_realtime:
      // The GA path takes no api-version, and model= names the deployment (docs/protocols.md G1).
      target.url = realtime_url(websocket_form(endpoints.azure_endpoint).append(azure_realtime_path),
                                model_or(endpoints.azure_deployment));
      target.headers = azure_headers(endpoints);
      break;
    case upstream::provider_kind::azure_live:
      target.url = websocket_form(endpoints.azure_endpoint).append(endpoints.azure_live_path);
      target.headers = azure_headers(endpoints);
      target.session_model = model_or(endpoints.azure_deployment);
      break;
    case upstream::provider_kind::gemini_live:
      target.url = endpoints.gemini_url;
      target.headers = {{"x-goog-api-key", endpoints.gemini_api_key.reveal()}};
      target.session_model = model_or(endpoints.gemini_model);
      target.session_voice = endpoints.gemini_voice;
      break;
  }
  return target;
}

std::string websocket_form(std::string_view url) {
  // Schemes are case-insensitive (RFC 3986 section 3.1).
  const auto has_scheme = [url](std::string_view scheme) {
    return url.size() >= scheme.size() && std::equal(scheme.begin(), scheme.end(), url.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  };
  if (has_scheme("https://")) return "wss://" + std::string(url.substr(8));
  if (has_scheme("http://")) return "ws://" + std::string(url.substr(7));
  return std::string(url);
}

std::string realtime_url(std::string_view base, std::string_view model) {
  std::string url(base);
  url += base.find('?') == std::string_view::npos ? '?' : '&';
  url += "model=";
  url += model;
  return url;
}

}  // namespace mb::agents
