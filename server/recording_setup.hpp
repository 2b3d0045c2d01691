#pragma once
// Call recording for the process (docs/recording.md): the writer, when a profile records or
// RECORDINGS_DIR holds recordings to serve and expire, and its metrics.

#include <memory>
#include <string>

#include "agents/agent_profile.hpp"
#include "config/settings.hpp"
#include "metrics/metrics.hpp"
#include "recorder/recording_writer.hpp"

namespace mb::store {
class call_store;
}

namespace mb::server {

// Null with `error` empty when nothing is recorded and RECORDINGS_DIR has no recordings; null with
// `error` when a profile records but RECORDINGS_DIR is empty or cannot be created. Each recording's
// outcome goes to `history` (may be null).
[[nodiscard]] std::unique_ptr<recorder::recording_writer> make_recording_writer(const config::settings& settings,
                                                                                const agents::agent_catalog& agents,
                                                                                store::call_store* history,
                                                                                std::string& error);

void register_recording_metrics(metrics::registry& r, const recorder::recording_writer& writer);

}  // namespace mb::server
