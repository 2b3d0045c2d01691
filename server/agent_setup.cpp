#include "server/agent_setup.hpp"

#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "agents/webhook_tools.hpp"
#include "log/escape.hpp"

namespace mb::server {
namespace {

std::string_view parameter(const protocol::twilio_start& start, std::string_view name) {
  for (const auto& [k, v] : start.custom_parameters)
    if (k == name) return v;
  return {};
}

std::string fill(std::string_view what, std::string_view text, const protocol::twilio_start& start,
                 const agents::agent_profile& profile) {
  auto rendered = agents::render(text, start.custom_parameters, profile.defaults);
  for (const auto& name : rendered.missing)
    spdlog::warn("call {}: agent '{}': {} variable {{{{{}}}}} has no value: replaced by an empty string",
                 log::escape_for_log(start.call_sid, log::name_bytes), profile.name, what, name);
  return std::move(rendered.text);
}

}  // namespace

std::optional<agents::agent_catalog> load_agents(const config::settings& settings, agents::agent_profile base,
                                                 std::string& error) {
  base.name = "default";
  std::vector<agents::agent_profile> profiles{std::move(base)};
  if (!settings.agents_file.empty()) {
    std::ifstream in(settings.agents_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      error = "cannot read " + settings.agents_file;
      return std::nullopt;
    }
    auto parsed = agents::parse_profiles(text.str(), profiles.front(), error);
    if (!parsed) {
      error = settings.agents_file + ": " + error;
      return std::nullopt;
    }
    profiles = std::move(*parsed);
  }
  return agents::agent_catalog::create(std::move(profiles), settings.default_agent, error);
}

std::optional<bridge::call_setup> resolve_call(const agents::agent_catalog& catalog,
                                               const agents::provider_endpoints& endpoints,
                                               const protocol::twilio_start& start) {
  const auto requested = parameter(start, agent_parameter);
  const auto* profile = catalog.select(requested, parameter(start, "To"));
  if (!profile) {
    spdlog::warn("call {}: stream names unknown agent profile '{}'; refusing it",
                 log::escape_for_log(start.call_sid, log::name_bytes),
                 agents::valid_profile_name(requested) ? requested : "(not a profile name)");
    return std::nullopt;
  }
  bridge::call_setup setup;
  setup.session = profile->session;
  setup.session.instructions = fill("instructions", profile->session.instructions, start, *profile);
  setup.greeting = fill("greeting", profile->greeting, start, *profile);
  setup.agent = profile->name;
  setup.tools = profile->tools;
  agents::declare_webhook_tools(setup.session, setup.tools.tools);
  auto target = agents::upstream_for(*profile, endpoints);
  setup.provider = target.provider;
  setup.upstream_url = std::move(target.url);
  setup.upstream_headers = std::move(target.headers);
  setup.session.model = std::move(target.session_model);
  if (!target.session_voice.empty()) setup.session.voice = std::move(target.session_voice);
  return setup;
}

}  // namespace mb::server
