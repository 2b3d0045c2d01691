#include "agents/demo_mode.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace mb::agents;
using mb::upstream::provider_kind;

// Demo mode per provider (docs/configuration.md, "Demo mode"): which providers the simulator serves,
// which settings are refused, where the simulated ones connect, and what startup says.

namespace {

const std::string secret_value = "KEY-DO-NOT-LEAK-42";

mb::config::settings loaded(const mb::config::env_map& env) {
  auto r = mb::config::load({}, env);
  INFO((r.error ? r.error->variable + ": " + r.error->problem : std::string()));
  REQUIRE(r.value);
  return *r.value;
}

agent_profile profile(std::string name, provider_kind provider, std::string model = {}) {
  agent_profile p;
  p.name = std::move(name);
  p.provider = provider;
  p.model = std::move(model);
  return p;
}

demo_plan planned(const mb::config::settings& s, const std::vector<agent_profile>& profiles) {
  std::string error;
  auto plan = plan_demo(s, profiles, error);
  INFO(error);
  REQUIRE(plan);
  return *plan;
}

const provider_mode& mode_of(const demo_plan& plan, provider_kind kind) {
  const auto it = std::find_if(plan.providers.begin(), plan.providers.end(),
                               [kind](const provider_mode& m) { return m.provider == kind; });
  REQUIRE(it != plan.providers.end());
  return *it;
}

const mb::config::env_map azure_env{{"AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com"},
                                    {"AZURE_OPENAI_DEPLOYMENT", "dep"},
                                    {"AZURE_OPENAI_API_KEY", secret_value}};

}  // namespace

TEST_CASE("demo mode: a provider without its credentials is simulated, each on its own", "[agents][demo]") {
  const std::vector<agent_profile> all{profile("default", provider_kind::openai_realtime),
                                       profile("live", provider_kind::openai_live),
                                       profile("azure", provider_kind::azure_realtime),
                                       profile("azure-live", provider_kind::azure_live),
                                       profile("gemini", provider_kind::gemini_live)};
  SECTION("nothing set: everything simulated") {
    const auto plan = planned(loaded({}), all);
    REQUIRE(plan.providers.size() == std::size(mb::upstream::all_providers));
    for (const auto& m : plan.providers) {
      CHECK(m.in_use);
      CHECK(m.simulated);
    }
    CHECK(plan.needs_simulator());
  }
  SECTION("an OpenAI key: both OpenAI protocols real, the others simulated") {
    const auto plan = planned(loaded({{"OPENAI_API_KEY", secret_value}}), all);
    CHECK_FALSE(plan.simulated(provider_kind::openai_realtime));
    CHECK_FALSE(plan.simulated(provider_kind::openai_live));
    CHECK(plan.simulated(provider_kind::azure_realtime));
    CHECK(plan.simulated(provider_kind::azure_live));
    CHECK(plan.simulated(provider_kind::gemini_live));
    CHECK(plan.needs_simulator());
  }
  SECTION("Azure's key or its Entra token") {
    CHECK_FALSE(planned(loaded(azure_env), all).simulated(provider_kind::azure_live));
    auto env = azure_env;
    env.erase("AZURE_OPENAI_API_KEY");
    env["AZURE_OPENAI_AD_TOKEN"] = secret_value;
    CHECK_FALSE(planned(loaded(env), all).simulated(provider_kind::azure_realtime));
  }
  SECTION("the simulator runs only for a simulated provider in use") {
    const auto plan = planned(loaded({{"OPENAI_API_KEY", secret_value}}), {profile("default", provider_kind::openai_live)});
    CHECK(mode_of(plan, provider_kind::gemini_live).simulated);
    CHECK_FALSE(mode_of(plan, provider_kind::gemini_live).in_use);
    CHECK_FALSE(plan.needs_simulator());
    CHECK(planned(loaded({{"GEMINI_API_KEY", secret_value}}), {profile("default", provider_kind::gemini_live)})
              .needs_simulator() == false);
  }
}

TEST_CASE("demo mode: an Azure provider in use with credentials needs a deployment", "[agents][demo]") {
  auto env = azure_env;
  env.erase("AZURE_OPENAI_DEPLOYMENT");
  const auto s = loaded(env);
  std::string error;
  CHECK_FALSE(plan_demo(s, std::vector{profile("default", provider_kind::azure_realtime)}, error));
  CHECK(error == "AZURE_OPENAI_DEPLOYMENT: must be set: agent profile 'default' uses azure-realtime and names no "
                 "deployment (\"model\")");
  CHECK(error.find(secret_value) == std::string::npos);
  // A profile naming its deployment does not need the setting; a simulated Azure does not either.
  CHECK(plan_demo(s, std::vector{profile("default", provider_kind::azure_live, "live-dep")}, error));
  CHECK(plan_demo(loaded({}), std::vector{profile("default", provider_kind::azure_realtime)}, error));
  // Not in use: not checked.
  CHECK(plan_demo(s, std::vector{profile("default", provider_kind::openai_realtime)}, error));
}

