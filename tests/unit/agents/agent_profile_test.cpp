#include "agents/agent_profile.hpp"

#include <catch2/catch.hpp>

using namespace mb::agents;
using mb::protocol::turn_detection_type;
using strings = std::vector<std::string>;

namespace {

agent_profile base_profile() {
  agent_profile p;
  p.name = "default";
  p.session.instructions = "Base instructions.";
  p.session.voice = "marin";
  p.session.transcription_model = "gpt-4o-mini-transcribe";
  p.greeting = "Say hello.";
  p.model = "gpt-realtime";
  return p;
}

std::vector<agent_profile> parse_ok(std::string_view json) {
  std::string error;
  auto profiles = parse_profiles(json, base_profile(), error);
  INFO(error);
  REQUIRE(profiles);
  return *profiles;
}

std::string parse_error(std::string_view json) {
  std::string error;
  CHECK_FALSE(parse_profiles(json, base_profile(), error));
  return error;
}

constexpr std::string_view two_profiles = R"({"agents": {
  "sales": {"instructions": "Sell {{product}} to {{From}}.", "greeting": "Greet {{CallerName|the caller}}.",
            "voice": "cedar", "model": "gpt-realtime-mini", "numbers": ["+15005550001"],
            "variables": {"product": "widgets"},
            "vad": {"type": "semantic_vad", "eagerness": "high", "interrupt_response": false}},
  "support": {"numbers": ["+15005550002", "+15005550003"], "transcription_model": ""}
}})";

}  // namespace

TEST_CASE("profiles inherit what they leave out from the settings' profile", "[agents]") {
  const auto profiles = parse_ok(two_profiles);
  REQUIRE(profiles.size() == 3);
  CHECK(profiles[0].name == "default");
  const auto& sales = profiles[1];
  CHECK(sales.name == "sales");
  CHECK(sales.session.instructions == "Sell {{product}} to {{From}}.");
  CHECK(sales.session.voice == "cedar");
  CHECK(sales.session.transcription_model == "gpt-4o-mini-transcribe");
  CHECK(sales.session.turn_detection == turn_detection_type::semantic_vad);
  CHECK(sales.session.vad_eagerness == "high");
  CHECK_FALSE(sales.session.vad_interrupt_response);
  CHECK(sales.session.vad_create_response);
  CHECK(sales.model == "gpt-realtime-mini");
  CHECK(sales.defaults == variables{{"product", "widgets"}});
  CHECK(sales.variables_used() == strings{"product", "From", "CallerName"});
  const auto& support = profiles[2];
  CHECK(support.session.instructions == "Base instructions.");
  CHECK(support.greeting == "Say hello.");
  CHECK(support.session.transcription_model.empty());
  CHECK(support.numbers == strings{"+15005550002", "+15005550003"});
}

TEST_CASE("a profile may name its provider and the caller's language", "[agents]") {
  const auto profiles = parse_ok(R"({"agents": {
    "live-es": {"provider": "openai-live", "transcription_language": "es", "transcription_prompt": "Acme, Zyxel"},
    "live-own-model": {"provider": "openai-live", "model": "gpt-live-1-mini"},
    "realtime-ja": {"provider": "openai-realtime", "transcription_language": "ja"},
    "inherits": {}
  }})");
  REQUIRE(profiles.size() == 5);
  const auto& live_es = profiles[1];
  CHECK(live_es.provider == mb::upstream::provider_kind::openai_live);
  // The base's model is the Realtime API's: a GPT-Live profile takes OPENAI_LIVE_MODEL instead.
  CHECK(live_es.model.empty());
  CHECK(live_es.session.transcription_language == "es");
  CHECK(live_es.session.transcription_prompt == "Acme, Zyxel");
  CHECK(profiles[2].model == "gpt-live-1-mini");
  const auto& realtime_ja = profiles[3];
  CHECK(realtime_ja.provider == mb::upstream::provider_kind::openai_realtime);
  CHECK(realtime_ja.model == "gpt-realtime");
  CHECK(realtime_ja.session.transcription_language == "ja");
  const auto& inherits = profiles[4];
  CHECK(inherits.provider == mb::upstream::provider_kind::openai_realtime);
  CHECK(inherits.session.transcription_language.empty());
  CHECK(inherits.session.transcription_prompt.empty());

  auto base = base_profile();
  base.session.transcription_language = "fr";
  base.session.transcription_prompt = "Bonjour";
  std::string error;
  const auto overridden = parse_profiles(R"({"agents": {"a": {}, "b": {"transcription_language": ""}}})", base, error);
  REQUIRE(overridden);
  CHECK((*overridden)[1].session.transcription_language == "fr");
  CHECK((*overridden)[1].session.transcription_prompt == "Bonjour");
  CHECK((*overridden)[2].session.transcription_language.empty());
}

TEST_CASE("a file profile named default replaces the settings' profile", "[agents]") {
  const auto profiles = parse_ok(R"({"agents": {"default": {"greeting": ""}, "x": {}}})");
  REQUIRE(profiles.size() == 2);
  CHECK(profiles[0].name == "default");
  CHECK(profiles[0].greeting.empty());
  CHECK(profiles[0].session.instructions == "Base instructions.");
}

