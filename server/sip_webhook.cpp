#include "server/sip_webhook.hpp"

#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"
#include "bridge/sip_session.hpp"
#include "log/escape.hpp"
#include "metrics/bridge_metrics.hpp"
#include "protocol/openai_sip.hpp"
#include "protocol/standard_webhook.hpp"
#include "protocol/twilio_messages.hpp"
#include "server/agent_setup.hpp"
#include "sip/call_decision.hpp"

namespace mb::server {
namespace {

using outcome = metrics::sip_webhook_outcome;

// A redelivery may carry a timestamp up to the tolerance ahead of our clock and still pass until the
// tolerance after it: ids are kept for both spans.
constexpr std::int64_t remember_s = 2 * protocol::standard_webhook_tolerance_s;
constexpr std::size_t remembered_deliveries = 4096;
constexpr std::size_t remembered_calls = 1024;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

http_reply answer(const server_context& ctx, outcome o) {
  if (ctx.bridge.metrics) ctx.bridge.metrics->sip_webhooks(o).inc();
  return json_reply(200, {{"status", metrics::to_string(o)}});
}

http_reply refuse(const server_context& ctx, outcome o, int status, std::string_view message) {
  if (ctx.bridge.metrics) ctx.bridge.metrics->sip_webhooks(o).inc();
  return error_reply(status, message);
}

upstream::provider_kind provider_of(protocol::sip_runtime runtime) {
  return runtime == protocol::sip_runtime::realtime ? upstream::provider_kind::openai_realtime
                                                    : upstream::provider_kind::openai_live;
}

// Where a call's requests go: the control plane of the provider's URL, with its credential. A call
// refused before a profile is chosen goes through the event's own runtime.
telephony::openai_call_target control_target(const agents::upstream_target& upstream,
                                             const protocol::incoming_sip_call& call) {
  return {protocol::sip_control_base(upstream.url).value_or(""), upstream.headers, call.runtime, call.call_id};
}

agents::upstream_target runtime_upstream(protocol::sip_runtime runtime, const agents::provider_endpoints& endpoints) {
  agents::agent_profile p;
  p.provider = provider_of(runtime);
  return agents::upstream_for(p, endpoints);
}

// The model an accept names: the profile's, else its provider's from the settings.
std::string model_for(const agents::agent_profile& profile, const agents::upstream_target& upstream,
                      const agents::provider_endpoints& endpoints) {
  if (!upstream.session_model.empty()) return upstream.session_model;
  return profile.model.empty() ? endpoints.realtime_model : profile.model;
}

bridge::sip_call_setup sip_setup_for(const sip::call_decision& d, const protocol::incoming_sip_call& call,
                                     const agents::provider_endpoints& endpoints) {
  const auto& profile = *d.profile;
  auto rendered = render_agent(profile, d.variables, d.call_sid);
  auto upstream = agents::upstream_for(profile, endpoints);
  bridge::sip_call_setup setup;
  setup.control = control_target(upstream, call);
  setup.accept_body =
      protocol::accept_request(call.runtime, call.call_id, rendered.session, model_for(profile, upstream, endpoints)).body;
  setup.provider = upstream.provider;
  setup.sideband_url = protocol::sideband_url(call.runtime, upstream.url, call.call_id);
  setup.sideband_headers = std::move(upstream.headers);
  setup.identity = {d.call_sid, call.call_id, d.from, d.to};
  setup.agent = profile.name;
  setup.parameters = d.variables;
  setup.greeting = std::move(rendered.greeting);
  setup.tools = std::move(rendered.tools);
  return setup;
}

net::awaitable<void> reject_call(const telephony::openai_calls* calls, telephony::openai_call_target target,
                                 int status) {
  const auto result = co_await calls->reject(target, status);
  if (result.ok)
    spdlog::info("openai webhook: call {} rejected with SIP {}", target.call_id, status);
  else
    spdlog::warn("openai webhook: call {}: reject with SIP {} failed: {}", target.call_id, status,
                 log::escape_for_log(result.detail, log::reason_bytes));
}

// After the reply: the reject's outcome is only logged (OpenAI ends an unanswered call itself).
void reject_later(const server_context& ctx, const asio::any_io_executor& ex, telephony::openai_call_target target,
                  int status) {
  if (!ctx.bridge.openai_calls) {
    spdlog::error("openai webhook: call {}: cannot reject it: no control-plane client", target.call_id);
    return;
  }
  auto call_id = target.call_id;
  asio::co_spawn(ex, reject_call(ctx.bridge.openai_calls, std::move(target), status),
                 [call_id = std::move(call_id)](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     spdlog::error("openai webhook: call {}: reject: {}", call_id, ex.what());
                   }
                 });
}

sip::token_status token_of(const server_context& ctx, const protocol::incoming_sip_call& call) {
  const auto token = protocol::sip_header_value(call.sip_headers, protocol::sip_token_header);
  if (token.empty()) return sip::token_status::absent;
  const auto call_sid = protocol::sip_header_value(call.sip_headers, protocol::sip_call_sid_header);
  return protocol::is_safe_sid(call_sid) && ctx.tokens.valid(call_sid, token) ? sip::token_status::valid
                                                                              : sip::token_status::invalid;
}

}  // namespace

