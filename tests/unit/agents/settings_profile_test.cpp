#include "agents/settings_profile.hpp"

#include <catch2/catch.hpp>

using namespace mb::agents;
using mb::upstream::provider_kind;

namespace {

mb::config::settings loaded(const mb::config::env_map& env) {
  auto r = mb::config::load({}, env);
  INFO((r.error ? r.error->variable + ": " + r.error->problem : std::string()));
  REQUIRE(r.value);
  return *r.value;
}

const provider_endpoints endpoints{.realtime_url = "wss://rt.example/v1/realtime",
                                   .realtime_model = "gpt-realtime",
                                   .live_url = "wss://live.example/v1/live/sessions",
                                   .live_model = "gpt-live-1"};

agent_profile with_provider(provider_kind provider, std::string model = {}) {
  agent_profile p;
  p.provider = provider;
  p.model = std::move(model);
  return p;
}

}  // namespace

TEST_CASE("the settings' session carries the caller's language and transcription prompt", "[agents]") {
  const auto s = loaded({{"TRANSCRIPTION_LANGUAGE", "ja"},
                         {"TRANSCRIPTION_PROMPT", "Acme, Zyxel"},
                         {"TRANSCRIPTION_MODEL", "gpt-4o-transcribe"},
                         {"INSTRUCTIONS", "Be brief."},
                         {"OPENAI_VOICE", "cedar"},
                         {"VAD_TYPE", "semantic_vad"},
                         {"VAD_EAGERNESS", "low"},
                         {"VAD_INTERRUPT_RESPONSE", "false"}});
  const auto session = session_from(s);
  CHECK(session.transcription_language == "ja");
  CHECK(session.transcription_prompt == "Acme, Zyxel");
  CHECK(session.transcription_model == "gpt-4o-transcribe");
  CHECK(session.instructions == "Be brief.");
  CHECK(session.voice == "cedar");
  CHECK(session.turn_detection == mb::protocol::turn_detection_type::semantic_vad);
  CHECK(session.vad_eagerness == "low");
  CHECK_FALSE(session.vad_interrupt_response);
  CHECK(session.model.empty());

  const auto defaults = session_from(loaded({}));
  CHECK(defaults.transcription_language.empty());
  CHECK(defaults.transcription_prompt.empty());
}

TEST_CASE("the settings' profile is 'default', on PROVIDER, with each provider's own model", "[agents]") {
  const auto profile = profile_from(loaded({{"PROVIDER", "openai-live"}, {"GREETING", "Say hi."}}));
  CHECK(profile.name == "default");
  CHECK(profile.provider == provider_kind::openai_live);
  CHECK(profile.greeting == "Say hi.");
  CHECK(profile.model.empty());
  CHECK(profile_from(loaded({})).provider == provider_kind::openai_realtime);

  const auto e = endpoints_from(loaded({{"OPENAI_REALTIME_URL", "ws://127.0.0.1:1/v1/realtime"},
                                        {"OPENAI_MODEL", "gpt-realtime-mini"},
                                        {"OPENAI_LIVE_URL", "ws://127.0.0.1:2/v1/live/sessions"},
                                        {"OPENAI_LIVE_MODEL", "gpt-live-1-mini"}}));
  CHECK(e.realtime_url == "ws://127.0.0.1:1/v1/realtime");
  CHECK(e.realtime_model == "gpt-realtime-mini");
  CHECK(e.live_url == "ws://127.0.0.1:2/v1/live/sessions");
  CHECK(e.live_model == "gpt-live-1-mini");
}

TEST_CASE("a call's upstream: the Realtime API's model in its URL, GPT-Live's in the session", "[agents]") {
  SECTION("Realtime API, the settings' model") {
    const auto t = upstream_for(with_provider(provider_kind::openai_realtime), endpoints);
    CHECK(t.provider == provider_kind::openai_realtime);
    CHECK(t.url == "wss://rt.example/v1/realtime?model=gpt-realtime");
    CHECK(t.session_model.empty());
  }
  SECTION("Realtime API, the profile's model") {
    const auto t = upstream_for(with_provider(provider_kind::openai_realtime, "gpt-realtime-mini"), endpoints);
    CHECK(t.url == "wss://rt.example/v1/realtime?model=gpt-realtime-mini");
  }
  SECTION("GPT-Live, the settings' model") {
    const auto t = upstream_for(with_provider(provider_kind::openai_live), endpoints);
    CHECK(t.provider == provider_kind::openai_live);
    CHECK(t.url == "wss://live.example/v1/live/sessions");
    CHECK(t.session_model == "gpt-live-1");
  }
  SECTION("GPT-Live, the profile's model") {
    const auto t = upstream_for(with_provider(provider_kind::openai_live, "gpt-live-1-mini"), endpoints);
    CHECK(t.url == "wss://live.example/v1/live/sessions");
    CHECK(t.session_model == "gpt-live-1-mini");
  }
}

TEST_CASE("realtime_url adds the model to a URL with or without a query", "[agents]") {
  CHECK(realtime_url("wss://a/v1/realtime", "m") == "wss://a/v1/realtime?model=m");
  CHECK(realtime_url("wss://a/v1/realtime?api-version=1", "m") == "wss://a/v1/realtime?api-version=1&model=m");
}
