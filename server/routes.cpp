#include "server/routes.hpp"

#include <algorithm>
#include <span>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <strings.h>

#include "agents/agent_profile.hpp"
#include "bridge/peer_log.hpp"
#include "bridge/prewarm_pool.hpp"
#include "campaign/call_status.hpp"
#include "campaign/destination.hpp"
#include "metrics/metrics.hpp"
#include "protocol/form.hpp"
#include "protocol/openai_sip.hpp"
#include "protocol/public_url.hpp"
#include "protocol/stream_token.hpp"
#include "protocol/twilio_signature.hpp"
#include "protocol/twilio_messages.hpp"
#include "routing/route.hpp"
#include "server/agent_setup.hpp"
#include "server/dashboard.hpp"
#include "server/io_pool.hpp"
#include "server/listener_hub.hpp"
#include "server/outbound.hpp"
#include "store/call_store.hpp"
#include "sip/call_decision.hpp"
#include "twiml/sip_dial.hpp"
#include "twiml/twiml.hpp"

namespace mb::server {

http_reply json_reply(int status, const boost::json::object& body) {
  return http_reply{status, "application/json", boost::json::serialize(body), {}, {}};
}

http_reply error_reply(int status, std::string_view message) {
  return json_reply(status, {{"error", message}});
}

http_reply method_not_allowed(std::string_view allow) {
  auto reply = error_reply(405, "method not allowed");
  reply.headers.emplace_back("Allow", allow);
  return reply;
}

namespace {

// The call's identity travels as <Parameter>s: Twilio drops query strings from the stream URL.
constexpr std::string_view forwarded_fields[] = {"CallSid", "AccountSid", "From", "To", "Direction"};

// Past the signature check, a signed webhook is Twilio's: its lines (one or two per call) are all
// written, so that a busy proxy connection reused for many calls loses none. Unsigned (no
// TWILIO_AUTH_TOKEN), anyone may send them, and the peer budgets apply.
template <class... Args>
void log_webhook_line(const server_context& ctx, const http_request_view& req, spdlog::level::level_enum level,
                      fmt::format_string<Args...> format, Args&&... args) {
  if (!ctx.settings.twilio_auth_token.empty())
    spdlog::log(level, format, std::forward<Args>(args)...);
  else
    bridge::log_peer_line(req.log_lines, level, format, std::forward<Args>(args)...);
}

http_reply forbidden(std::string_view what, const http_request_view& req) {
  bridge::log_peer_line(req.log_lines, spdlog::level::warn, "refused {} from {}: missing or wrong X-Twilio-Signature",
                        what, req.peer_address);
  return error_reply(403, "invalid Twilio signature");
}

// `call_sid` is as received: it may not have been validated yet.
http_reply fallback(server_context& ctx, const http_request_view& req, std::string_view call_sid, std::string_view why) {
  log_webhook_line(ctx, req, spdlog::level::warn, "webhook: call {} answered with fallback TwiML: {}",
                        log::escape_for_log(call_sid, log::name_bytes), why);
  return http_reply{200, "text/xml", twiml::render_fallback({ctx.settings.fallback_say, ctx.settings.fallback_dial}), {}, {}};
}

// The values of the variables `profile`'s templates use, except the names in `skipped` (passed on anyway). An
// outbound call's variables come in the query (?var.<name>=, campaign/destination.hpp), which the
// signature covers; Twilio's form fields otherwise.
agents::variables template_values(const agents::agent_profile& profile, const protocol::form_fields& fields,
                                  const std::optional<protocol::form_fields>& query,
                                  std::span<const std::string_view> skipped) {
  agents::variables values;
  for (const auto& name : profile.variables_used()) {
    if (std::find(skipped.begin(), skipped.end(), name) != skipped.end()) continue;
    auto v = query ? protocol::form_value(*query, std::string(campaign::variable_query_prefix) + name) : std::string_view{};
    if (v.empty()) v = protocol::form_value(fields, name);
    if (!v.empty()) values.emplace_back(name, std::string(v));
  }
  return values;
}

// The webhook side knows the SIP From and To users and the call's SID (sip/call_decision.hpp).
constexpr std::string_view sip_known_fields[] = {"CallSid", "From", "To"};

// A SIP-mode profile (docs/protocols.md J5): Twilio dials OpenAI, carrying the profile, the CallSid, the
// stream token that binds them and the template values as SIP headers. The reservation holds the slot
// until the webhook's accept takes it.
http_reply dial_openai_sip(server_context& ctx, const http_request_view& req, const protocol::form_fields& fields,
                           const std::optional<protocol::form_fields>& query, const agents::agent_profile& profile) {
  const auto call_sid = protocol::form_value(fields, "CallSid");
  std::vector<twiml::sip_header_field> headers{
      {std::string(protocol::sip_agent_header), profile.name},
      {std::string(protocol::sip_call_sid_header), std::string(call_sid)},
      {std::string(protocol::sip_token_header), ctx.tokens.issue(call_sid)}};
  auto values = template_values(profile, fields, query, sip_known_fields);
  if (values.size() > sip::max_sip_variables) {
    log_webhook_line(ctx, req, spdlog::level::warn, "webhook: call {}: {} template variables left out of the SIP headers "
                     "(at most {})", call_sid, values.size() - sip::max_sip_variables, sip::max_sip_variables);
    values.resize(sip::max_sip_variables);
  }
  for (auto& [name, value] : values)
    headers.push_back({std::string(protocol::sip_variable_header_prefix) + name, std::move(value)});
  const auto dial = twiml::make_sip_dial_uri(ctx.sip_uri, headers);
  for (const auto& name : dial.left_out)
    log_webhook_line(ctx, req, spdlog::level::warn,
                     "webhook: call {}: SIP header {} left out: the headers would exceed Twilio's {} characters",
                     call_sid, log::escape_for_log(name, log::name_bytes), twiml::max_sip_headers_chars);
  log_webhook_line(ctx, req, spdlog::level::info, "webhook: call {} dialled to OpenAI over SIP for agent '{}'", call_sid,
                   profile.name);
  return http_reply{200, "text/xml", twiml::render_dial_sip(ctx.settings.webhook_say, dial.uri), {}, {}};
}

// PREWARM (bridge/prewarm_pool.hpp): opens the call's upstream session, for the agent profile and
// variables its stream will name, on the worker thread that is to serve the stream. Returns that
// worker, or nullopt when nothing was opened (a replayed webhook, the pool's bound, no profile).
std::optional<std::size_t> prewarm(server_context& ctx, std::string_view call_sid,
                                   const std::vector<twiml::stream_parameter>& parameters) {
  protocol::twilio_start start;
  start.call_sid = call_sid;
  for (const auto& p : parameters) start.custom_parameters.emplace_back(p.name, p.value);
  net::connect_request request{ctx.bridge.upstream_url, ctx.bridge.upstream_headers, ctx.bridge.upstream_limits,
                               static_cast<int>(ctx.bridge.upstream_connect_timeout.count())};
  // What the stream's start will resolve to (bridge::bridge_context::resolve), from the same parameters.
  if (ctx.bridge.resolve) {
    auto setup = ctx.bridge.resolve(start);
    if (!setup) return std::nullopt;
    request.url = std::move(setup->upstream_url);
    request.headers = std::move(setup->upstream_headers);
  }
  const auto worker = ctx.workers->least_loaded();
  if (!ctx.bridge.prewarm->open(ctx.workers->context(worker).get_executor(), std::string(call_sid),
                                bridge::prewarm_pool::claim_key_of(std::move(start.custom_parameters)),
                                std::move(request)))
    return std::nullopt;
  return worker;
}

http_reply voice_webhook(server_context& ctx, const http_request_view& req) {
  const bool post = req.method == "POST";
  const auto fields = protocol::parse_form(post ? req.body : req.query());
  if (!fields) return error_reply(400, "malformed form body");
  const auto base = public_base(ctx, req);
  if (!base) return error_reply(400, "missing or malformed Host header");

  // Twilio signs the public URL it requested, plus the POST fields (protocols.md C1); a GET's
  // fields are in that URL already.
  if (const auto& token = ctx.settings.twilio_auth_token; !token.empty()) {
    const std::string url = *base + std::string(req.target);
    if (!protocol::validate_twilio_signature(token.reveal(), url, post ? *fields : protocol::form_fields{},
                                             req.header("X-Twilio-Signature")))
      return forbidden("voice webhook", req);
  }

  const auto call_sid = protocol::form_value(*fields, "CallSid");
  if (ctx.draining.load(std::memory_order_relaxed)) return fallback(ctx, req, call_sid, "draining");
  if (call_sid.empty() || !protocol::is_safe_sid(call_sid)) return error_reply(400, "missing or malformed CallSid");

  // The agent profile: ?agent=<name>, else the one claiming the called number, else DEFAULT_AGENT.
  const agents::agent_profile* profile = nullptr;
  const auto query = protocol::parse_form(req.query());
  if (ctx.agents) {
    const auto requested = query ? protocol::form_value(*query, agent_parameter) : std::string_view{};
    profile = ctx.agents->select(requested, protocol::form_value(*fields, "To"));
    if (!profile)
      return fallback(ctx, req, call_sid,
                      "unknown agent profile '" +
                          std::string(agents::valid_profile_name(requested) ? requested : "(not a profile name)") + "'");
  }

  // The slot is held from now, for as long as the stream token is valid: a burst of webhooks cannot
  // exceed the limit before their streams arrive.
  switch (ctx.registry.reserve(call_sid, ctx.tokens.ttl())) {
    case admission::reserve_result::reserved: break;
    case admission::reserve_result::full:
      return fallback(ctx, req, call_sid, "at MAX_CONCURRENT_CALLS=" + std::to_string(ctx.settings.max_concurrent_calls));
    case admission::reserve_result::already_live:
      // Twilio never asks again for a call whose stream runs: this is a replayed request.
      bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                            "webhook: refused call {} from {}: a stream for this call is already running (replayed "
                            "webhook?)",
                            call_sid, req.peer_address);
      return error_reply(409, "a stream for this call is already running");
  }