TEST_CASE("invalid profile files are refused with the offending field named", "[agents]") {
  CHECK(parse_error("voice = 'cedar'").find("TOML is not supported") != std::string::npos);
  CHECK(parse_error(R"({"profiles": {}})").find(R"(expected {"agents")") != std::string::npos);
  CHECK(parse_error(R"({"agents": {"a b": {}}})").starts_with("agents.a b: a profile name is"));
  CHECK(parse_error(R"({"agents": {"s": {"voise": "x"}}})") == "agents.s.voise: unknown field");
  CHECK(parse_error(R"({"agents": {"s": {"voice": ""}}})") == "agents.s.voice: must not be empty");
  CHECK(parse_error(R"({"agents": {"s": {"vad": {"threshold": 2}}}})") == "agents.s.vad.threshold: expected a number in 0..1");
  CHECK(parse_error(R"({"agents": {"s": {"vad": {"type": "loud"}}}})") ==
        "agents.s.vad.type: expected one of server_vad|semantic_vad|none");
  CHECK(parse_error(R"({"agents": {"s": {"vad": {"silence_duration_ms": -1}}}})") ==
        "agents.s.vad.silence_duration_ms: expected a whole number in 0..10000");
  CHECK(parse_error(R"({"agents": {"s": {"numbers": "+1"}}})") == "agents.s.numbers: expected an array of strings");
  CHECK(parse_error(R"({"agents": {"s": {"variables": {"a": 1}}}})") == "agents.s.variables.a: expected a string");
  CHECK(parse_error(R"({"agents": {"s": {"provider": "watson"}}})") ==
        "agents.s.provider: expected one of openai-realtime, openai-live, azure-realtime, azure-live, gemini");
  CHECK(parse_error(R"({"agents": {"s": {"provider": 1}}})") ==
        "agents.s.provider: expected one of openai-realtime, openai-live, azure-realtime, azure-live, gemini");
  CHECK(parse_error(R"({"agents": {"s": {"transcription_language": "ja-JP"}}})") ==
        R"(agents.s.transcription_language: "ja-JP" is not an ISO-639-1 language code (two lowercase letters, e.g. ja))");
  CHECK(parse_error(R"({"agents": {"s": {"transcription_language": 7}}})") ==
        "agents.s.transcription_language: expected a string");
  CHECK(parse_error(R"({"agents": {"s": {"transcription_prompt": "a\nb"}}})")
            .starts_with("agents.s.transcription_prompt: contains a control character"));
  // An Azure deployment goes into the URL's query: a name, nothing more.
  CHECK(parse_error(R"({"agents": {"s": {"provider": "azure-realtime", "model": "dep&x=1"}}})") ==
        R"(agents.s.model: "dep&x=1" is not a model or deployment name (1-64 letters, digits, '.', '_', ':', '/' or '-'))");
  CHECK(parse_error(R"({"agents": {"s": {"model": ""}}})") == "agents.s.model: must not be empty");
  CHECK(parse_error(R"({"agents": {"s": {"model": 3}}})") == "agents.s.model: expected a string");
}

TEST_CASE("a profile is chosen by name, else by the called number, else the default", "[agents]") {
  std::string error;
  auto catalog = agent_catalog::create(parse_ok(two_profiles), "support", error);
  REQUIRE(catalog);
  CHECK(catalog->select("sales", "+15005550002")->name == "sales");
  CHECK(catalog->select("", "+15005550001")->name == "sales");
  CHECK(catalog->select("", "+15005550003")->name == "support");
  CHECK(catalog->select("", "+19999999999")->name == "support");
  CHECK(catalog->select("", "")->name == "support");
  CHECK(catalog->select("nope", "+15005550001") == nullptr);
  CHECK(catalog->default_profile().name == "support");
}

TEST_CASE("the catalog refuses an unknown default and numbers claimed twice", "[agents]") {
  std::string error;
  CHECK_FALSE(agent_catalog::create(parse_ok(two_profiles), "sales-eu", error));
  CHECK(error == "no agent profile named 'sales-eu'");
  CHECK_FALSE(agent_catalog::create(
      parse_ok(R"({"agents": {"a": {"numbers": ["+1555"]}, "b": {"numbers": ["+1666", "+1555"]}}})"), "default", error));
  CHECK(error == "profiles 'a' and 'b' both claim number +1555");
}

TEST_CASE("profile names are what URLs and logs can carry", "[agents]") {
  CHECK(valid_profile_name("sales-EU_2"));
  CHECK_FALSE(valid_profile_name(""));
  CHECK_FALSE(valid_profile_name("a/b"));
  CHECK_FALSE(valid_profile_name(std::string(65, 'a')));
}

