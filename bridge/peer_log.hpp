#pragma once
// Writing the log lines a peer causes (bad input, unknown events, refused requests): only what the
// connection's and the process's budgets allow (log/line_budget.hpp), each line noting what was
// suppressed before it. Strings the peer controls go through log::escape_for_log first.

#include <chrono>
#include <cstdint>
#include <utility>

#include <spdlog/spdlog.h>

#include "call/actions.hpp"
#include "log/escape.hpp"
#include "log/line_budget.hpp"

namespace mb::bridge {

inline std::int64_t log_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline spdlog::level::level_enum to_spdlog(call::log_level level) {
  switch (level) {
    case call::log_level::debug: return spdlog::level::debug;
    case call::log_level::info: return spdlog::level::info;
    case call::log_level::warn: return spdlog::level::warn;
    case call::log_level::error: return spdlog::level::err;
  }
  return spdlog::level::warn;
}

// Lines below the logger's level cost nothing from the budget.
template <class... Args>
void log_peer_line(log::connection_lines& lines, spdlog::level::level_enum level, fmt::format_string<Args...> format,
                   Args&&... args) {
  if (!spdlog::should_log(level)) return;
  if (const auto admitted = lines.admit(log_clock_ms()))
    spdlog::log(level, "{}{}", fmt::format(format, std::forward<Args>(args)...), log::suppression_note(*admitted));
}

}  // namespace mb::bridge
