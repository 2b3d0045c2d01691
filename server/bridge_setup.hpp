#pragma once
// What the settings decide for every call, turned into the call core's terms: settings are plain
// numbers with their units in their names; the call core takes std::chrono durations.

#include "call/call_supervisor.hpp"
#include "config/settings.hpp"

namespace mb::server {

// Each call's deadlines, upstream reconnects and rollover, for the Realtime API.
[[nodiscard]] call::supervisor_options supervisor_options_from(const config::settings& settings);

}  // namespace mb::server
