#include "server/bridge_setup.hpp"

#include "agents/webhook_tools.hpp"

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
  // The provider's session cap comes with each call's adapter (call_supervisor::set_provider_lifecycle).
  if (settings.upstream_rollover_s > 0) o.rollover_after = seconds(settings.upstream_rollover_s);
  return o;
}

telephony::twilio_client_options twilio_client_options_from(const config::settings& settings) {
  telephony::twilio_client_options o;
  o.base_url = settings.twilio_api_base_url;
  o.credentials.account_sid = settings.twilio_account_sid;
  const bool api_key = !settings.twilio_api_key_sid.empty();
  o.credentials.username = api_key ? settings.twilio_api_key_sid : settings.twilio_account_sid;
  o.credentials.password = api_key ? settings.twilio_api_key_secret.reveal() : settings.twilio_auth_token.reveal();
  o.timeout_ms = settings.twilio_rest_timeout_ms;
  o.retries = settings.twilio_rest_retries;
  return o;
}

bridge::bridge_context bridge_context_from(const config::settings& settings,
                                           const agents::provider_endpoints& endpoints) {
  bridge::bridge_context ctx;
  const auto profile = agents::profile_from(settings);
  auto target = agents::upstream_for(profile, endpoints);
  ctx.session = profile.session;
  ctx.session.model = std::move(target.session_model);
  if (!target.session_voice.empty()) ctx.session.voice = std::move(target.session_voice);
  ctx.provider = target.provider;
  ctx.upstream_url = std::move(target.url);
  ctx.upstream_headers = std::move(target.headers);
  ctx.tools = profile.tools;
  ctx.wire_events = settings.wire_events;
  ctx.record = profile.record;
  agents::declare_webhook_tools(ctx.session, ctx.tools.tools);
  ctx.tool_webhook_secret = settings.tool_webhook_secret.reveal();
  ctx.call.pacing_lead_ms = settings.pacing_lead_ms;
  ctx.call.pre_connect_buffer_ms = settings.pre_connect_buffer_ms;
  ctx.call.greeting = profile.greeting;
  ctx.upstream_connect_timeout = std::chrono::milliseconds(settings.upstream_connect_timeout_ms);
  ctx.lifecycle = supervisor_options_from(settings);
  // No WebSocket idle timeout towards Twilio: STREAM_START_TIMEOUT_MS and TWILIO_MEDIA_TIMEOUT_S end a
  // stream that goes quiet, and Beast re-arms its idle timer on every read (a timer cancel, a posted
  // handler and a new wait per frame, ~3% of the bridge's CPU under load; docs/performance.md).
  ctx.twilio_limits = {.max_message_bytes = 64 * 1024, .handshake_timeout_ms = 10000, .idle_timeout_ms = 0};
  ctx.upstream_limits = {.max_message_bytes = 8 << 20, .handshake_timeout_ms = 10000, .idle_timeout_ms = 60000};
  return ctx;
}

}  // namespace mb::server