sip_webhook::sip_webhook(std::string key, agents::provider_endpoints endpoints)
    : key_(std::move(key)),
      endpoints_(std::move(endpoints)),
      deliveries_(remembered_deliveries, remember_s),
      calls_(remembered_calls, remember_s) {}

http_reply sip_webhook::handle(server_context& ctx, const http_request_view& req, const asio::any_io_executor& ex) {
  const protocol::standard_webhook_headers headers{req.header(protocol::standard_webhook_id_header),
                                                   req.header(protocol::standard_webhook_timestamp_header),
                                                   req.header(protocol::standard_webhook_signature_header)};
  const auto now = unix_now();
  const auto check = protocol::check_standard_webhook(key_, headers, req.body, now);
  if (check != protocol::standard_webhook_check::valid) {
    bridge::log_peer_line(req.log_lines, spdlog::level::warn, "refused OpenAI webhook from {}: {}", req.peer_address,
                          protocol::to_string(check));
    if (check == protocol::standard_webhook_check::missing_header)
      return refuse(ctx, outcome::malformed, 400, "missing webhook-id, webhook-timestamp or webhook-signature");
    return refuse(ctx, outcome::unauthorized, 401, "invalid webhook signature or timestamp");
  }
  if (headers.id.size() > sip::max_remembered_id_bytes) {
    bridge::log_peer_line(req.log_lines, spdlog::level::warn, "refused OpenAI webhook from {}: webhook-id too long",
                          req.peer_address);
    return refuse(ctx, outcome::malformed, 400, "webhook-id too long");
  }
  {
    std::lock_guard lock(mutex_);
    if (!deliveries_.first_time(headers.id, now)) {
      spdlog::debug("openai webhook: delivery {} seen before: acknowledged only",
                    log::escape_for_log(headers.id, log::name_bytes));
      return answer(ctx, outcome::duplicate);
    }
  }
  std::string error;
  const auto event = protocol::parse_sip_webhook(req.body, error);
  if (!event) {
    spdlog::warn("openai webhook: delivery {}: not a webhook event: {}", log::escape_for_log(headers.id, log::name_bytes),
                 error);
    return refuse(ctx, outcome::malformed, 400, "malformed webhook event");
  }
  if (!event->incoming) {
    spdlog::debug("openai webhook: event {} ignored", log::escape_for_log(event->type, log::name_bytes));
    return answer(ctx, outcome::ignored);
  }
  const auto& call = *event->incoming;
  if (!ctx.agents) return answer(ctx, outcome::ignored);
  auto decision = sip::decide_call(*ctx.agents, call, token_of(ctx, call), ctx.draining.load(std::memory_order_relaxed));
  const auto runtime = protocol::to_string(call.runtime);
  if (decision.verdict == sip::call_verdict::ignore) {
    spdlog::debug("openai webhook: call {} ({} event): ignored: {}", call.call_id, runtime, decision.reason);
    return answer(ctx, outcome::ignored);
  }
  {
    std::lock_guard lock(mutex_);
    if (!calls_.first_time(call.call_id, now)) {
      spdlog::debug("openai webhook: call {} ({} event): already handled", call.call_id, runtime);
      return answer(ctx, outcome::ignored);
    }
  }
  const auto upstream = decision.profile ? agents::upstream_for(*decision.profile, endpoints_)
                                         : runtime_upstream(call.runtime, endpoints_);
  if (decision.verdict == sip::call_verdict::reject) {
    spdlog::warn("openai webhook: call {} ({} event) from {}: rejecting with SIP {}: {}", call.call_id, runtime,
                 log::escape_for_log(decision.from, log::name_bytes), decision.reject_status, decision.reason);
    reject_later(ctx, ex, control_target(upstream, call), decision.reject_status);
    return answer(ctx, outcome::rejected);
  }
  switch (bridge::start_sip_call(sip_setup_for(decision, call, endpoints_), ctx.bridge, ex)) {
    case bridge::sip_admission::admitted:
      spdlog::info("openai webhook: call {} ({} event) accepted for agent '{}' as call {}", call.call_id, runtime,
                   decision.profile->name, log::escape_for_log(decision.call_sid, log::name_bytes));
      return answer(ctx, outcome::accepted);
    case bridge::sip_admission::full:
      spdlog::warn("openai webhook: call {} ({} event): rejecting with SIP 486: at MAX_CONCURRENT_CALLS={}",
                   call.call_id, runtime, ctx.settings.max_concurrent_calls);
      reject_later(ctx, ex, control_target(upstream, call), 486);
      return answer(ctx, outcome::rejected);
    case bridge::sip_admission::already_live:
      spdlog::warn("openai webhook: call {} ({} event): call {} is already live: ignored", call.call_id, runtime,
                   log::escape_for_log(decision.call_sid, log::name_bytes));
      return answer(ctx, outcome::ignored);
  }
  return answer(ctx, outcome::ignored);
}

http_reply handle_openai_webhook(server_context& ctx, const http_request_view& req, const asio::any_io_executor& ex) {
  if (req.method != "POST") return method_not_allowed("POST");
  if (!ctx.openai_webhook) {
    bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                          "refused OpenAI webhook from {}: OPENAI_WEBHOOK_SECRET is not set", req.peer_address);
    return error_reply(503, "OpenAI webhooks are not enabled (OPENAI_WEBHOOK_SECRET)");
  }
  return ctx.openai_webhook->handle(ctx, req, ex);
}

}  // namespace mb::server
