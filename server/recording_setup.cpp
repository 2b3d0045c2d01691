#include "server/recording_setup.hpp"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "store/call_store.hpp"

namespace mb::server {

std::unique_ptr<recorder::recording_writer> make_recording_writer(const config::settings& settings,
                                                                  const agents::agent_catalog& agents,
                                                                  store::call_store* history, std::string& error) {
  const auto& profiles = agents.profiles();
  const auto recording = std::find_if(profiles.begin(), profiles.end(), [](const auto& p) { return p.record; });
  if (settings.recordings_dir.empty()) {
    if (recording != profiles.end())
      error = "RECORDINGS_DIR: empty, but agent profile '" + recording->name + "' records its calls";
    return nullptr;
  }
  std::error_code ec;
  if (recording == profiles.end() && !std::filesystem::exists(settings.recordings_dir, ec)) return nullptr;
  try {
    auto writer = std::make_unique<recorder::recording_writer>(
        recorder::writer_options(settings.recordings_dir, settings.recording_retention_days),
        [history](const recorder::recording_outcome& o) {
          if (history)
            history->record_recording(o.call_sid, {o.started_at, o.duration_ms, o.complete, o.dropped_bytes});
        });
    spdlog::info("recordings: {} (kept {} days){}", settings.recordings_dir, settings.recording_retention_days,
                 recording == profiles.end() ? "; no agent profile records calls" : "");
    return writer;
  } catch (const std::exception& e) {
    error = std::string("RECORDINGS_DIR: ") + e.what();
    return nullptr;
  }
}

void register_recording_metrics(metrics::registry& r, const recorder::recording_writer& writer) {
  constexpr std::string_view recordings_help = "Call recordings that ended, by outcome (docs/recording.md).";
  for (std::size_t k = 0; k < recorder::outcome_kind_count; ++k) {
    const auto kind = static_cast<recorder::outcome_kind>(k);
    r.add_counter_fn("mediabridge_recordings_total", recordings_help,
                     [&writer, kind] { return static_cast<double>(writer.outcomes(kind)); },
                     {{"outcome", recorder::to_string(kind)}});
  }
  constexpr std::string_view errors_help =
      "Recording files that could not be opened or written (the recording stops, the call goes on).";
  for (std::size_t k = 0; k < recorder::error_kind_count; ++k) {
    const auto kind = static_cast<recorder::error_kind>(k);
    r.add_counter_fn("mediabridge_recording_errors_total", errors_help,
                     [&writer, kind] { return static_cast<double>(writer.errors(kind)); },
                     {{"kind", recorder::to_string(kind)}});
  }
  r.add_counter_fn("mediabridge_recording_dropped_bytes_total",
                   "Bytes of recording entries dropped because the writer fell behind (gap entries mark them).",
                   [&writer] { return static_cast<double>(writer.dropped_bytes()); });
}

}  // namespace mb::server
