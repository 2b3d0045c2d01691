#include "server/bridge_setup.hpp"

namespace mb::server {

call::supervisor_options supervisor_options_from(const config::settings& settings) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  call::supervisor_options o;
  // Admission leads call_state to ask for the upstream, which starts the call in the supervisor's
  // terms: the start deadline is "admitted within STREAM_START_TIMEOUT_MS".
  o.start_timeout = milliseconds(settings.stream_start_timeout_ms);
  o.media_timeout = seconds(settings.twilio_media_timeout_s);
  o.session_ready_timeout = milliseconds(settings.session_update_timeout_ms);
  o.max_duration = seconds(settings.max_call_duration_s);
  o.reconnect_attempts = settings.upstream_reconnect_attempts;
  o.backoff_base = milliseconds(settings.upstream_reconnect_backoff_ms);
  o.provider = call::openai_realtime_lifecycle;
  if (settings.upstream_rollover_s > 0) o.rollover_after = seconds(settings.upstream_rollover_s);
  return o;
}

}  // namespace mb::server
