#pragma once
#include "config/settings.hpp"

namespace mb::server {

// Installs the process logger: text or JSON lines (one object per line: ts, level, msg) on stderr.
void configure_logging(const config::settings& settings);

}  // namespace mb::server
