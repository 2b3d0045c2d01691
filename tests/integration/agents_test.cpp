// Agent profiles and prompt templates: which profile the webhook picks, and what the model is told.

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {

constexpr const char* profiles = R"({"agents": {
  "sales": {"instructions": "Sales desk of {{company}}. The caller {{From}} asked about {{topic}}.",
            "greeting": "Greet {{CallerName|the caller}} warmly.",
            "voice": "cedar", "model": "gpt-realtime-mini", "variables": {"company": "Acme"}},
  "support": {"instructions": "Support line {{To}}.", "voice": "sage", "numbers": ["+15005550009"]}
}})";

mb::simulator::simulator_options fast_simulator() {
  mb::simulator::simulator_options o;
  o.response_ms = 1000;
  o.speed = 4.0;
  return o;
}

struct fixture {
  test::temp_dir dir;
  std::string agents_file = dir.write("agents.json", profiles);
  test::bridge_harness h{{.simulator = fast_simulator(),
                          .tweak = [this](config::settings& s, bridge::bridge_context& b) {
                            s.agents_file = agents_file;
                            b.session.instructions = "Default instructions.";
                          }}};

  tools::twilio::call_report call(const std::string& query, const std::string& to = "+15005550001") {
    auto options = h.call({{audio_kind::speech, 200}, {audio_kind::silence, 800}});
    options.webhook_url += query;
    options.to = to;
    return h.run({options}).at(0);
  }

  // The session.update the simulator received for the only call.
  boost::json::object session() {
    REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, std::chrono::seconds(3)));
    const auto updates = h.simulator().sessions().at(0).session_updates;
    REQUIRE(!updates.empty());
    return boost::json::parse(updates.front()).at("session").as_object();
  }

  std::string agent_of_call() {
    for (const auto& e : h.events().events())
      if (const auto* s = std::get_if<call::call_started>(&e.event)) return s->agent;
    return "(no call.started)";
  }
};

}  // namespace

TEST_CASE("?agent= picks a profile, whose templates are filled from the webhook's fields and its defaults",
          "[integration][agents]") {
  fixture f;
  const auto report = f.call("?agent=sales");
  INFO(report.failure);
  REQUIRE(report.ok());
  const auto session = f.session();
  CHECK(session.at("instructions").as_string() == "Sales desk of Acme. The caller +15005550006 asked about .");
  CHECK(boost::json::serialize(session).find(R"("voice":"cedar")") != std::string::npos);
  const auto sim = f.h.simulator().sessions().at(0);
  CHECK(sim.model == "gpt-realtime-mini");
  REQUIRE(!sim.responses.empty());
  CHECK(sim.responses.front().instructions == "Greet the caller warmly.");
  CHECK(f.agent_of_call() == "sales");
  // The variable with no value is named in a warning, and never reaches the model raw.
  CHECK(f.h.logs().contains("agent 'sales': instructions variable {{topic}} has no value"));
  CHECK(std::string(session.at("instructions").as_string()).find("{{") == std::string::npos);
}

TEST_CASE("the called number picks a profile, otherwise the default one answers", "[integration][agents]") {
  SECTION("a number a profile claims") {
    fixture f;
    REQUIRE(f.call("", "+15005550009").ok());
    const auto session = f.session();
    CHECK(session.at("instructions").as_string() == "Support line +15005550009.");
    CHECK(boost::json::serialize(session).find(R"("voice":"sage")") != std::string::npos);
    CHECK(f.agent_of_call() == "support");
  }
  SECTION("any other number") {
    fixture f;
    REQUIRE(f.call("").ok());
    CHECK(f.session().at("instructions").as_string() == "Default instructions.");
    CHECK(f.h.simulator().sessions().at(0).model == "gpt-realtime");
    CHECK(f.agent_of_call() == "default");
  }
}

TEST_CASE("an unknown profile gets fallback TwiML and a log line", "[integration][agents]") {
  fixture f;
  const auto report = f.call("?agent=nope");
  CHECK(report.outcome == call_outcome::rejected);
  CHECK(report.twiml.find("<Hangup/>") != std::string::npos);
  CHECK(f.h.logs().contains("unknown agent profile 'nope'"));
  CHECK(f.h.simulator().sessions().empty());
}
