#include "server/probe_setup.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "probe/probe_schedule.hpp"
#include "server/agent_setup.hpp"

namespace mb::server {

std::optional<std::vector<prober::probe_target>> probe_targets(const config::settings& settings,
                                                               const agents::agent_catalog& catalog,
                                                               const agents::provider_endpoints& endpoints,
                                                               const bridge::bridge_context& bridge,
                                                               std::string& error) {
  std::vector<std::string> names;
  for (const auto& p : catalog.profiles()) names.push_back(p.name);
  const auto selected = probe::select_probed(settings.probe_agents, names, error);
  if (!selected) return std::nullopt;
  const auto connect_timeout = std::min(bridge.upstream_connect_timeout, prober_options_from(settings).timeout);
  std::vector<prober::probe_target> targets;
  for (const auto& name : *selected) {
    const auto& profile = *catalog.select(name, "");
    // A probe fills no {{variables}}: the profile's defaults, as a call that supplies none.
    auto setup = setup_for(profile, endpoints, {}, "probe");
    targets.push_back({.agent = profile.name,
                       .provider = setup.provider,
                       .request = {.url = std::move(setup.upstream_url),
                                   .headers = std::move(setup.upstream_headers),
                                   .limits = bridge.upstream_limits,
                                   .connect_timeout_ms = static_cast<int>(connect_timeout.count())},
                       .session = std::move(setup.session)});
    spdlog::info("prober: agent '{}' ({}) at {}, every {} s", profile.name, upstream::to_string(setup.provider),
                 targets.back().request.url, settings.probe_interval_s);
  }
  return targets;
}

prober::prober_options prober_options_from(const config::settings& settings) {
  prober::prober_options options;
  options.schedule.interval = std::chrono::seconds(settings.probe_interval_s);
  options.timeout = std::chrono::milliseconds(settings.probe_timeout_ms);
  return options;
}

std::unique_ptr<prober::prober> make_prober(const config::settings& settings, const agents::agent_catalog& catalog,
                                            const agents::provider_endpoints& endpoints,
                                            const bridge::bridge_context& bridge,
                                            const asio::any_io_executor& executor,
                                            std::shared_ptr<prober::probe_sink> sink, std::string& error) {
  auto targets = probe_targets(settings, catalog, endpoints, bridge, error);
  if (!targets || targets->empty()) return nullptr;
  return std::make_unique<prober::prober>(executor, std::move(*targets), prober_options_from(settings), bridge.tls,
                                          std::move(sink));
}

}  // namespace mb::server
