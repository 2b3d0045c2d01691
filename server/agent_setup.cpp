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

std::string fill(std::string_view what, std::string_view text, const agents::variables& values,
                 std::string_view call_sid, const agents::agent_profile& profile) {
  auto rendered = agents::render(text, values, profile.defaults);
  for (const auto& name : rendered.missing)
    spdlog::warn("call {}: agent '{}': {} variable {{{{{}}}}} has no value: replaced by an empty string",
                 log::escape_for_log(call_sid, log::name_bytes), profile.name, what, name);
  return std::move(rendered.text);
}

}  // namespace

std::optional<std::string> sip_uri_for(const config::settings& settings, const agents::agent_catalog& catalog,
                                       const agents::demo_plan& plan, std::string_view demo_uri, std::string& error) {
  std::string uri;
  for (const auto& p : catalog.profiles()) {
    if (p.mode != agents::call_mode::sip) continue;
    if (!settings.openai_sip_uri.empty()) return settings.openai_sip_uri;
    if (!plan.simulated(p.provider) || demo_uri.empty()) {
      error = "OPENAI_SIP_URI: required by agent profile '" + p.name + "' (SIP mode)";
      return std::nullopt;
    }
    uri = demo_uri;
  }
  return uri;
}

rendered_agent render_agent(const agents::agent_profile& profile, const agents::variables& values,
                            std::string_view call_sid) {
  rendered_agent out{profile.session, {}, profile.tools};
  out.session.instructions = fill("instructions", profile.session.instructions, values, call_sid, profile);
  out.greeting = fill("greeting", profile.greeting, values, call_sid, profile);
  agents::declare_webhook_tools(out.session, out.tools.tools);
  return out;
}

std::optional<agents::agent_catalog> load_agents(const config::settings& settings, agents::agent_profile base,
                                                 std::string& error) {
  base.name = "default";
  if (auto problem = agents::sip_mode_problem(base)) {
    error = "CALL_MODE: " + *problem + " (PROVIDER)";
    return std::nullopt;
  }
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
  return setup_for(*profile, endpoints, start.custom_parameters, start.call_sid);
}

bridge::call_setup setup_for(const agents::agent_profile& profile, const agents::provider_endpoints& endpoints,
                             const agents::variables& values, std::string_view call_sid) {
  bridge::call_setup setup;
  auto rendered = render_agent(profile, values, call_sid);
  setup.session = std::move(rendered.session);
  setup.greeting = std::move(rendered.greeting);
  setup.agent = profile.name;
  setup.tools = std::move(rendered.tools);
  setup.record = profile.record;
  auto target = agents::upstream_for(profile, endpoints);
  setup.provider = target.provider;
  setup.upstream_url = std::move(target.url);
  setup.upstream_headers = std::move(target.headers);
  setup.session.model = std::move(target.session_model);
  if (!target.session_voice.empty()) setup.session.voice = std::move(target.session_voice);
  return setup;
}

}  // namespace mb::server