TEST_CASE("demo mode: simulated providers connect to the simulator with a placeholder key", "[agents][demo]") {
  const simulator_urls sim{.realtime = "ws://127.0.0.1:7/v1/realtime",
                           .live = "ws://127.0.0.1:7/v1/live/sessions",
                           .azure = "http://127.0.0.1:7",
                           .gemini = "ws://127.0.0.1:7/gemini",
                           .tools = "http://127.0.0.1:7/tools"};
  const std::vector<agent_profile> all{profile("default", provider_kind::openai_realtime),
                                       profile("azure", provider_kind::azure_realtime),
                                       profile("gemini", provider_kind::gemini_live)};
  SECTION("all simulated") {
    const auto s = loaded({});
    const auto e = simulated_endpoints(endpoints_from(s), planned(s, all), sim);
    CHECK(upstream_for(profile("a", provider_kind::openai_realtime), e).url ==
          "ws://127.0.0.1:7/v1/realtime?model=gpt-realtime");
    CHECK(upstream_for(profile("a", provider_kind::openai_live), e).url == "ws://127.0.0.1:7/v1/live/sessions");
    const auto azure = upstream_for(profile("a", provider_kind::azure_realtime), e);
    CHECK(azure.url == "ws://127.0.0.1:7/openai/v1/realtime?model=demo");
    CHECK(azure.headers == header_list{{"api-key", "demo"}});
    const auto azure_live = upstream_for(profile("a", provider_kind::azure_live), e);
    CHECK(azure_live.url == "ws://127.0.0.1:7/openai/v1/live");
    CHECK(azure_live.session_model == "demo");
    const auto gemini = upstream_for(profile("a", provider_kind::gemini_live), e);
    CHECK(gemini.url == "ws://127.0.0.1:7/gemini");
    CHECK(gemini.headers == header_list{{"x-goog-api-key", "demo"}});
    CHECK(upstream_for(profile("a", provider_kind::openai_realtime), e).headers ==
          header_list{{"Authorization", "Bearer demo"}});
  }
  SECTION("real providers keep their own URL and credential") {
    auto env = azure_env;
    env["AZURE_OPENAI_AD_TOKEN"] = secret_value + "-token";
    const auto s = loaded(env);
    const auto e = simulated_endpoints(endpoints_from(s), planned(s, all), sim);
    const auto azure = upstream_for(profile("a", provider_kind::azure_realtime), e);
    CHECK(azure.url == "wss://res.openai.azure.com/openai/v1/realtime?model=dep");
    CHECK(azure.headers == header_list{{"Authorization", "Bearer " + secret_value + "-token"}});
    CHECK(upstream_for(profile("a", provider_kind::gemini_live), e).url == "ws://127.0.0.1:7/gemini");
  }
}

TEST_CASE("demo mode: one startup line per provider in use, naming credentials but never their values",
          "[agents][demo]") {
  auto env = azure_env;
  env["AZURE_OPENAI_AD_TOKEN"] = secret_value;
  const auto s = loaded(env);
  const auto lines = describe(planned(s, {profile("default", provider_kind::azure_realtime),
                                          profile("g", provider_kind::gemini_live)}),
                              endpoints_from(s));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "upstream azure-realtime: wss://res.openai.azure.com/openai/v1/realtime, deployment dep, Entra ID token "
        "(AZURE_OPENAI_AD_TOKEN; AZURE_OPENAI_API_KEY is set too and unused)");
  CHECK(lines[1] ==
        "upstream gemini: SIMULATED by the built-in simulator (set GEMINI_API_KEY to reach the real service)");
  for (const auto& line : lines) CHECK(line.find(secret_value) == std::string::npos);

  const auto openai = describe(planned(loaded({}), {profile("default", provider_kind::openai_live)}), endpoints_from(loaded({})));
  CHECK(openai == std::vector<std::string>{
                      "upstream openai-live: SIMULATED by the built-in simulator (set OPENAI_API_KEY to reach the real "
                      "service)"});
  CHECK(credentials_for(provider_kind::azure_live) ==
        "AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN");
}

TEST_CASE("demo mode: profiles the simulator serves declare the demo tool, its webhook the simulator's",
          "[agents][demo]") {
  auto env = azure_env;
  const auto s = loaded(env);
  auto own = profile("gemini-own", provider_kind::gemini_live);
  own.tools.tools.push_back({.declaration = {.name = std::string(demo_tool_name), .description = "mine", .parameters_json = "{}"},
                             .url = "https://example.com/orders"});
  const std::vector<agent_profile> all{profile("default", provider_kind::openai_realtime),
                                       profile("azure", provider_kind::azure_realtime), own};
  const simulator_urls sim{.realtime = "", .live = "", .azure = "", .gemini = "", .tools = "http://127.0.0.1:7/tools"};
  const auto profiles = with_demo_tool(all, planned(s, all), sim);
  REQUIRE(profiles.size() == 3);
  // Simulated: the tool is added.
  REQUIRE(profiles[0].tools.tools.size() == 1);
  const auto& tool = profiles[0].tools.tools[0];
  CHECK(tool.declaration.name == "lookup_order");
  CHECK(tool.url == "http://127.0.0.1:7/tools/lookup_order");
  CHECK(tool.declaration.parameters_json.find("order_id") != std::string::npos);
  // A real provider's profile is left alone.
  CHECK(profiles[1].tools.tools.empty());
  // A profile with its own tool of that name keeps it.
  REQUIRE(profiles[2].tools.tools.size() == 1);
  CHECK(profiles[2].tools.tools[0].url == "https://example.com/orders");
}
