#pragma once
// What the HTTP layer needs from the process. Shared across worker threads.

#include <atomic>
#include <string>

#include "bridge/call_session.hpp"
#include "config/settings.hpp"

namespace mb::server {

inline constexpr const char* version = "0.1.0";

struct server_context {
  const config::settings& settings;
  const bridge::bridge_context& bridge;
  bridge::call_registry& registry;
  std::atomic<bool> draining{false};  // SIGTERM: answer calls with fallback TwiML, readyz 503
  std::size_t max_body_bytes = 64 * 1024;  // Twilio's webhook forms are ~1 KB
  int request_timeout_ms = 15000;
};

}  // namespace mb::server
