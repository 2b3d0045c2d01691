#include "prober/log_sink.hpp"

#include <iterator>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace mb::prober {

void log_sink::record(const probe::probe_run& run) {
  std::string stages;
  for (std::size_t i = 0; i < probe::stage_count; ++i) {
    const auto s = static_cast<probe::stage>(i);
    if (const auto value = run.at(s)) fmt::format_to(std::back_inserter(stages), " {}={:.1f}", probe::to_string(s), *value);
  }
  // The agent name is the operator's; the detail was bounded and escaped by the script.
  if (run.ok())
    spdlog::info("probe: agent '{}' ({}): ok, ms:{}", run.agent, run.provider, stages);
  else
    spdlog::info("probe: agent '{}' ({}): {}: {}{}{}", run.agent, run.provider, probe::to_string(run.error),
                 run.error_detail, stages.empty() ? "" : "; ms:", stages);
}

}  // namespace mb::prober
