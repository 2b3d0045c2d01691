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

const std::string openai_key = "sk-openai-DO-NOT-LEAK";
const std::string azure_key = "azure-key-DO-NOT-LEAK";
const std::string azure_token = "eyJ-entra-DO-NOT-LEAK";
const std::string gemini_key = "AIza-gemini-DO-NOT-LEAK";

const provider_endpoints endpoints{.realtime_url = "wss://rt.example/v1/realtime",
                                   .realtime_model = "gpt-realtime",
                                   .live_url = "wss://live.example/v1/live/sessions",
                                   .live_model = "gpt-live-1",
                                   .openai_api_key = mb::config::secret(openai_key),
                                   .azure_endpoint = "https://res.openai.azure.com",
                                   .azure_deployment = "rt-deployment",
                                   .azure_live_path = "/openai/v1/live",
                                   .azure_api_key = mb::config::secret(azure_key),
                                   .azure_ad_token = {},
                                   .gemini_url = "wss://gemini.example/ws/BidiGenerateContent",
                                   .gemini_model = "gemini-3.8-live",
                                   .gemini_voice = "Puck",
                                   .gemini_api_key = mb::config::secret(gemini_key)};

using header_pair = std::pair<std::string, std::string>;

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

TEST_CASE("the settings' profile carries the transfer allowlist, caller ID and DTMF settings", "[agents][control]") {
  const auto profile = profile_from(loaded({{"TRANSFER_DESTINATIONS", "sales=+15551230000,desk=sip:desk@pbx.example.com"},
                                            {"TRANSFER_CALLER_ID", "+15559870000"},
                                            {"DTMF_GAP_MS", "1200"},
                                            {"DTMF_MASK", "true"}}));
  REQUIRE(profile.tools.transfers.size() == 2);
  CHECK(profile.tools.transfers[0].name == "sales");
  CHECK(profile.tools.transfers[0].target == "+15551230000");
  CHECK(profile.tools.transfers[1].target == "sip:desk@pbx.example.com");
  CHECK(profile.tools.transfer_caller_id == "+15559870000");
  CHECK(profile.tools.dtmf.gap_ms == 1200);
  CHECK(profile.tools.dtmf.mask);
  REQUIRE(profile.session.tools.size() == 2);
  CHECK(profile.session.tools[0].name == "end_call");
  CHECK(profile.session.tools[1].name == "transfer_call");
  // Without an allowlist only end_call is declared.
  const auto plain = profile_from(loaded({}));
  REQUIRE(plain.session.tools.size() == 1);
  CHECK(plain.session.tools[0].name == "end_call");
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

TEST_CASE("each provider's credential goes in its header, never in the URL", "[agents]") {
  using headers = header_list;
  const auto bearer = [](const std::string& v) { return headers{header_pair{"Authorization", "Bearer " + v}}; };
  CHECK(upstream_for(with_provider(provider_kind::openai_realtime), endpoints).headers == bearer(openai_key));
  CHECK(upstream_for(with_provider(provider_kind::openai_live), endpoints).headers == bearer(openai_key));
  CHECK(upstream_for(with_provider(provider_kind::azure_realtime), endpoints).headers ==
        headers{header_pair{"api-key", azure_key}});
  CHECK(upstream_for(with_provider(provider_kind::azure_live), endpoints).headers ==
        headers{header_pair{"api-key", azure_key}});
  CHECK(upstream_for(with_provider(provider_kind::gemini_live), endpoints).headers ==
        headers{header_pair{"x-goog-api-key", gemini_key}});

  // The Entra ID token wins over the key: one credential header, never both.
  auto with_token = endpoints;
  with_token.azure_ad_token = mb::config::secret(azure_token);
  for (const auto kind : {provider_kind::azure_realtime, provider_kind::azure_live})
    CHECK(upstream_for(with_provider(kind), with_token).headers == bearer(azure_token));
  with_token.azure_api_key = {};
  CHECK(upstream_for(with_provider(provider_kind::azure_live), with_token).headers == bearer(azure_token));

  for (const auto kind : mb::upstream::all_providers) {
    const auto url = upstream_for(with_provider(kind), with_token).url;
    CAPTURE(url);
    for (const auto& secret : {openai_key, azure_key, azure_token, gemini_key}) CHECK(url.find(secret) == std::string::npos);
  }
}

TEST_CASE("Azure: the resource's ws URL, the deployment as the model, no api-version", "[agents]") {
  SECTION("Realtime: the GA path with ?model=<deployment>") {
    const auto t = upstream_for(with_provider(provider_kind::azure_realtime), endpoints);
    CHECK(t.provider == provider_kind::azure_realtime);
    CHECK(t.url == "wss://res.openai.azure.com/openai/v1/realtime?model=rt-deployment");
    CHECK(t.session_model.empty());
    CHECK(upstream_for(with_provider(provider_kind::azure_realtime, "other-dep"), endpoints).url ==
          "wss://res.openai.azure.com/openai/v1/realtime?model=other-dep");
  }
  SECTION("GPT-Live: AZURE_OPENAI_LIVE_PATH, the deployment in the session") {
    const auto t = upstream_for(with_provider(provider_kind::azure_live), endpoints);
    CHECK(t.url == "wss://res.openai.azure.com/openai/v1/live");
    CHECK(t.session_model == "rt-deployment");
    auto sessions_path = endpoints;
    sessions_path.azure_live_path = "/openai/v1/live/sessions";
    const auto own = upstream_for(with_provider(provider_kind::azure_live, "live-dep"), sessions_path);
    CHECK(own.url == "wss://res.openai.azure.com/openai/v1/live/sessions");
    CHECK(own.session_model == "live-dep");
  }
  SECTION("an http endpoint (the simulator) becomes ws") {
    auto local = endpoints;
    local.azure_endpoint = "http://127.0.0.1:4321";
    CHECK(upstream_for(with_provider(provider_kind::azure_realtime), local).url ==
          "ws://127.0.0.1:4321/openai/v1/realtime?model=rt-deployment");
  }
}

TEST_CASE("Gemini: GEMINI_LIVE_URL as it is, the model and Gemini's own voice in the session", "[agents]") {
  const auto t = upstream_for(with_provider(provider_kind::gemini_live), endpoints);
  CHECK(t.provider == provider_kind::gemini_live);
  CHECK(t.url == "wss://gemini.example/ws/BidiGenerateContent");
  CHECK(t.session_model == "gemini-3.8-live");
  CHECK(upstream_for(with_provider(provider_kind::gemini_live, "gemini-3.8-live-extended-thinking"), endpoints)
            .session_model == "gemini-3.8-live-extended-thinking");
  CHECK(t.session_voice == "Puck");
  // The other providers keep the profile's (OpenAI) voice.
  for (const auto kind : {provider_kind::openai_realtime, provider_kind::openai_live, provider_kind::azure_realtime,
                          provider_kind::azure_live})
    CHECK(upstream_for(with_provider(kind), endpoints).session_voice.empty());
}

TEST_CASE("websocket_form turns http(s) into ws(s) and leaves the rest", "[agents]") {
  CHECK(websocket_form("https://res.openai.azure.com") == "wss://res.openai.azure.com");
  CHECK(websocket_form("HTTPS://res.openai.azure.com") == "wss://res.openai.azure.com");
  CHECK(websocket_form("http://127.0.0.1:1") == "ws://127.0.0.1:1");
  CHECK(websocket_form("wss://a") == "wss://a");
  CHECK(websocket_form("ws://a") == "ws://a");
}

TEST_CASE("the settings' endpoints carry every provider's settings and credentials", "[agents]") {
  const auto e = endpoints_from(loaded({{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"},
                                        {"AZURE_OPENAI_DEPLOYMENT", "dep"},
                                        {"AZURE_OPENAI_API_KEY", azure_key},
                                        {"AZURE_OPENAI_AD_TOKEN", azure_token},
                                        {"AZURE_OPENAI_LIVE_PATH", "/openai/v1/live/sessions"},
                                        {"GEMINI_API_KEY", gemini_key},
                                        {"GEMINI_MODEL", "gemini-x"},
                                        {"OPENAI_API_KEY", openai_key}}));
  CHECK(e.azure_endpoint == "https://res.openai.azure.com");
  CHECK(e.azure_deployment == "dep");
  CHECK(e.azure_api_key.reveal() == azure_key);
  CHECK(e.azure_ad_token.reveal() == azure_token);
  CHECK(e.azure_live_path == "/openai/v1/live/sessions");
  CHECK(e.gemini_api_key.reveal() == gemini_key);
  CHECK(e.gemini_model == "gemini-x");
  CHECK(e.gemini_url.starts_with("wss://generativelanguage.googleapis.com/"));
  CHECK(e.openai_api_key.reveal() == openai_key);
}

TEST_CASE("CALL_MODE sets the default profile's mode", "[agents][sip]") {
  CHECK(profile_from(loaded({})).mode == call_mode::media_stream);
  CHECK(profile_from(loaded({{"CALL_MODE", "sip"}})).mode == call_mode::sip);
}
