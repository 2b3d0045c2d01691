#include "server/api.hpp"

#include <chrono>
#include <exception>
#include <filesystem>
#include <system_error>
#include <variant>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "agents/agent_profile.hpp"
#include "bridge/peer_log.hpp"
#include "call/event_json.hpp"
#include "call/latency_summary.hpp"
#include "protocol/bearer_token.hpp"
#include "protocol/form.hpp"
#include "protocol/local_access.hpp"
#include "server/client_secrets.hpp"
#include "server/outbound.hpp"
#include "server/probes.hpp"
#include "store/call_store.hpp"

namespace mb::server {
namespace {

namespace json = boost::json;

constexpr std::size_t max_page = 500;
// An operator's command is a few fields: a message of max_message_chars, every one \u-escaped, fits.
constexpr std::size_t max_command_body = 16 * 1024;
constexpr std::size_t max_message_chars = 2000;
constexpr std::size_t max_destination_bytes = 64;

json::object usage_json(const protocol::token_usage& u) {
  return {{"input_tokens", u.input_tokens}, {"output_tokens", u.output_tokens}, {"total_tokens", u.total_tokens}};
}

json::object call_json(const store::call_row& c) {
  json::object o{{"call_sid", c.call_sid},   {"stream_sid", c.stream_sid},
                 {"from", c.from},           {"to", c.to},
                 {"agent", c.agent},         {"transport", c.transport},
                 {"started_at", call::format_utc(c.started_ms)},
                 {"ended_at", nullptr},      {"end_reason", nullptr},
                 {"duration_ms", nullptr},   {"usage", nullptr}};
  if (c.ended_ms) {
    o["ended_at"] = call::format_utc(*c.ended_ms);
    o["end_reason"] = c.end_reason;
    o["duration_ms"] = c.duration_ms;
    o["usage"] = usage_json(c.usage);
  }
  return o;
}

// A stored turn.latency event's spans (docs/events.md); nullopt for a row that lacks them.
std::optional<call::turn_waterfall> turn_spans(const json::object& event) {
  const auto number = [&](std::string_view key) -> std::optional<double> {
    const auto* v = event.if_contains(key);
    if (!v || !v->is_number()) return std::nullopt;
    return v->to_number<double>();
  };
  const auto delta = number("to_first_delta_ms");
  const auto audio = number("to_first_audio_ms");
  const auto bridge = number("bridge_ms");
  if (!delta || !audio || !bridge) return std::nullopt;
  call::turn_waterfall t;
  t.to_first_delta_ms = *delta;
  t.to_first_audio_ms = *audio;
  t.to_heard_ms = number("to_heard_ms");
  t.bridge_ms = *bridge;
  return t;
}

// "latency": p50 and max per span over the call's turn.latency events; null spans no turn measured.
json::object latency_json(const std::vector<call::turn_waterfall>& turns) {
  const auto s = call::summarize_turns(turns);
  const auto span = [](const std::optional<call::span_summary>& v) -> json::value {
    if (!v) return nullptr;
    return json::object{{"p50", v->p50}, {"max", v->max}};
  };
  return {{"turns", s.turns},
          {"to_first_delta_ms", span(s.to_first_delta_ms)},
          {"to_first_audio_ms", span(s.to_first_audio_ms)},
          {"to_heard_ms", span(s.to_heard_ms)},
          {"bridge_ms", span(s.bridge_ms)}};
}

json::object detail_json(const store::call_detail& d) {
  auto o = call_json(d.call);
  o["end_detail"] = d.call.end_detail;
  json::object parameters;
  for (const auto& [k, v] : d.call.parameters) parameters[k] = v;
  o["parameters"] = std::move(parameters);
  json::array transcript;
  for (const auto& line : d.transcript) {
    json::object l{{"time", call::format_utc(line.at_ms)}, {"role", line.role}, {"item_id", line.item_id},
                   {"text", line.text}};
    if (line.role == "assistant") l["interrupted"] = line.interrupted;
    if (line.heard_ms) l["heard_ms"] = *line.heard_ms;
    if (line.heard_text) {
      l["heard_text"] = *line.heard_text;
      l["heard_text_estimated"] = line.heard_text_estimated;
    }
    transcript.push_back(std::move(l));
  }
  o["transcript"] = std::move(transcript);
  json::array barge_ins;
  for (const auto& b : d.barge_ins)
    barge_ins.push_back(
        json::object{{"time", call::format_utc(b.at_ms)}, {"item_id", b.item_id}, {"audio_end_ms", b.audio_end_ms}});
  o["barge_ins"] = std::move(barge_ins);
  // Tool calls, call control, digit strings and turn latencies, as listeners got them (docs/events.md).
  json::array events;
  std::vector<call::turn_waterfall> turns;
  for (const auto& e : d.events) {
    json::error_code ec;
    auto event = json::parse(e.json, ec);
    // Stored by this program from its own JSON: only a damaged file could fail here, and one bad row
    // should not hide the rest of the call.
    if (ec || !event.is_object()) continue;
    event.as_object().erase("call_sid");
    if (e.type == call::turn_latency_type)
      if (auto t = turn_spans(event.as_object())) turns.push_back(*t);
    events.push_back(std::move(event));
  }
  o["events"] = std::move(events);
  o["latency"] = latency_json(turns);
  return o;
}

// GET /v1/calls?limit=&cursor=&since=&until=&number=; a problem sentence on bad input.
std::optional<std::string> read_query(std::string_view query, store::call_query& out) {
  const auto fields = protocol::parse_form(query);
  if (!fields) return "malformed query string";
  if (const auto v = protocol::form_value(*fields, "limit"); !v.empty()) {
    const auto n = protocol::count_in_range(v, 1, max_page);
    if (!n) return "limit must be a whole number in 1.." + std::to_string(max_page);
    out.limit = *n;
  }
  for (const auto& [name, target] : {std::pair{"since", &out.since_ms}, std::pair{"until", &out.until_ms}}) {
    const auto v = protocol::form_value(*fields, name);
    if (v.empty()) continue;
    *target = call::parse_utc(v);
    if (!*target)
      return std::string(name) + " must be an RFC 3339 time (2025-01-31T12:00:00Z) or ms since the epoch";
  }
  out.number = protocol::form_value(*fields, "number");
  out.cursor = protocol::form_value(*fields, "cursor");
  return std::nullopt;
}

net::awaitable<http_reply> list_calls(store::call_store& store, const http_request_view& req) {
  store::call_query query;
  if (auto problem = read_query(req.query(), query)) co_return error_reply(400, *problem);
  const auto page = co_await store.list_calls(std::move(query));
  if (page.bad_cursor) co_return error_reply(400, "cursor must be a next_cursor this server returned");
  json::array calls;
  for (const auto& c : page.calls) calls.push_back(call_json(c));
  json::object body{{"calls", std::move(calls)}};
  if (page.next_cursor.empty())
    body["next_cursor"] = nullptr;
  else
    body["next_cursor"] = page.next_cursor;
  co_return json_reply(200, body);
}

// The call's "recording" (docs/recording.md), or null.
json::value recording_json(const server_context& ctx, const std::string& call_sid,
                           const std::optional<store::call_detail>& detail) {
  if (!ctx.recordings) return nullptr;
  std::optional<recorder::recording_outcome> ended;
  if (detail && detail->call.recording) {
    const auto& r = *detail->call.recording;
    ended = recorder::recording_outcome{call_sid, r.started_at, r.duration_ms, r.complete, r.dropped_bytes};
  }
  const auto info = ctx.recordings->info(call_sid, ended);
  if (!info) return nullptr;
  return json::object{{"started_at", info->started_at}, {"duration_ms", info->duration_ms},
                      {"wav_bytes", info->wav_bytes},   {"log_bytes", info->log_bytes},
                      {"complete", info->complete},     {"dropped_bytes", info->dropped_bytes}};
}

// GET /v1/calls/{sid}/recording.wav and .jsonl: 409 while the call is being recorded.
http_reply recording_file(const server_context& ctx, const http_request_view& req, const std::string& call_sid,
                          bool wav) {
  if (req.method != "GET") return method_not_allowed("GET");
  if (!ctx.recordings) return error_reply(404, "no recording (RECORDINGS_DIR is empty)");
  if (ctx.recordings->active(call_sid)) return error_reply(409, "still recording");
  const auto path = wav ? ctx.recordings->wav_path(call_sid) : ctx.recordings->log_path(call_sid);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return error_reply(404, "no recording for this call");
  http_reply reply{200, wav ? "audio/wav" : "application/x-ndjson", {}, {}, path.string()};
  reply.headers.emplace_back("Cache-Control", "no-store");
  return reply;
}

// An outbound call this server placed shows its status under "outbound", before its stream has a
// history row too (or without history).
net::awaitable<http_reply> call_resource(server_context& ctx, const http_request_view& req,
                                         const std::string& call_sid) {
  if (req.method == "DELETE") {
    if (!ctx.store) co_return error_reply(503, "call history is disabled (DATABASE_PATH is empty)");
    if (ctx.recordings && ctx.recordings->active(call_sid)) co_return error_reply(409, "still recording");
    const bool recorded = ctx.recordings && ctx.recordings->info(call_sid, std::nullopt);
    if (recorded) ctx.recordings->erase(call_sid);
    if (!co_await ctx.store->erase_call(call_sid) && !recorded) co_return error_reply(404, "no such call");
    spdlog::info("history: call {} erased{}", call_sid, recorded ? " with its recording" : "");
    co_return http_reply{204, "application/json", {}, {}, {}};
  }
  std::optional<json::object> outbound;
  if (ctx.outbound) outbound = co_await ctx.outbound->describe_call(call_sid);
  std::optional<store::call_detail> detail;
  if (ctx.store) detail = co_await ctx.store->find_call(call_sid);
  if (!detail && !outbound)
    co_return ctx.store ? error_reply(404, "no such call")
                        : error_reply(503, "call history is disabled (DATABASE_PATH is empty)");
  json::object body = detail ? detail_json(*detail) : json::object{{"call_sid", call_sid}};
  body["outbound"] = outbound ? json::value(std::move(*outbound)) : json::value(nullptr);
  body["recording"] = recording_json(ctx, call_sid, detail);
  co_return json_reply(200, body);
}

std::size_t utf8_chars(std::string_view text) {
  std::size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xC0) != 0x80;  // continuation bytes are not characters
  return n;
}

bool has_control_characters(std::string_view text) {
  for (const unsigned char c : text)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t\r\n") == std::string_view::npos; }

// The command a POST /v1/calls/{sid}/<command> asks for, or what is wrong with its body. The call
// itself decides whether it can be done (a destination outside its allowlist is refused there).
std::variant<call::operator_command, std::string> read_command(routing::api_target::kind what, std::string_view body) {
  json::object fields;
  if (!body.empty() || what != routing::api_target::kind::hang_up) {
    boost::system::error_code ec;
    auto value = json::parse(body, ec);  // rejects invalid UTF-8 too
    if (ec) return "the body must be a JSON object: " + ec.message();
    if (!value.is_object()) return "the body must be a JSON object";
    fields = std::move(value.as_object());
  }
  switch (what) {
    case routing::api_target::kind::transfer: {
      const auto* destination = fields.if_contains("destination");
      if (!destination || !destination->is_string())
        return R"("destination" must be a string: the name of one of the agent's transfer destinations)";
      const std::string_view name = destination->as_string();
      if (name.empty() || name.size() > max_destination_bytes || has_control_characters(name))
        return R"("destination" must be a name of 1..)" + std::to_string(max_destination_bytes) +
               " characters, without control characters";
      return call::transfer_command{std::string(name)};
    }
    case routing::api_target::kind::message: {
      const auto* text = fields.if_contains("text");
      if (!text || !text->is_string()) return R"("text" must be a string)";
      const std::string_view words = text->as_string();
      if (utf8_chars(words) > max_message_chars || is_blank(words))
        return R"("text" must hold 1..)" + std::to_string(max_message_chars) + " characters, not only spaces";
      return call::message_command{std::string(words)};
    }
    default:
      return call::hang_up_command{};
  }
}

const char* command_name(routing::api_target::kind what) {
  switch (what) {
    case routing::api_target::kind::transfer: return "transfer";
    case routing::api_target::kind::message: return "message";
    default: return "hang-up";
  }
}

// POST /v1/calls/{sid}/hangup, /transfer, /messages: handed to the live call, whose call.control
// events tell the outcome.
http_reply operator_command(server_context& ctx, const http_request_view& req, const routing::api_target& target) {
  if (req.method != "POST") return method_not_allowed("POST");
  if (req.body.size() > max_command_body)
    return error_reply(413, "the body must be at most " + std::to_string(max_command_body) + " bytes");
  auto command = read_command(target.what, req.body);
  if (const auto* problem = std::get_if<std::string>(&command)) {
    bridge::log_peer_line(req.log_lines, spdlog::level::info, "api: refused an operator {} for call {} from {}: {}",
                          command_name(target.what), target.call_sid, req.peer_address, *problem);
    return error_reply(400, *problem);
  }
  if (!ctx.registry.send_command(target.call_sid, std::move(std::get<call::operator_command>(command))))
    return error_reply(404, "no such call is live on this server");
  spdlog::info("api: operator {} requested for call {} by {}", command_name(target.what), target.call_sid,
               req.peer_address);
  return json_reply(202, {{"status", "requested"}});
}

// GET /v1/agents: what the dashboard offers, an agent for outbound calls and a call's transfer
// destinations (names only: the numbers they dial stay on the server).
http_reply list_agents(const server_context& ctx, const http_request_view& req) {
  if (req.method != "GET") return method_not_allowed("GET");
  json::array agents;
  if (ctx.agents) {
    for (const auto& profile : ctx.agents->profiles()) {
      json::array transfers;
      for (const auto& destination : profile.tools.transfers) transfers.emplace_back(destination.name);
      agents.push_back(json::object{{"name", profile.name},
                                    {"default", &profile == &ctx.agents->default_profile()},
                                    {"transfers", std::move(transfers)}});
    }
  }
  return json_reply(200, {{"agents", std::move(agents)}});
}

net::awaitable<http_reply> probes_resource(server_context& ctx, const http_request_view& req) {
  if (req.method != "GET") co_return method_not_allowed("GET");
  if (!ctx.store) co_return error_reply(503, "probe history is disabled (DATABASE_PATH is empty)");
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  try {
    co_return co_await list_probes(*ctx.store, req, now_ms);
  } catch (const std::exception& e) {
    spdlog::error("probes: GET {} failed: {}", req.path(), e.what());
  }
  co_return error_reply(500, "probe history is unavailable");
}

}  // namespace

std::optional<http_reply> check_api_access(const server_context& ctx, const http_request_view& req) {
  const auto& token = ctx.settings.api_token;
  if (token.empty()) {
    // Behind a reverse proxy on this host every client looks local: forwarded requests are not.
    const bool forwarded = !req.header("X-Forwarded-For").empty() || !req.header("Forwarded").empty();
    if (protocol::is_local_request({req.peer_address, req.header("Host"), req.header("Origin"), forwarded}))
      return std::nullopt;
    bridge::log_peer_line(req.log_lines, spdlog::level::warn,
                          "api: refused {} from {}: API_TOKEN is not set, so only local clients are served (loopback "
                          "peer, Host and Origin, not proxied)",
                          log::escape_for_log(req.path(), log::name_bytes), req.peer_address);
    return error_reply(403,
                       "API_TOKEN is not set: only local clients (loopback address, Host and Origin; not proxied) "
                       "may use this endpoint");
  }
  if (protocol::token_matches(protocol::presented_token(req.header("Authorization"), req.query()), token.reveal()))
    return std::nullopt;
  bridge::log_peer_line(req.log_lines, spdlog::level::warn, "api: refused {} from {}: missing or wrong API token",
                        log::escape_for_log(req.path(), log::name_bytes), req.peer_address);
  auto reply = error_reply(401, "missing or wrong API token");
  reply.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="mediabridge")");
  return reply;
}