TEST_CASE("a profile's call control: hang-up, transfers, caller ID and DTMF, with the built-in tools declared",
          "[agents][control]") {
  const auto profiles = parse_ok(R"({"agents": {
    "desk": {"end_call": true, "end_call_grace_ms": 4000,
             "transfers": {"sales": {"target": "+15551230000", "announcement": "Connecting you to sales."},
                           "pbx": "sip:desk@pbx.example.com"},
             "transfer_caller_id": "+15559870000",
             "dtmf": {"gap_ms": 1500, "max_digits": 16, "mask": true, "respond": false}},
    "quiet": {"end_call": false}}})");
  REQUIRE(profiles.size() == 3);
  const auto& desk = profiles[1].tools;
  CHECK(desk.end_call_grace_ms == 4000);
  REQUIRE(desk.transfers.size() == 2);
  CHECK(desk.transfers[0].name == "sales");
  CHECK(desk.transfers[0].target == "+15551230000");
  CHECK(desk.transfers[0].announcement == "Connecting you to sales.");
  CHECK(desk.transfers[1].target == "sip:desk@pbx.example.com");
  CHECK(desk.transfer_caller_id == "+15559870000");
  CHECK(desk.dtmf.gap_ms == 1500);
  CHECK(desk.dtmf.max_digits == 16);
  CHECK(desk.dtmf.mask);
  CHECK_FALSE(desk.dtmf.respond);
  strings declared;
  for (const auto& t : profiles[1].session.tools) declared.push_back(t.name);
  CHECK(declared == strings{"end_call", "transfer_call"});
  CHECK(profiles[2].session.tools.empty());
}

TEST_CASE("invalid call control fields are refused with the field named", "[agents][control]") {
  CHECK(parse_error(R"({"agents": {"a": {"transfers": {"sales": "5551230000"}}}})") ==
        R"(agents.a.transfers.sales: "5551230000" is not a +E.164 number (+ and 8-15 digits) or a sip: URI)");
  CHECK(parse_error(R"({"agents": {"a": {"transfers": {"sa les": "+15551230000"}}}})") ==
        R"(agents.a.transfers.sa les: "sa les" is not a destination name (1-64 letters, digits, '_' or '-'))");
  CHECK(parse_error(R"({"agents": {"a": {"transfers": {"x": {"target": "sip:a b"}}}}})").starts_with(
      "agents.a.transfers.x: "));
  CHECK(parse_error(R"({"agents": {"a": {"transfers": {"x": {"number": "+15551230000"}}}}})") ==
        "agents.a.transfers.x.number: unknown field");
  CHECK(parse_error(R"({"agents": {"a": {"transfers": ["+15551230000"]}}})") ==
        "agents.a.transfers: expected an object of destinations");
  CHECK(parse_error(R"({"agents": {"a": {"transfer_caller_id": "me"}}})") ==
        R"(agents.a.transfer_caller_id: "me" is not a +E.164 number (+ and 8-15 digits))");
  CHECK(parse_error(R"({"agents": {"a": {"dtmf": {"gap_ms": 10}}}})") ==
        "agents.a.dtmf.gap_ms: expected a whole number in 200..30000");
  CHECK(parse_error(R"({"agents": {"a": {"dtmf": {"digits": 4}}}})") == "agents.a.dtmf.digits: unknown field");
  CHECK(parse_error(R"({"agents": {"a": {"end_call": "yes"}}})") == "agents.a.end_call: expected true or false");
}

TEST_CASE("profiles: mode picks Media Streams or OpenAI's SIP endpoint, and is inherited", "[agents][sip]") {
  const auto profiles = parse_ok(R"({"agents": {
    "front": {"mode": "sip", "numbers": ["+15005550001"]},
    "back": {"mode": "media-stream"},
    "live": {"mode": "sip", "provider": "openai-live"},
    "plain": {}
  }})");
  REQUIRE(profiles.size() == 5);
  CHECK(profiles[1].mode == call_mode::sip);
  CHECK(profiles[2].mode == call_mode::media_stream);
  CHECK(profiles[3].mode == call_mode::sip);
  CHECK(profiles[4].mode == call_mode::media_stream);

  auto sip_base = base_profile();
  sip_base.mode = call_mode::sip;
  std::string error;
  const auto inherited = parse_profiles(R"({"agents": {"x": {}}})", sip_base, error);
  REQUIRE(inherited);
  CHECK(inherited->back().mode == call_mode::sip);
}

TEST_CASE("profiles: SIP mode needs one of OpenAI's providers, and the error names the field", "[agents][sip]") {
  CHECK(parse_error(R"({"agents": {"x": {"mode": "sip", "provider": "gemini"}}})") ==
        "agents.x.mode: SIP mode needs provider openai-realtime or openai-live, not gemini");
  CHECK(parse_error(R"({"agents": {"x": {"mode": "phone"}}})") == "agents.x.mode: expected one of media-stream|sip");
  // Inherited SIP mode with another provider: the provider is the field at fault.
  auto sip_base = base_profile();
  sip_base.mode = call_mode::sip;
  std::string error;
  CHECK_FALSE(parse_profiles(R"({"agents": {"x": {"provider": "azure-realtime"}}})", sip_base, error));
  CHECK(error == "agents.x.provider: SIP mode needs provider openai-realtime or openai-live, not azure-realtime");
  CHECK_FALSE(sip_mode_problem(base_profile()));
}
