#pragma once
#include <memory>

#include <spdlog/formatter.h>

#include "config/settings.hpp"

namespace mb::server {

// Installs the process logger: text or JSON lines (one object per line: ts, level, msg) on stderr.
void configure_logging(const config::settings& settings);

// The formatter of one log line. Either way a message is one physical line: the text format escapes
// control characters and invalid UTF-8 (log::escape_for_log), JSON escapes them as JSON does.
std::unique_ptr<spdlog::formatter> make_log_formatter(config::log_format format);

}  // namespace mb::server
