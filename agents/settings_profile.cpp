#include "agents/settings_profile.hpp"

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
  return p;
}

provider_endpoints endpoints_from(const config::settings& settings) {
  return {.realtime_url = settings.openai_realtime_url,
          .realtime_model = settings.openai_model,
          .live_url = settings.openai_live_url,
          .live_model = settings.openai_live_model};
}

upstream_target upstream_for(const agent_profile& profile, const provider_endpoints& endpoints) {
  upstream_target target;
  target.provider = profile.provider;
  switch (profile.provider) {
    case upstream::provider_kind::openai_realtime:
    case upstream::provider_kind::azure_realtime:  // placeholder until the Azure settings land (issue 15)
      target.url = realtime_url(endpoints.realtime_url,
                                profile.model.empty() ? endpoints.realtime_model : profile.model);
      break;
    case upstream::provider_kind::openai_live:
    case upstream::provider_kind::azure_live:
    case upstream::provider_kind::gemini_live:
      target.url = endpoints.live_url;
      target.session_model = profile.model.empty() ? endpoints.live_model : profile.model;
      break;
  }
  return target;
}

std::string realtime_url(std::string_view base, std::string_view model) {
  std::string url(base);
  url += base.find('?') == std::string_view::npos ? '?' : '&';
  url += "model=";
  url += model;
  return url;
}

}  // namespace mb::agents
