#include "config/settings.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cfg = mb::config;

namespace {

// Distinctive enough that a substring search cannot match anything else by accident.
const std::string api_key = "sk-test-DO-NOT-LEAK-7f3a9c";

cfg::settings loaded(const std::vector<std::string>& args, const cfg::env_map& env) {
  auto r = cfg::load(args, env);
  INFO((r.error ? r.error->variable + ": " + r.error->problem : std::string()));
  REQUIRE(r.value);
  REQUIRE_FALSE(r.error);
  return *r.value;
}

cfg::load_error failed(const std::vector<std::string>& args, const cfg::env_map& env) {
  auto r = cfg::load(args, env);
  REQUIRE_FALSE(r.value);
  REQUIRE(r.error);
  return *r.error;
}

// A file under the temp directory, removed when the test ends.
struct temp_file {
  std::filesystem::path path;
  explicit temp_file(const std::string& contents) {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path = std::filesystem::temp_directory_path() / ("mb_settings_test_" + std::to_string(stamp) + ".txt");
    std::ofstream(path, std::ios::binary) << contents;
  }
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

}  // namespace

TEST_CASE("empty environment gives the documented defaults", "[config]") {
  const auto s = loaded({}, {});
  const cfg::settings d;
  CHECK(s.listen_host == "0.0.0.0");
  CHECK(s.port == 8080);
  CHECK(s.public_url.empty());
  CHECK(s.trusted_proxies.empty());
  CHECK(s.worker_threads == 0);
  CHECK(s.openai_api_key.empty());
  CHECK(s.openai_realtime_url == "wss://api.openai.com/v1/realtime");
  CHECK(s.openai_model == "gpt-realtime");
  CHECK(s.provider == mb::upstream::provider_kind::openai_realtime);
  CHECK(s.openai_live_url == "wss://api.openai.com/v1/live/sessions");
  CHECK(s.openai_live_model == "gpt-live-1");
  CHECK(s.azure_endpoint.empty());
  CHECK(s.azure_deployment.empty());
  CHECK(s.azure_api_key.empty());
  CHECK(s.azure_ad_token.empty());
  CHECK(s.azure_live_path == "/openai/v1/live");
  CHECK(s.gemini_api_key.empty());
  CHECK(s.gemini_live_url ==
        "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent");
  CHECK(s.gemini_model == "gemini-3.8-live");
  CHECK(s.openai_voice == "marin");
  CHECK(s.instructions == d.instructions);
  CHECK(s.vad.type == cfg::vad_type::server_vad);
  CHECK(s.vad.threshold == 0.5);
  CHECK(s.vad.prefix_padding_ms == 300);
  CHECK(s.vad.silence_duration_ms == 500);
  CHECK(s.vad.eagerness == "auto");
  CHECK(s.vad.create_response);
  CHECK(s.vad.interrupt_response);
  CHECK(s.transcription_model == "gpt-4o-mini-transcribe");
  CHECK(s.transcription_language.empty());
  CHECK(s.transcription_prompt.empty());
  CHECK(s.greeting.empty());
  CHECK(s.webhook_say.empty());
  CHECK(s.upstream_ca_file.empty());
  CHECK(s.pacing_lead_ms == 300);
  CHECK(s.pre_connect_buffer_ms == 2000);
  CHECK(s.max_call_duration_s == 4 * 3600);
  CHECK(s.log_level == "info");
  CHECK(s.log_fmt == cfg::log_format::text);
}

TEST_CASE("environment values are applied", "[config]") {
  const auto s = loaded({}, {{"LISTEN_HOST", "127.0.0.1"},
                             {"PORT", "9000"},
                             {"PUBLIC_URL", "https://bridge.example.com/"},
                             {"WORKER_THREADS", "4"},
                             {"OPENAI_API_KEY", api_key},
                             {"OPENAI_REALTIME_URL", "ws://127.0.0.1:9999/v1/realtime"},
                             {"OPENAI_MODEL", "gpt-realtime-mini"},
                             {"OPENAI_VOICE", "cedar"},
                             {"INSTRUCTIONS", "Be brief."},
                             {"VAD_TYPE", "semantic_vad"},
                             {"VAD_THRESHOLD", "0.75"},
                             {"VAD_PREFIX_PADDING_MS", "100"},
                             {"VAD_SILENCE_DURATION_MS", "800"},
                             {"VAD_EAGERNESS", "high"},
                             {"VAD_CREATE_RESPONSE", "no"},
                             {"VAD_INTERRUPT_RESPONSE", "0"},
                             {"TRANSCRIPTION_MODEL", ""},
                             {"GREETING", "Greet the caller."},
                             {"WEBHOOK_SAY", "Connecting you now."},
                             {"UPSTREAM_CONNECT_TIMEOUT_MS", "5000"},
                             {"SESSION_UPDATE_TIMEOUT_MS", "3000"},
                             {"PACING_LEAD_MS", "0"},
                             {"PRE_CONNECT_BUFFER_MS", "500"},
                             {"MAX_CALL_DURATION_S", "600"},
                             {"LOG_LEVEL", "debug"},
                             {"LOG_FORMAT", "json"},
                             {"UNRELATED", "ignored"}});
  CHECK(s.listen_host == "127.0.0.1");
  CHECK(s.port == 9000);
  CHECK(s.public_url == "https://bridge.example.com");
  CHECK(s.worker_threads == 4);
  CHECK(s.openai_api_key.reveal() == api_key);
  CHECK(s.openai_realtime_url == "ws://127.0.0.1:9999/v1/realtime");
  CHECK(s.openai_model == "gpt-realtime-mini");
  CHECK(s.openai_voice == "cedar");
  CHECK(s.instructions == "Be brief.");
  CHECK(s.vad.type == cfg::vad_type::semantic_vad);
  CHECK(s.vad.threshold == 0.75);
  CHECK(s.vad.prefix_padding_ms == 100);
  CHECK(s.vad.silence_duration_ms == 800);
  CHECK(s.vad.eagerness == "high");
  CHECK_FALSE(s.vad.create_response);
  CHECK_FALSE(s.vad.interrupt_response);
  CHECK(s.transcription_model.empty());
  CHECK(s.greeting == "Greet the caller.");
  CHECK(s.webhook_say == "Connecting you now.");
  CHECK(s.upstream_connect_timeout_ms == 5000);
  CHECK(s.session_update_timeout_ms == 3000);
  CHECK(s.pacing_lead_ms == 0);
  CHECK(s.pre_connect_buffer_ms == 500);
  CHECK(s.max_call_duration_s == 600);
  CHECK(s.log_level == "debug");
  CHECK(s.log_fmt == cfg::log_format::json);
}

TEST_CASE("flags override the environment in both spellings", "[config]") {
  const cfg::env_map env{{"PORT", "9000"}, {"LOG_LEVEL", "warn"}, {"VAD_CREATE_RESPONSE", "true"}};
  const auto s = loaded({"--port", "9100", "--log-level=error", "--vad-create-response=No", "--greeting=a=b",
                         "--webhook-say", ""},
                        env);
  CHECK(s.port == 9100);
  CHECK(s.log_level == "error");
  CHECK_FALSE(s.vad.create_response);
  CHECK(s.greeting == "a=b");
  CHECK(s.webhook_say.empty());
  CHECK(loaded({"--port=9200"}, env).port == 9200);
  CHECK(loaded({"--port", "1", "--port", "2"}, env).port == 2);
  CHECK(loaded({}, env).port == 9000);
}

TEST_CASE("booleans accept true/false/1/0/yes/no", "[config]") {
  for (const auto* yes : {"true", "1", "yes", "TRUE", "Yes"}) {
    CHECK(loaded({"--vad-interrupt-response", yes}, {}).vad.interrupt_response);
  }
  for (const auto* no : {"false", "0", "no", "False", "NO"}) {
    CHECK_FALSE(loaded({"--vad-interrupt-response", no}, {}).vad.interrupt_response);
  }
}

TEST_CASE("every flag in the table is accepted", "[config]") {
  for (const auto& info : cfg::setting_table()) {
    CAPTURE(info.env);
    CHECK(info.flag.starts_with("--"));
    auto r = cfg::load({info.flag + "=" + (info.default_text == "(empty)" ? "" : info.default_text)}, {});
    CHECK(r.value);
  }
}

TEST_CASE("custom voices and public URL schemes", "[config]") {
  CHECK(loaded({"--openai-voice=voice_1234abcd"}, {}).openai_voice == "voice_1234abcd");
  CHECK(loaded({"--public-url=wss://x.example/base//"}, {}).public_url == "wss://x.example/base");
  CHECK(loaded({"--public-url=http://localhost:8080"}, {}).public_url == "http://localhost:8080");
}

TEST_CASE("invalid values name the variable and the bad value", "[config]") {
  struct bad {
    const char* env;
    const char* value;
  };
  const std::vector<bad> cases{
      {"PORT", "0"},
      {"PORT", "70000"},
      {"PORT", "abc"},
      {"PORT", ""},
      {"PORT", "80x"},
      {"PORT", "-1"},
      {"PORT", "99999999999999999999999"},
      {"LISTEN_HOST", ""},
      {"PUBLIC_URL", "not a url"},
      {"PUBLIC_URL", "example.com"},
      {"PUBLIC_URL", "ftp://example.com"},
      {"PUBLIC_URL", "https://example.com/?a=1"},
      {"PUBLIC_URL", "https://example.com/#x"},
      {"PUBLIC_URL", "https:///path"},
      {"WORKER_THREADS", "257"},
      {"WORKER_THREADS", "-1"},
      {"OPENAI_REALTIME_URL", "https://api.openai.com/v1/realtime"},
      {"OPENAI_REALTIME_URL", "wss//api.openai.com"},
      {"OPENAI_REALTIME_URL", "wss:///v1/realtime"},
      {"OPENAI_REALTIME_URL", "wss://exa mple.com"},
      {"OPENAI_MODEL", ""},
      {"PROVIDER", "bogus"},
      {"PROVIDER", "openai"},
      {"PROVIDER", "OpenAI-Live"},
      {"OPENAI_LIVE_URL", "wss://api.openai.com/v1/live/sessions?model=gpt-live-1"},
      {"OPENAI_LIVE_URL", "wss://api.openai.com/v1/live/sessions#x"},
      {"OPENAI_LIVE_URL", "https://api.openai.com/v1/live/sessions"},
      {"OPENAI_LIVE_URL", "wss:///v1/live/sessions"},
      {"OPENAI_LIVE_MODEL", ""},
      {"TRANSCRIPTION_LANGUAGE", "JA"},
      {"TRANSCRIPTION_LANGUAGE", "j"},
      {"TRANSCRIPTION_LANGUAGE", "jpn"},
      {"TRANSCRIPTION_LANGUAGE", "en-US"},
      {"TRANSCRIPTION_LANGUAGE", "e1"},
      {"OPENAI_VOICE", "bob"},
      {"OPENAI_VOICE", "voice_"},
      {"VAD_TYPE", "loud"},
      {"VAD_THRESHOLD", "1.5"},
      {"VAD_THRESHOLD", "-0.1"},
      {"VAD_THRESHOLD", "nan"},
      {"VAD_THRESHOLD", "half"},
      {"VAD_PREFIX_PADDING_MS", "-5"},
      {"VAD_SILENCE_DURATION_MS", "10001"},
      {"VAD_EAGERNESS", "eager"},
      {"VAD_CREATE_RESPONSE", "maybe"},
      {"VAD_INTERRUPT_RESPONSE", "2"},
      {"UPSTREAM_CA_FILE", "/nonexistent/ca.pem"},
      {"UPSTREAM_CA_FILE", "/"},
      {"UPSTREAM_CONNECT_TIMEOUT_MS", "0"},
      {"SESSION_UPDATE_TIMEOUT_MS", "ten"},
      {"PACING_LEAD_MS", "10001"},
      {"PRE_CONNECT_BUFFER_MS", "-1"},
      {"MAX_CALL_DURATION_S", "0"},
      {"LOG_LEVEL", "verbose"},
      {"LOG_LEVEL", "INFO"},
      {"LOG_FORMAT", "xml"},
      {"INSTRUCTIONS_FILE", "/nonexistent/instructions.txt"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.env, c.value);
    const auto e = failed({}, {{c.env, c.value}, {"OPENAI_API_KEY", api_key}});
    CHECK(e.variable == c.env);
    CHECK_FALSE(e.problem.empty());
    CHECK(e.problem.find('\n') == std::string::npos);
    CHECK(e.problem.find(api_key) == std::string::npos);
    if (*c.value != '\0') CHECK(e.problem.find(c.value) != std::string::npos);
  }
}

TEST_CASE("PROVIDER chooses the upstream protocol, the error lists the providers", "[config]") {
  CHECK(loaded({}, {{"PROVIDER", "openai-live"}}).provider == mb::upstream::provider_kind::openai_live);
  CHECK(loaded({"--provider=openai-realtime"}, {{"PROVIDER", "openai-live"}}).provider ==
        mb::upstream::provider_kind::openai_realtime);
  const auto e = failed({}, {{"PROVIDER", "watson"}});
  CHECK(e.variable == "PROVIDER");
  CHECK(e.problem == R"("watson" is not a provider (openai-realtime, openai-live, azure-realtime, azure-live, gemini))");
}

TEST_CASE("GPT-Live's endpoint and model", "[config]") {
  const auto s = loaded({}, {{"OPENAI_LIVE_URL", "ws://127.0.0.1:9999/v1/live/sessions"},
                             {"OPENAI_LIVE_MODEL", "gpt-live-1-mini"}});
  CHECK(s.openai_live_url == "ws://127.0.0.1:9999/v1/live/sessions");
  CHECK(s.openai_live_model == "gpt-live-1-mini");
  // The Realtime URL may keep a query (each call adds &model=); GPT-Live's may not.
  CHECK(loaded({}, {{"OPENAI_REALTIME_URL", "wss://example.com/v1/realtime?api-version=1"}}).openai_realtime_url ==
        "wss://example.com/v1/realtime?api-version=1");
  CHECK(failed({}, {{"OPENAI_LIVE_URL", "wss://example.com/v1/live/sessions?api-version=1"}}).problem.find(
            "must not have a query") != std::string::npos);
}

TEST_CASE("Azure OpenAI: the resource's base URL, deployment, credentials and GPT-Live path", "[config]") {
  const auto s = loaded({}, {{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/"},
                             {"AZURE_OPENAI_DEPLOYMENT", "gpt-realtime-prod"},
                             {"AZURE_OPENAI_API_KEY", api_key},
                             {"AZURE_OPENAI_LIVE_PATH", "/openai/v1/live/sessions"}});
  CHECK(s.azure_endpoint == "https://res.openai.azure.com");  // calls append paths to it
  CHECK(s.azure_deployment == "gpt-realtime-prod");
  CHECK(s.azure_api_key.reveal() == api_key);
  CHECK(s.azure_live_path == "/openai/v1/live/sessions");
  // Tests point it at the simulator.
  for (const auto* url : {"http://127.0.0.1:9999", "ws://127.0.0.1:9999", "wss://res.openai.azure.com"})
    CHECK(loaded({}, {{"AZURE_OPENAI_ENDPOINT", url}}).azure_endpoint == url);

  SECTION("what the endpoint may not be") {
    for (const auto* url : {"res.openai.azure.com", "ftp://res.openai.azure.com",
                            "https://res.openai.azure.com/?api-version=1", "https://user:pw@res.openai.azure.com"}) {
      CAPTURE(url);
      CHECK(failed({}, {{"AZURE_OPENAI_ENDPOINT", url}}).variable == "AZURE_OPENAI_ENDPOINT");
    }
  }
  SECTION("a credential needs the endpoint, and the message names neither value") {
    for (const auto* name : {"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN"}) {
      const auto e = failed({}, {{name, api_key}});
      CHECK(e.variable == "AZURE_OPENAI_ENDPOINT");
      CHECK(e.problem.find("must be set when AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN is") != std::string::npos);
      CHECK(e.problem.find(api_key) == std::string::npos);
    }
    // Without a credential the endpoint alone is fine: those providers run on the simulator.
    CHECK(loaded({}, {{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"}}).azure_api_key.empty());
  }
  SECTION("the deployment and GPT-Live path are URL parts") {
    CHECK(failed({}, {{"AZURE_OPENAI_DEPLOYMENT", "prod&model=other"}}).variable == "AZURE_OPENAI_DEPLOYMENT");
    CHECK(failed({}, {{"AZURE_OPENAI_DEPLOYMENT", std::string(65, 'd')}}).variable == "AZURE_OPENAI_DEPLOYMENT");
    for (const auto* path : {"", "openai/v1/live", "/openai/v1/live?x=1", "/openai/v1/live#f", "/open ai"}) {
      CAPTURE(path);
      const auto e = failed({}, {{"AZURE_OPENAI_LIVE_PATH", path}});
      CHECK(e.variable == "AZURE_OPENAI_LIVE_PATH");
      CHECK(e.problem.find("is not a URL path") != std::string::npos);
    }
  }
}

TEST_CASE("Gemini Live: the key goes in a header, so its URL takes no query", "[config]") {
  const auto s = loaded({}, {{"GEMINI_API_KEY", api_key},
                             {"GEMINI_LIVE_URL", "ws://127.0.0.1:9999/ws/gemini"},
                             {"GEMINI_MODEL", "gemini-3.8-live-extended-thinking"}});
  CHECK(s.gemini_api_key.reveal() == api_key);
  CHECK(s.gemini_live_url == "ws://127.0.0.1:9999/ws/gemini");
  CHECK(s.gemini_model == "gemini-3.8-live-extended-thinking");
  const auto with_key = failed({}, {{"GEMINI_LIVE_URL", "wss://generativelanguage.googleapis.com/ws/x?key=" + api_key}});
  CHECK(with_key.variable == "GEMINI_LIVE_URL");
  CHECK(with_key.problem.find("the API key goes in a header") != std::string::npos);
  CHECK(failed({}, {{"GEMINI_LIVE_URL", "https://generativelanguage.googleapis.com/ws/x"}}).problem.find(
            "must use ws or wss") != std::string::npos);
  CHECK(failed({}, {{"GEMINI_MODEL", ""}}).variable == "GEMINI_MODEL");
  CHECK(failed({}, {{"GEMINI_MODEL", "gemini 3"}}).problem.find("is not a model or deployment name") !=
        std::string::npos);
}

TEST_CASE("GEMINI_VOICE: Gemini's own voice names, Kore by default", "[config]") {
  CHECK(loaded({}, {}).gemini_voice == "Kore");
  CHECK(loaded({}, {{"GEMINI_VOICE", "Puck"}}).gemini_voice == "Puck");
  for (const std::string& bad : {std::string(), std::string("Puck!"), std::string("alloy voice"), std::string(33, 'a')}) {
    CAPTURE(bad);
    const auto e = failed({}, {{"GEMINI_VOICE", bad}});
    CHECK(e.variable == "GEMINI_VOICE");
    CHECK(e.problem.find("is not a Gemini voice name") != std::string::npos);
  }
}

TEST_CASE("model_name_problem accepts names that are safe in a URL query", "[config]") {
  for (const auto* name : {"gpt-realtime", "gpt-realtime-2025-08-28", "models/gemini-3.8-live", "dep_1.x:2"})
    CHECK_FALSE(cfg::model_name_problem(name));
  for (const auto* name : {"", "a b", "a&b", "a?b", "a#b", "a%20b", "ü"}) CHECK(cfg::model_name_problem(name));
  CHECK_FALSE(cfg::model_name_problem(std::string(cfg::max_model_name_chars, 'm')));
  CHECK(cfg::model_name_problem(std::string(cfg::max_model_name_chars + 1, 'm')));
}

TEST_CASE("TRANSCRIPTION_LANGUAGE is an ISO-639-1 code", "[config]") {
  CHECK(loaded({}, {{"TRANSCRIPTION_LANGUAGE", "ja"}}).transcription_language == "ja");
  CHECK(loaded({}, {{"TRANSCRIPTION_LANGUAGE", ""}}).transcription_language.empty());
  CHECK(cfg::transcription_language_problem("es") == std::nullopt);
  const auto problem = cfg::transcription_language_problem("es\n-MX");
  REQUIRE(problem);
  CHECK(problem->find('\n') == std::string::npos);
}

TEST_CASE("TRANSCRIPTION_PROMPT is bounded in characters and has no control characters", "[config]") {
  const std::string longest(cfg::max_transcription_prompt_chars, 'a');
  CHECK(loaded({}, {{"TRANSCRIPTION_PROMPT", longest}}).transcription_prompt == longest);
  // Characters, not bytes: a thousand kana are three thousand bytes of UTF-8.
  std::string kana;
  for (std::size_t i = 0; i < cfg::max_transcription_prompt_chars; ++i) kana += "\u30a2";
  CHECK(loaded({}, {{"TRANSCRIPTION_PROMPT", kana}}).transcription_prompt == kana);

  const auto too_long = failed({}, {{"TRANSCRIPTION_PROMPT", longest + "b"}});
  CHECK(too_long.variable == "TRANSCRIPTION_PROMPT");
  CHECK(too_long.problem == "has 1001 characters; at most 1000");
  CHECK(failed({}, {{"TRANSCRIPTION_PROMPT", kana + "\u30a2"}}).problem == "has 1001 characters; at most 1000");
  for (const char* bad : {"Acme\nZyxel", "Acme\tZyxel", "Acme\x7f", "\x1b[31m"}) {
    CAPTURE(bad);
    const auto e = failed({}, {{"TRANSCRIPTION_PROMPT", bad}});
    CHECK(e.problem.starts_with("contains a control character"));
  }
  for (const char* bad : {"caf\xe9", "\xff", "\xe3\x82"}) {
    CAPTURE(bad);
    CHECK(failed({}, {{"TRANSCRIPTION_PROMPT", bad}}).problem == "is not UTF-8");
  }
}

TEST_CASE("flag values are validated like environment values", "[config]") {
  CHECK(failed({"--port=70000"}, {}).variable == "PORT");
  CHECK(failed({"--log-format", "xml"}, {}).variable == "LOG_FORMAT");
}

TEST_CASE("unknown flags, stray arguments and missing values are errors", "[config]") {
  auto e = failed({"--bogus", "1"}, {});
  CHECK(e.variable == "--bogus");
  CHECK(e.problem.find("--bogus") != std::string::npos);

  CHECK(failed({"--bogus=1"}, {}).variable == "--bogus");
  CHECK(failed({"-p"}, {}).variable == "-p");

  e = failed({"--port"}, {});
  CHECK(e.variable == "PORT");
  CHECK(e.problem.find("--port") != std::string::npos);

  e = failed({api_key}, {});
  CHECK(e.problem.find(api_key) == std::string::npos);
  CHECK(e.variable.find(api_key) == std::string::npos);
}

TEST_CASE("informational flags", "[config]") {
  CHECK(cfg::load({"--help"}, {}).show_help);
  CHECK(cfg::load({"-h"}, {}).show_help);
  CHECK(cfg::load({"--version"}, {}).show_version);
  CHECK(cfg::load({"--print-config-markdown"}, {}).print_config_markdown);
  const auto plain = cfg::load({}, {});
  CHECK_FALSE(plain.show_help);
  CHECK_FALSE(plain.show_version);
  CHECK_FALSE(plain.print_config_markdown);

  // --help must work even when the configuration it would explain is broken.
  const auto r = cfg::load({"--help", "--bogus"}, {{"PORT", "abc"}});
  CHECK(r.show_help);
  CHECK_FALSE(r.error);
}

TEST_CASE("the API key is never echoed", "[config]") {
  const std::vector<std::string> malformed{api_key + " ", api_key + "\n", "sk-with space-" + api_key};
  for (const auto& key : malformed) {
    const auto e = failed({}, {{"OPENAI_API_KEY", key}});
    CHECK(e.variable == "OPENAI_API_KEY");
    CHECK(e.problem.find(api_key) == std::string::npos);
  }

  const auto via_flag = failed({"--openai-api-key=" + api_key + " x"}, {});
  CHECK(via_flag.variable == "OPENAI_API_KEY");
  CHECK(via_flag.problem.find(api_key) == std::string::npos);

  // A mistyped flag name must not drag the key into the message.
  const auto typo = failed({"--openai-apikey=" + api_key}, {});
  CHECK(typo.variable == "--openai-apikey");
  CHECK(typo.problem.find(api_key) == std::string::npos);

  // Another variable failing while the key is set.
  const auto other = failed({"--openai-api-key", api_key}, {{"PORT", "abc"}});
  CHECK(other.variable == "PORT");
  CHECK(other.problem.find(api_key) == std::string::npos);

  CHECK(cfg::help_text().find(api_key) == std::string::npos);
  CHECK(cfg::markdown_table().find(api_key) == std::string::npos);

  for (const auto* name : {"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN", "GEMINI_API_KEY"}) {
    const auto e = failed({}, {{name, api_key + "\n"}, {"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"}});
    CHECK(e.variable == name);
    CHECK(e.problem.find(api_key) == std::string::npos);
  }

  std::ostringstream printed;
  printed << loaded({"--openai-api-key", api_key}, {}).openai_api_key;
  CHECK(printed.str() == "***");
}

TEST_CASE("only the credentials are marked secret", "[config]") {
  for (const auto& info : cfg::setting_table()) {
    CAPTURE(info.env);
    CHECK(info.secret == (info.env == "OPENAI_API_KEY" || info.env == "TWILIO_AUTH_TOKEN" || info.env == "API_TOKEN" ||
                          info.env == "AZURE_OPENAI_API_KEY" || info.env == "AZURE_OPENAI_AD_TOKEN" ||
                          info.env == "GEMINI_API_KEY" || info.env == "TOOL_WEBHOOK_SECRET" ||
                          info.env == "TWILIO_API_KEY_SECRET" || info.env == "OPENAI_WEBHOOK_SECRET"));
    if (info.secret) CHECK(info.default_text == "(empty)");
  }
}

TEST_CASE("INSTRUCTIONS_FILE replaces the instructions", "[config]") {
  const temp_file file("You are a pirate.\nSpeak like one.\n\n");
  const auto s = loaded({}, {{"INSTRUCTIONS_FILE", file.path.string()}});
  CHECK(s.instructions == "You are a pirate.\nSpeak like one.");

  // An empty INSTRUCTIONS (as compose files often pass) does not conflict with the file.
  CHECK(loaded({"--instructions-file", file.path.string()}, {{"INSTRUCTIONS", ""}}).instructions ==
        "You are a pirate.\nSpeak like one.");
}

TEST_CASE("INSTRUCTIONS and INSTRUCTIONS_FILE are mutually exclusive", "[config]") {
  const temp_file file("From a file.");
  auto e = failed({}, {{"INSTRUCTIONS", "Inline."}, {"INSTRUCTIONS_FILE", file.path.string()}});
  CHECK(e.variable == "INSTRUCTIONS_FILE");
  CHECK(e.problem.find("INSTRUCTIONS") != std::string::npos);

  e = failed({"--instructions=Inline."}, {{"INSTRUCTIONS_FILE", file.path.string()}});
  CHECK(e.variable == "INSTRUCTIONS_FILE");
}

TEST_CASE("UPSTREAM_CA_FILE must be readable", "[config]") {
  const temp_file file("-----BEGIN CERTIFICATE-----\n");
  CHECK(loaded({}, {{"UPSTREAM_CA_FILE", file.path.string()}}).upstream_ca_file == file.path.string());
}

TEST_CASE("TRUSTED_PROXIES is a comma-separated list of networks", "[config]") {
  const auto s = loaded({}, {{"TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1,fd00::/8,"}});
  REQUIRE(s.trusted_proxies.size() == 3);
  CHECK(s.trusted_proxies[0].contains("10.1.2.3"));
  CHECK(s.trusted_proxies[1].contains("127.0.0.1"));
  CHECK_FALSE(s.trusted_proxies[1].contains("127.0.0.2"));
  CHECK(s.trusted_proxies[2].contains("fd12::1"));

  const auto e = failed({}, {{"TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.300"}});
  CHECK(e.variable == "TRUSTED_PROXIES");
  CHECK(e.problem.find("10.0.0.300") != std::string::npos);
  CHECK(failed({"--trusted-proxies=1.2.3.4/33"}, {}).variable == "TRUSTED_PROXIES");
}

TEST_CASE("help and the Markdown table list every setting", "[config]") {
  const auto help = cfg::help_text();
  const auto table = cfg::markdown_table();
  CHECK(help.starts_with("Usage: mediabridge"));
  for (const auto* flag : {"--help", "--version", "--print-config-markdown"}) {
    CHECK(help.find(flag) != std::string::npos);
  }
  CHECK(table.starts_with("| Variable | Flag | Default | Meaning |\n"));
  for (const auto& info : cfg::setting_table()) {
    CAPTURE(info.env);
    CHECK(help.find(info.flag + " ") != std::string::npos);
    CHECK(help.find("env " + info.env + ",") != std::string::npos);
    CHECK(table.find("| `" + info.env + "` | `" + info.flag + "` |") != std::string::npos);
    CHECK_FALSE(info.meaning.empty());
    CHECK_FALSE(info.default_text.empty());
  }
  CHECK(help.find("default 8080") != std::string::npos);
  // One header, one separator, one row per setting.
  CHECK(static_cast<std::size_t>(std::count(table.begin(), table.end(), '\n')) ==
        cfg::setting_table().size() + 2);
}

TEST_CASE("docs/configuration.md matches the settings table", "[config]") {
  const std::string begin_marker = "<!-- settings-table:begin -->\n";
  const std::string end_marker = "<!-- settings-table:end -->";
  std::ifstream in(std::string(MB_SOURCE_DIR) + "/docs/configuration.md", std::ios::binary);
  REQUIRE(in);
  std::ostringstream contents;
  contents << in.rdbuf();
  const std::string doc = contents.str();
  const auto begin = doc.find(begin_marker);
  const auto end = doc.find(end_marker);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  REQUIRE(begin < end);
  const std::string embedded = doc.substr(begin + begin_marker.size(), end - begin - begin_marker.size());
  INFO(
      "docs/configuration.md is out of date; regenerate the table between the markers with "
      "`mediabridge --print-config-markdown`.");
  CHECK(embedded == cfg::markdown_table());
}

TEST_CASE("TRANSFER_DESTINATIONS and TRANSFER_CALLER_ID are checked, the error names the bad entry", "[config]") {
  const auto s = loaded({}, {{"TRANSFER_DESTINATIONS", "sales=+15551230000,desk=sip:desk@pbx.example.com"},
                             {"TRANSFER_CALLER_ID", "+15559870000"}});
  std::string problem;
  const auto pairs = cfg::parse_transfer_destinations(s.transfer_destinations, problem);
  CHECK(problem.empty());
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[1].name == "desk");
  CHECK(pairs[1].target == "sip:desk@pbx.example.com");

  auto e = failed({}, {{"TRANSFER_DESTINATIONS", "sales=+15551230000,desk=0800 123"}});
  CHECK(e.variable == "TRANSFER_DESTINATIONS");
  CHECK(e.problem == R"("0800 123" is not a +E.164 number (+ and 8-15 digits) or a sip: URI)");
  CHECK(failed({}, {{"TRANSFER_DESTINATIONS", "sales"}}).problem == R"("sales" is not name=target)");
  CHECK(failed({}, {{"TRANSFER_DESTINATIONS", "a/b=+15551230000"}}).problem ==
        R"("a/b" is not a destination name (1-64 letters, digits, '_' or '-'))");
  CHECK(failed({}, {{"TRANSFER_DESTINATIONS", "a=+15551230000,a=+15551230001"}}).problem == R"("a" is named twice)");
  CHECK(failed({}, {{"TRANSFER_DESTINATIONS", "a=sip:<x>"}}).variable == "TRANSFER_DESTINATIONS");
  e = failed({}, {{"TRANSFER_CALLER_ID", "+1"}});
  CHECK(e.variable == "TRANSFER_CALLER_ID");
  CHECK(e.problem == R"("+1" is not a +E.164 number (+ and 8-15 digits))");
}

TEST_CASE("OPENAI_WEBHOOK_SECRET must be a whsec_ secret, and the refusal does not show it", "[config][sip]") {
  const std::string bad = "whsec_not*base64-DO-NOT-LEAK";
  const auto e = failed({}, {{"OPENAI_WEBHOOK_SECRET", bad}});
  CHECK(e.variable == "OPENAI_WEBHOOK_SECRET");
  CHECK(e.problem.find("whsec_") != std::string::npos);
  CHECK(e.problem.find("DO-NOT-LEAK") == std::string::npos);
  CHECK(failed({}, {{"OPENAI_WEBHOOK_SECRET", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}).variable == "OPENAI_WEBHOOK_SECRET");
  CHECK(loaded({}, {{"OPENAI_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}).openai_webhook_secret.reveal() ==
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  CHECK(loaded({}, {}).openai_webhook_secret.empty());
}

TEST_CASE("PROBE_ALERTS and PROBE_ALERT_WEBHOOK_URL are checked at load", "[config]") {
  CHECK(loaded({}, {{"PROBE_ALERTS", "first_audio.p95>1500,error_rate>0.2"}}).probe_alerts ==
        "first_audio.p95>1500,error_rate>0.2");
  const auto rule = failed({}, {{"PROBE_ALERTS", "first_audio.p95>1500,frist_audio.p95>1"}});
  CHECK(rule.variable == "PROBE_ALERTS");
  CHECK(rule.problem.find("unknown stage \"frist_audio\"") != std::string::npos);
  CHECK(failed({}, {{"PROBE_ALERTS", "first_audio.p90>1500"}}).problem.find("unknown percentile") != std::string::npos);

  CHECK(loaded({}, {{"PROBE_ALERT_WEBHOOK_URL", "https://alerts.example.com/hook"}}).probe_alert_webhook_url ==
        "https://alerts.example.com/hook");
  CHECK(loaded({}, {{"PROBE_ALERT_WEBHOOK_URL", "http://127.0.0.1:9000/hook"}}).probe_alert_webhook_url ==
        "http://127.0.0.1:9000/hook");
  const auto url = failed({}, {{"PROBE_ALERT_WEBHOOK_URL", "http://alerts.example.com/hook"}});
  CHECK(url.variable == "PROBE_ALERT_WEBHOOK_URL");
  CHECK(url.problem.find("loopback") != std::string::npos);
  CHECK(failed({}, {{"PROBE_ALERT_WEBHOOK_URL", "https://user:pw@alerts.example.com/"}}).problem.find("credentials") !=
        std::string::npos);
}
