#include "server/api.hpp"

#include <charconv>
#include <exception>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"
#include "call/event_json.hpp"
#include "protocol/bearer_token.hpp"
#include "protocol/form.hpp"
#include "protocol/local_access.hpp"
#include "store/call_store.hpp"

namespace mb::server {
namespace {

namespace json = boost::json;

constexpr std::size_t max_page = 500;

json::object usage_json(const protocol::token_usage& u) {
  return {{"input_tokens", u.input_tokens}, {"output_tokens", u.output_tokens}, {"total_tokens", u.total_tokens}};
}

json::object call_json(const store::call_row& c) {
  json::object o{{"call_sid", c.call_sid},   {"stream_sid", c.stream_sid},
                 {"from", c.from},           {"to", c.to},
                 {"agent", c.agent},         {"started_at", call::format_utc(c.started_ms)},
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
  json::array events;
  for (const auto& e : d.events) {
    json::error_code ec;
    auto event = json::parse(e.json, ec);
    // Stored by this program from its own JSON: only a damaged file could fail here, and one bad row
    // should not hide the rest of the call.
    if (ec || !event.is_object()) continue;
    event.as_object().erase("call_sid");
    events.push_back(std::move(event));
  }
  o["events"] = std::move(events);
  return o;
}

// GET /v1/calls?limit=&cursor=&since=&until=&number=; a problem sentence on bad input.
std::optional<std::string> read_query(std::string_view query, store::call_query& out) {
  const auto fields = protocol::parse_form(query);
  if (!fields) return "malformed query string";
  if (const auto v = protocol::form_value(*fields, "limit"); !v.empty()) {
    std::size_t n = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || ptr != v.data() + v.size() || n < 1 || n > max_page)
      return "limit must be a whole number in 1.." + std::to_string(max_page);
    out.limit = n;
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

net::awaitable<http_reply> call_resource(store::call_store& store, const http_request_view& req,
                                         const std::string& call_sid) {
  if (req.method == "DELETE") {
    if (!co_await store.erase_call(call_sid)) co_return error_reply(404, "no such call");
    spdlog::info("history: call {} erased", call_sid);
    co_return http_reply{204, "application/json", {}, {}};
  }
  auto detail = co_await store.find_call(call_sid);
  if (!detail) co_return error_reply(404, "no such call");
  co_return json_reply(200, detail_json(*detail));
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
  if (target.what == routing::api_target::kind::events) {
    if (!ctx.listeners) co_return error_reply(404, "live events are not enabled");
    co_return method_not_allowed("GET");
  }
  const bool list = target.what == routing::api_target::kind::calls;
  if (list ? req.method != "GET" : req.method != "GET" && req.method != "DELETE")
    co_return method_not_allowed(list ? "GET" : "GET, DELETE");
  if (!ctx.store) co_return error_reply(503, "call history is disabled (DATABASE_PATH is empty)");
  try {
    // Not one co_await over `list ? a : b`: g++ 12 destroys such temporaries twice in coroutines.
    if (list) co_return co_await list_calls(*ctx.store, req);
    co_return co_await call_resource(*ctx.store, req, target.call_sid);
  } catch (const std::exception& e) {
    spdlog::error("history: {} {} failed: {}", req.method, req.path(), e.what());
  }
  co_return error_reply(500, "call history is unavailable");
}

}  // namespace mb::server
