#pragma once
// The prober the settings ask for (docs/latency.md "The prober"): PROBE_AGENTS selects the agent
// profiles, each probed as its calls connect (the profile's provider, URL and credential header, the
// bridge's upstream socket limits and connect timeout), every PROBE_INTERVAL_S within PROBE_TIMEOUT_MS.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/agent_profile.hpp"
#include "agents/settings_profile.hpp"
#include "bridge/call_session.hpp"
#include "config/settings.hpp"
#include "prober/prober.hpp"

namespace mb::server {

// One target per profile PROBE_AGENTS selects, in `catalog` order (none when it is empty); nullopt with
// `error` when it names a profile `catalog` lacks. Logs one line per target.
[[nodiscard]] std::optional<std::vector<prober::probe_target>> probe_targets(const config::settings& settings,
                                                                             const agents::agent_catalog& catalog,
                                                                             const agents::provider_endpoints& endpoints,
                                                                             const bridge::bridge_context& bridge,
                                                                             std::string& error);

// PROBE_INTERVAL_S and PROBE_TIMEOUT_MS in the prober's terms.
[[nodiscard]] prober::prober_options prober_options_from(const config::settings& settings);

// The prober of probe_targets, on its own strand of `executor`, handing each run to `sink`: start() it.
// nullptr when PROBE_AGENTS selects nothing, and (with `error` set) when it names an unknown profile.
[[nodiscard]] std::unique_ptr<prober::prober> make_prober(const config::settings& settings,
                                                          const agents::agent_catalog& catalog,
                                                          const agents::provider_endpoints& endpoints,
                                                          const bridge::bridge_context& bridge,
                                                          const asio::any_io_executor& executor,
                                                          std::shared_ptr<prober::probe_sink> sink, std::string& error);

}  // namespace mb::server