  if (profile && profile->mode == agents::call_mode::sip) return dial_openai_sip(ctx, req, *fields, query, *profile);

  twiml::connect_stream stream;
  stream.say = ctx.settings.webhook_say;
  stream.stream_url = protocol::websocket_url(*base, routing::media_stream_path);
  for (const auto name : forwarded_fields)
    if (const auto v = protocol::form_value(*fields, name); !v.empty()) stream.parameters.push_back({std::string(name), std::string(v)});
  stream.parameters.push_back({std::string(protocol::stream_token_parameter), ctx.tokens.issue(call_sid)});
  if (profile) {
    stream.parameters.push_back({std::string(agent_parameter), profile->name});
    // The other values its templates use: start.customParameters is all the call will know.
    for (auto& [name, value] : template_values(*profile, *fields, query, forwarded_fields))
      stream.parameters.push_back({std::move(name), std::move(value)});
  }
  if (ctx.bridge.prewarm && ctx.workers)
    if (const auto worker = prewarm(ctx, call_sid, stream.parameters))
      stream.stream_url = protocol::websocket_url(*base, routing::media_stream_path_for_worker(*worker));
  log_webhook_line(ctx, req, spdlog::level::info, "webhook: call {} connected to {}", call_sid,
                   log::escape_for_log(stream.stream_url, log::reason_bytes));
  return http_reply{200, "text/xml", twiml::render_connect(stream), {}, {}};
}

// Twilio's status callbacks for outbound calls (docs/protocols.md H3): checked like the voice webhook,
// then handed to the outbound service, which ignores calls it did not place.
http_reply status_callback(server_context& ctx, const http_request_view& req) {
  const auto fields = protocol::parse_form(req.body);
  if (!fields) return error_reply(400, "malformed form body");
  const auto base = public_base(ctx, req);
  if (!base) return error_reply(400, "missing or malformed Host header");
  if (const auto& token = ctx.settings.twilio_auth_token; !token.empty()) {
    const std::string url = *base + std::string(req.target);
    if (!protocol::validate_twilio_signature(token.reveal(), url, *fields, req.header("X-Twilio-Signature")))
      return forbidden("status callback", req);
  }
  if (!ctx.outbound) return error_reply(503, "outbound calls are not enabled");
  const auto call_sid = protocol::form_value(*fields, "CallSid");
  const auto status = campaign::parse_call_status(protocol::form_value(*fields, "CallStatus"));
  if (!protocol::is_safe_sid(call_sid) || !status) {
    bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                          "status callback from {}: ignored: missing or malformed CallSid or CallStatus",
                          req.peer_address);
    return error_reply(400, "missing or malformed CallSid or CallStatus");
  }
  ctx.outbound->on_status(std::string(call_sid), *status);
  return http_reply{204, "application/json", {}, {}, {}};
}

}  // namespace

