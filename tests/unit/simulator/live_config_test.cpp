// simulator/live_config.hpp: what the simulated GPT-Live accepts in session.start and session.update.

#include <catch2/catch.hpp>

#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "simulator/live_config.hpp"

namespace {

namespace json = boost::json;
namespace sim = mb::simulator;

sim::live_config fresh() { return sim::live_config("live_test", 1'800'000'000); }

// The error a session.start with this `session` gets ("" when it is accepted).
std::string start_error(const char* session_json, std::string* param = nullptr) {
  auto config = fresh();
  const auto error = config.start(json::parse(session_json));
  if (!error) return {};
  if (param) *param = error->param;
  return error->code;
}

}  // namespace

TEST_CASE("live config: a Twilio start is echoed with id, expiry, status and the μ-law format",
          "[simulator][live_config]") {
  auto config = fresh();
  REQUIRE_FALSE(config.start(json::parse(R"({"model":"gpt-live-1","instructions":"Be brief.",
      "audio":{"format":{"type":"audio/pcmu","rate":8000},"output":{"voice":"cedar"}},"delegation":{"type":"client"}})")));
  const auto& s = config.json();
  CHECK(s.at("id").as_string() == "live_test");
  CHECK(s.at("expires_at").as_int64() == 1'800'000'000);
  CHECK(s.at("status").as_string() == "active");
  CHECK(s.at("model").as_string() == "gpt-live-1");
  CHECK(s.at("instructions").as_string() == "Be brief.");
  CHECK(s.at("audio").at("format") == json::parse(R"({"type":"audio/pcmu","rate":8000})"));
  CHECK(s.at("audio").at("output").at("voice").as_string() == "cedar");
  CHECK(s.at("delegation") == json::parse(R"({"type":"client"})"));
  CHECK(s.at("store") == false);
  CHECK(s.at("client").is_null());
  CHECK(config.format() == "audio/pcmu");
  CHECK(config.rate() == 8000);
  CHECK(config.model() == "gpt-live-1");
}

TEST_CASE("live config: defaults are PCM16 at 24 kHz, client delegation and no history", "[simulator][live_config]") {
  auto config = fresh();
  REQUIRE_FALSE(config.start(json::parse(R"({"model":"gpt-live-1","delegation":null})")));
  CHECK(config.format() == "audio/pcm");
  CHECK(config.rate() == 24000);
  CHECK(config.json().at("delegation") == json::parse(R"({"type":"client"})"));
  CHECK(config.json().at("input").as_array().empty());
  auto pcmu = fresh();
  REQUIRE_FALSE(pcmu.start(json::parse(R"({"model":"m","audio":{"format":{"type":"audio/pcma"}}})")));
  CHECK(pcmu.rate() == 8000);  // the rate of a G.711 format may be left out
}

TEST_CASE("live config: unknown fields are rejected at every level", "[simulator][live_config]") {
  std::string param;
  CHECK(start_error(R"({"model":"m","voice":"marin"})", &param) == "unknown_parameter");
  CHECK(param == "session.voice");
  CHECK(start_error(R"({"model":"m","type":"live"})", &param) == "unknown_parameter");
  CHECK(param == "session.type");
  CHECK(start_error(R"({"model":"m","audio":{"input":{}}})", &param) == "unknown_parameter");
  CHECK(param == "session.audio.input");
  CHECK(start_error(R"({"model":"m","audio":{"format":{"type":"audio/pcmu","channels":1}}})", &param) ==
        "unknown_parameter");
  CHECK(param == "session.audio.format.channels");
  CHECK(start_error(R"({"model":"m","audio":{"output":{"voice":"marin","speed":1.2}}})", &param) ==
        "unknown_parameter");
  CHECK(param == "session.audio.output.speed");
  CHECK(start_error(R"({"model":"m","delegation":{"type":"client","responses":{}}})", &param) == "unknown_parameter");
  CHECK(param == "session.delegation.responses");
  CHECK(start_error(R"({"model":"m","delegation":{"type":"responses","responses":{"temperature":1}}})", &param) ==
        "unknown_parameter");
  CHECK(param == "session.delegation.responses.temperature");
  CHECK(start_error(R"({"model":"m","input":[{"role":"user","content":"hi","name":"x"}]})", &param) ==
        "unknown_parameter");
  CHECK(param == "session.input[0].name");
}

TEST_CASE("live config: missing, mistyped and unsupported values", "[simulator][live_config]") {
  std::string param;
  CHECK(start_error(R"({"instructions":"x"})", &param) == "missing_required_parameter");
  CHECK(param == "session.model");
  CHECK(start_error(R"("gpt-live-1")", &param) == "invalid_type");
  CHECK(param == "session");
  CHECK(start_error(R"({"model":7})", &param) == "invalid_type");
  CHECK(start_error(R"({"model":""})", &param) == "invalid_value");
  CHECK(start_error(R"({"model":"m","audio":{"format":{"type":"audio/pcmu","rate":16000}}})", &param) ==
        "invalid_value");
  CHECK(param == "session.audio.format.rate");
  CHECK(start_error(R"({"model":"m","audio":{"format":{"type":"audio/pcm","rate":8000}}})", &param) == "invalid_value");
  CHECK(start_error(R"({"model":"m","audio":{"format":{"type":"audio/opus"}}})", &param) == "invalid_value");
  CHECK(param == "session.audio.format.type");
  CHECK(start_error(R"({"model":"m","audio":{"format":{"rate":8000}}})", &param) == "missing_required_parameter");
  CHECK(param == "session.audio.format.type");
  CHECK(start_error(R"({"model":"m","store":"no"})", &param) == "invalid_type");
  CHECK(start_error(R"({"model":"m","delegation":{"type":"server"}})", &param) == "invalid_value");
  CHECK(start_error(R"({"model":"m","input":[{"role":"system","content":"x"}]})", &param) == "invalid_value");
  CHECK(param == "session.input[0].role");
  CHECK(start_error(R"({"model":"m","input":[{"role":"user"}]})", &param) == "missing_required_parameter");
  CHECK(param == "session.input[0].content");
  CHECK(start_error(R"({"model":"m","audio":{"format":{"type":"audio/pcm","rate":16000}},
      "input":[{"type":"message","role":"developer","content":"ctx"},{"role":"assistant","content":[{"type":"output_text","text":"hi"}]}],
      "store":true,"client":{"name":"mediabridge"}})")
            .empty());
}

TEST_CASE("live config: at most 128 history messages", "[simulator][live_config]") {
  json::array input;
  for (int i = 0; i < 129; ++i) input.push_back(json::object{{"role", "user"}, {"content", "x"}});
  auto config = fresh();
  const auto error = config.start(json::object{{"model", "m"}, {"input", input}});
  REQUIRE(error);
  CHECK(error->code == "invalid_value");
  input.pop_back();
  CHECK_FALSE(config.start(json::object{{"model", "m"}, {"input", input}}));
}

TEST_CASE("live config: a rejected start changes nothing", "[simulator][live_config]") {
  auto config = fresh();
  REQUIRE(config.start(json::parse(R"({"model":"m","audio":{"format":{"type":"audio/pcmu"}},"bogus":1})")));
  CHECK(config.format() == "audio/pcm");
  CHECK(config.model().empty());
}

TEST_CASE("live config: session.update may only replace the delegation, keeping its type", "[simulator][live_config]") {
  auto config = fresh();
  REQUIRE_FALSE(config.start(json::parse(R"({"model":"m","delegation":{"type":"responses","responses":{"model":"gpt-5"}}})")));
  REQUIRE_FALSE(config.update(json::parse(R"({"delegation":{"type":"responses","responses":{"model":"gpt-5-mini"}}})")));
  CHECK(config.json().at("delegation").at("responses").at("model").as_string() == "gpt-5-mini");

  auto error = config.update(json::parse(R"({"instructions":"new"})"));
  REQUIRE(error);
  CHECK(error->code == "immutable_field_update");
  CHECK(error->param == "session.instructions");
  error = config.update(json::parse(R"({"delegation":{"type":"client"}})"));
  REQUIRE(error);
  CHECK(error->code == "immutable_field_update");
  CHECK(error->param == "session.delegation.type");
  error = config.update(json::parse(R"({"tools":[]})"));
  REQUIRE(error);
  CHECK(error->code == "unknown_parameter");
  CHECK(config.json().at("instructions").as_string().empty());
}

TEST_CASE("live config: a forced format is announced with its rate", "[simulator][live_config]") {
  auto config = fresh();
  REQUIRE_FALSE(config.start(json::parse(R"({"model":"m","audio":{"format":{"type":"audio/pcmu","rate":8000}}})")));
  config.force_format("audio/pcm");
  CHECK(config.json().at("audio").at("format") == json::parse(R"({"type":"audio/pcm","rate":24000})"));
  CHECK(config.format() == "audio/pcm");
}