net::awaitable<http_reply> handle_api(server_context& ctx, const http_request_view& req,
                                      const routing::api_target& target) {
  using kind = routing::api_target::kind;
  const bool outbound_call = target.what == kind::calls && req.method == "POST";
  switch (target.what) {
    case kind::events:
      if (!ctx.listeners) co_return error_reply(404, "live events are not enabled");
      co_return method_not_allowed("GET");
    case kind::hang_up:
    case kind::transfer:
    case kind::message:
      co_return operator_command(ctx, req, target);
    case kind::agents:
      co_return list_agents(ctx, req);
    case kind::probes:
      co_return co_await probes_resource(ctx, req);
    case kind::recording_wav:
    case kind::recording_log:
      co_return recording_file(ctx, req, target.call_sid, target.what == kind::recording_wav);
    case kind::client_secrets:
      if (req.method != "POST") co_return method_not_allowed("POST");
      if (!ctx.client_secrets) co_return error_reply(503, "client secrets are not enabled on this server");
      co_return co_await ctx.client_secrets->mint(ctx, req);
    case kind::campaigns:
    case kind::campaign:
    case kind::campaign_cancel:
    case kind::calls:
    case kind::call:
      break;
  }
  if (outbound_call || target.what == kind::campaigns || target.what == kind::campaign ||
      target.what == kind::campaign_cancel) {
    if (!ctx.outbound) co_return error_reply(503, "outbound calls are not enabled on this server");
    if (outbound_call) co_return co_await ctx.outbound->place_call(req);
    co_return co_await ctx.outbound->handle_campaigns(req, target);
  }
  const bool list = target.what == kind::calls;
  if (list ? req.method != "GET" : req.method != "GET" && req.method != "DELETE")
    co_return method_not_allowed(list ? "GET, POST" : "GET, DELETE");
  if (list && !ctx.store) co_return error_reply(503, "call history is disabled (DATABASE_PATH is empty)");
  try {
    // Not one co_await over `list ? a : b`: g++ 12 destroys such temporaries twice in coroutines.
    if (list) co_return co_await list_calls(*ctx.store, req);
    co_return co_await call_resource(ctx, req, target.call_sid);
  } catch (const std::exception& e) {
    spdlog::error("history: {} {} failed: {}", req.method, req.path(), e.what());
  }
  co_return error_reply(500, "call history is unavailable");
}

}  // namespace mb::server