std::string_view http_request_view::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

std::optional<std::string> public_base(server_context& ctx, const http_request_view& req) {
  const protocol::request_origin origin{req.header("Host"), req.header("X-Forwarded-Proto"),
                                        req.header("X-Forwarded-Host"),
                                        is_trusted_proxy(ctx.settings, req.peer_address)};
  return protocol::public_base_url(ctx.settings.public_url, origin);
}

bool is_trusted_proxy(const config::settings& settings, std::string_view peer_address) {
  for (const auto& net : settings.trusted_proxies)
    if (net.contains(peer_address)) return true;
  return false;
}

std::optional<http_reply> check_stream_upgrade(server_context& ctx, const http_request_view& req) {
  const auto& token = ctx.settings.twilio_auth_token;
  if (token.empty()) return std::nullopt;
  const auto base = public_base(ctx, req);
  if (!base) return error_reply(400, "missing or malformed Host header");
  // The exact URL the TwiML named: the stream URL has no query string (Twilio drops it).
  const auto url = protocol::websocket_url(*base, req.path());
  if (!protocol::validate_twilio_stream_signature(token.reveal(), url, req.header("X-Twilio-Signature")))
    return forbidden("media stream upgrade", req);
  return std::nullopt;
}

http_reply handle_request(server_context& ctx, const http_request_view& req) {
  const auto path = req.path();
  if (auto dashboard = handle_dashboard(ctx, req)) return std::move(*dashboard);  // /, /static/*, /v1/softphone/calls
  if (path == "/voice" || path == "/voice/") {
    if (req.method != "POST" && req.method != "GET") return method_not_allowed("GET, POST");
    return voice_webhook(ctx, req);
  }
  if (path == status_callback_path) {
    if (req.method != "POST") return method_not_allowed("POST");
    return status_callback(ctx, req);
  }
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    boost::json::object health{{"status", "ok"},
                               {"version", version},
                               {"active_calls", ctx.registry.active()},
                               {"reserved_calls", ctx.registry.reserved()},
                               {"pending_streams", ctx.registry.pending()}};
    if (ctx.listeners) health["listeners"] = ctx.listeners->stats().listeners;
    if (ctx.store) {
      const auto s = ctx.store->stats();
      health["history"] = {{"written", s.written}, {"write_errors", s.write_errors}, {"dropped", s.dropped}};
    }
    return json_reply(200, health);
  }
  if (path == "/readyz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    const bool draining = ctx.draining.load(std::memory_order_relaxed);
    const bool full = ctx.registry.full();
    return json_reply(draining || full ? 503 : 200, {{"ready", !draining && !full}, {"draining", draining}, {"full", full}});
  }
  if (path == "/metrics") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    if (!ctx.metrics) return error_reply(404, "not found");
    return http_reply{200, std::string(metrics::exposition_content_type), ctx.metrics->render(), {}, {}};
  }
  return error_reply(404, "not found");
}

}  // namespace mb::server
