#include "server/outbound.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <random>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "agents/agent_profile.hpp"
#include "bridge/call_registry.hpp"
#include "campaign/csv.hpp"
#include "campaign/pacer.hpp"
#include "log/escape.hpp"
#include "protocol/twilio_messages.hpp"
#include "protocol/twilio_rest.hpp"
#include "telephony/twilio_client.hpp"

namespace mb::server {
namespace {

namespace json = boost::json;
using campaign::call_status;

constexpr double max_calls_per_second = 100;
constexpr std::int64_t max_active_limit = 1000;

struct call_record {
  call_status status = call_status::queued;
  std::string campaign_id;  // empty: a single call
  std::size_t row = 0;      // index among the campaign's dialable rows
  std::string to;
  std::string agent;
};

struct campaign_entry {
  std::string id;
  std::string agent;
  std::string from;
  std::string base_url;  // the public base the voice and status URLs use
  std::vector<campaign::campaign_row> rows;
  std::vector<std::string> call_sids;  // per row; empty until placed
  std::vector<std::string> errors;     // per row; why placing it failed
  json::array rejected;                // the CSV's bad rows, never dialled: {line, error}
  campaign::pacer pacer;
  asio::steady_timer timer;
  campaign::clock::time_point armed = campaign::clock::time_point::max();

  campaign_entry(const asio::any_io_executor& ex, std::size_t row_count, campaign::pacer_options options)
      : call_sids(row_count), errors(row_count), pacer(row_count, options), timer(ex) {}
};

// What an outbound call needs, validated.
struct call_target {
  std::string to;
  std::string from;
  std::string agent;  // the profile's name; empty without agent profiles
};

std::string random_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

std::optional<std::string> optional_string(const json::object& body, std::string_view name, std::string& out) {
  const auto* v = body.if_contains(name);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) return std::string(name) + " must be a string";
  out = v->as_string().c_str();
  return std::nullopt;
}

std::variant<json::object, std::string> parse_object(std::string_view body) {
  error_code ec;
  auto value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::string("the body must be a JSON object");
  return std::move(value.as_object());
}

std::string_view state_name(campaign::campaign_state s) {
  switch (s) {
    case campaign::campaign_state::running: return "running";
    case campaign::campaign_state::done: return "done";
    case campaign::campaign_state::cancelled: return "cancelled";
  }
  return "running";
}

// The call's SID and status from Calls.json's answer (docs/protocols.md H3).
std::optional<std::pair<std::string, call_status>> created_call(const telephony::rest_result& result) {
  if (!result.ok) return std::nullopt;
  const auto resource = protocol::parse_call_resource(result.body);
  if (!resource || !protocol::is_safe_sid(resource->sid)) return std::nullopt;
  return std::pair{resource->sid, campaign::parse_call_status(resource->status).value_or(call_status::queued)};
}

}  // namespace

struct outbound_service::state : std::enable_shared_from_this<outbound_service::state> {
  asio::any_io_executor strand;
  server_context& ctx;
  std::unordered_map<std::string, call_record> calls;
  std::deque<std::string> single_calls;  // oldest first
  std::deque<std::shared_ptr<campaign_entry>> campaigns;  // oldest first

  state(const asio::any_io_executor& ex, server_context& c) : strand(asio::make_strand(ex)), ctx(c) {}

  // Runs `body` on the strand; the caller resumes on its own executor. Callers name the lambda and the
  // returned awaitable: g++ 12 destroys temporaries inside co_await expressions twice.
  template <class F>
  net::awaitable<std::invoke_result_t<F&>> on_strand(F body) {
    using result = std::invoke_result_t<F&>;
    return asio::co_spawn(
        strand, [self = shared_from_this(), body = std::move(body)]() mutable -> net::awaitable<result> { co_return body(); },
        net::use_awaitable);
  }

  [[nodiscard]] bool has_room() const {
    return !ctx.registry.full() && !ctx.draining.load(std::memory_order_relaxed);
  }

  // Why no call can be placed now, as a 503; nullopt when one can.
  [[nodiscard]] std::optional<http_reply> unavailable() const {
    const auto* rest = ctx.bridge.twilio_rest;
    if (!rest) return error_reply(503, "outbound calls need Twilio's REST API, which this server has not set up");
    if (!rest->configured())
      return error_reply(503, "outbound calls need Twilio's REST API: " + rest->unavailable_reason().value_or(""));
    if (ctx.draining.load(std::memory_order_relaxed)) return error_reply(503, "the server is shutting down");
    return std::nullopt;
  }

  // The agent, destination and caller ID of a request (`to` empty for a campaign); 400/503 replies.
  std::variant<call_target, http_reply> target_of(const json::object& body, bool with_to) const {
    call_target t;
    std::string agent;
    for (auto [name, out] : {std::pair{"agent", &agent}, std::pair{"from", &t.from}, std::pair{"to", &t.to}})
      if (auto problem = optional_string(body, name, *out)) return error_reply(400, *problem);
    if (with_to) {
      if (t.to.empty()) return error_reply(400, "to is required: an E.164 number or a sip: URI");
      if (auto problem = campaign::destination_problem(t.to)) return error_reply(400, "to: " + *problem);
    }
    if (t.from.empty()) t.from = ctx.settings.outbound_from_number;
    if (t.from.empty())
      return error_reply(503, "outbound calls need a caller ID: set OUTBOUND_FROM_NUMBER or give from");
    if (auto problem = campaign::destination_problem(t.from)) return error_reply(400, "from: " + *problem);
    if (ctx.agents) {
      if (!agent.empty() && !agents::valid_profile_name(agent)) return error_reply(400, "agent is not a profile name");
      const auto* profile = ctx.agents->select(agent, t.to);
      if (!profile) return error_reply(400, "no agent profile '" + agent + "'");
      t.agent = profile->name;
    } else if (!agent.empty()) {
      return error_reply(400, "no agent profile '" + agent + "' (AGENTS_FILE is not set)");
    }
    return t;
  }

  protocol::outbound_call_request request_for(const std::string& base, const call_target& t,
                                              const campaign::call_variables& variables) const {
    protocol::outbound_call_request r;
    r.to = t.to;
    r.from = t.from;
    r.url = base + "/voice";
    if (const auto query = campaign::voice_webhook_query(t.agent, variables); !query.empty()) r.url += "?" + query;
    r.status_callback = base + std::string(status_callback_path);
    return r;
  }

  void remember_single(const std::string& sid, call_record record) {
    calls[sid] = std::move(record);
    single_calls.push_back(sid);
    if (single_calls.size() > max_single_calls) {
      calls.erase(single_calls.front());
      single_calls.pop_front();
    }
  }

  std::shared_ptr<campaign_entry> find_campaign(std::string_view id) const {
    for (const auto& c : campaigns)
      if (c->id == id) return c;
    return nullptr;
  }

  // Room for one more campaign: the oldest finished one goes. False when all are running.
  bool make_room_for_campaign() {
    if (campaigns.size() < max_campaigns) return true;
    const auto finished = std::find_if(campaigns.begin(), campaigns.end(), [](const auto& c) {
      return c->pacer.state() != campaign::campaign_state::running;
    });
    if (finished == campaigns.end()) return false;
    for (const auto& sid : (*finished)->call_sids)
      if (!sid.empty()) calls.erase(sid);
    (*finished)->timer.cancel();
    campaigns.erase(finished);
    return true;
  }

  // On the strand: carries out the pacer's actions.
  void perform(const std::shared_ptr<campaign_entry>& c, const std::vector<campaign::pacer_action>& actions) {
    for (const auto& action : actions) {
      if (const auto* place = std::get_if<campaign::pace::place_call>(&action)) {
        asio::co_spawn(strand, place_row(c, place->row), asio::detached);
      } else {
        c->armed = std::get<campaign::pace::arm_timer>(action).at;
        c->timer.expires_at(c->armed);  // wakes run_campaign, which waits again until then
      }
    }
    if (c->pacer.state() != campaign::campaign_state::running) c->timer.cancel();
  }

  net::awaitable<void> run_campaign(std::shared_ptr<campaign_entry> c) {
    auto self = shared_from_this();
    c->armed = campaign::clock::time_point::max();
    perform(c, c->pacer.on_timer(campaign::clock::now(), has_room()));
    while (c->pacer.state() == campaign::campaign_state::running) {
      c->timer.expires_at(c->armed);
      co_await c->timer.async_wait(net::as_tuple_awaitable);
      const auto now = campaign::clock::now();
      if (c->pacer.state() != campaign::campaign_state::running) break;
      if (now < c->armed) continue;
      c->armed = campaign::clock::time_point::max();
      perform(c, c->pacer.on_timer(now, has_room()));
    }
  }

  net::awaitable<void> place_row(std::shared_ptr<campaign_entry> c, std::size_t row) {
    auto self = shared_from_this();
    const auto& r = c->rows[row];
    const auto request = request_for(c->base_url, {r.number, c->from, c->agent}, r.variables);
    const auto result = co_await ctx.bridge.twilio_rest->create_call(request);
    const auto created = created_call(result);
    if (!created) {
      c->errors[row] = result.ok ? "Twilio's answer named no call SID" : result.detail;
      spdlog::warn("campaign {}: row at line {} not placed: {}", c->id, r.line,
                   log::escape_for_log(c->errors[row], log::reason_bytes));
      perform(c, c->pacer.on_place_failed(row, campaign::clock::now(), has_room()));
      co_return;
    }
    c->call_sids[row] = created->first;
    calls[created->first] = call_record{call_status::queued, c->id, row, r.number, c->agent};
    spdlog::info("campaign {}: call {} placed for line {}", c->id, created->first, r.line);
    apply(created->first, created->second);
  }

  void apply(const std::string& sid, call_status status) {
    const auto it = calls.find(sid);
    if (it == calls.end()) return;
    auto& record = it->second;
    if (!campaign::moves_to(record.status, status)) return;
    record.status = status;
    if (record.campaign_id.empty()) return;
    if (auto c = find_campaign(record.campaign_id))
      perform(c, c->pacer.on_status(record.row, status, campaign::clock::now(), has_room()));
  }

  json::object campaign_summary(const campaign_entry& c) const {
    std::array<std::size_t, campaign::call_status_count> counts{};
    for (std::size_t i = 0; i < c.pacer.size(); ++i) ++counts[static_cast<std::size_t>(c.pacer.status(i))];
    json::object by_status;
    for (std::size_t s = 0; s < counts.size(); ++s)
      by_status[campaign::status_name(static_cast<call_status>(s))] = counts[s];
    return {{"id", c.id}, {"agent", c.agent}, {"state", state_name(c.pacer.state())}, {"counts", std::move(by_status)}};
  }

  json::object campaign_detail(const campaign_entry& c) const {
    json::array rows;
    for (std::size_t i = 0; i < c.rows.size(); ++i) {
      json::object variables;
      for (const auto& [k, v] : c.rows[i].variables) variables[k] = v;
      json::object row{{"line", c.rows[i].line},
                       {"number", c.rows[i].number},
                       {"variables", std::move(variables)},
                       {"status", campaign::status_name(c.pacer.status(i))},
                       {"call_sid", nullptr},
                       {"error", nullptr}};
      if (!c.call_sids[i].empty()) row["call_sid"] = c.call_sids[i];
      if (!c.errors[i].empty()) row["error"] = c.errors[i];
      rows.push_back(std::move(row));
    }
    return {{"id", c.id},
            {"agent", c.agent},
            {"state", state_name(c.pacer.state())},
            {"rows", std::move(rows)},
            {"rejected", c.rejected}};
  }

  net::awaitable<http_reply> create_campaign(const http_request_view& req) {
    if (auto refusal = unavailable()) co_return *refusal;
    auto parsed = parse_object(req.body);
    if (auto* problem = std::get_if<std::string>(&parsed)) co_return error_reply(400, *problem);
    const auto& body = std::get<json::object>(parsed);
    auto target = target_of(body, false);
    if (auto* refusal = std::get_if<http_reply>(&target)) co_return std::move(*refusal);
    const auto& t = std::get<call_target>(target);

    campaign::pacer_options options{static_cast<double>(ctx.settings.campaign_calls_per_second),
                                    static_cast<std::size_t>(ctx.settings.campaign_max_active)};
    if (const auto* v = body.if_contains("calls_per_second"); v && !v->is_null()) {
      error_code ec;
      const auto rate = v->to_number<double>(ec);
      if (ec || !(rate > 0) || rate > max_calls_per_second)
        co_return error_reply(400, "calls_per_second must be a number above 0, at most 100");
      options.calls_per_second = rate;
    }
    if (const auto* v = body.if_contains("max_active"); v && !v->is_null()) {
      if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > max_active_limit)
        co_return error_reply(400, "max_active must be a whole number in 1..1000");
      options.max_active = static_cast<std::size_t>(v->as_int64());
    }
    const auto* csv = body.if_contains("csv");
    if (!csv || !csv->is_string()) co_return error_reply(400, "csv is required: a header naming number, then one row per call");
    auto rows = campaign::parse_campaign_csv(csv->as_string(), static_cast<std::size_t>(ctx.settings.campaign_max_rows));
    if (auto* e = std::get_if<campaign::csv_error>(&rows)) co_return error_reply(400, "csv: " + e->message);
    auto& csv_rows = std::get<campaign::parsed_csv>(rows);
    const auto base = public_base(ctx, req);
    if (!base) co_return error_reply(400, "missing or malformed Host header (or set PUBLIC_URL)");

    json::array rejected;
    for (const auto& r : csv_rows.rejected) rejected.push_back(json::object{{"line", r.line}, {"error", r.error}});
    const auto row_count = csv_rows.rows.size();
    auto create = [&]() -> http_reply {
      if (!make_room_for_campaign())
        return error_reply(503, "at most " + std::to_string(max_campaigns) + " campaigns, all running: cancel one");
      auto c = std::make_shared<campaign_entry>(strand, row_count, options);
      c->id = random_id();
      c->agent = t.agent;
      c->from = t.from;
      c->base_url = *base;
      c->rows = std::move(csv_rows.rows);
      c->rejected = rejected;
      campaigns.push_back(c);
      spdlog::info("campaign {}: {} rows ({} rejected), agent '{}', {} calls/s, at most {} at once", c->id, row_count,
                   rejected.size(), c->agent, options.calls_per_second, options.max_active);
      asio::co_spawn(strand, run_campaign(c), asio::detached);
      return json_reply(201, {{"id", c->id}, {"rows", row_count}, {"rejected", rejected}});
    };
    auto created = on_strand(std::move(create));
    co_return co_await std::move(created);
  }
};

outbound_service::outbound_service(const asio::any_io_executor& executor, server_context& ctx)
    : state_(std::make_shared<state>(executor, ctx)) {}

outbound_service::~outbound_service() = default;

net::awaitable<http_reply> outbound_service::place_call(const http_request_view& req) {
  auto& s = *state_;
  if (auto refusal = s.unavailable()) co_return *refusal;
  if (s.ctx.registry.full())
    co_return error_reply(503, "at MAX_CONCURRENT_CALLS=" + std::to_string(s.ctx.settings.max_concurrent_calls) +
                                   ": no room for another call");
  auto parsed = parse_object(req.body);
  if (auto* problem = std::get_if<std::string>(&parsed)) co_return error_reply(400, *problem);
  const auto& body = std::get<json::object>(parsed);
  auto target = s.target_of(body, true);
  if (auto* refusal = std::get_if<http_reply>(&target)) co_return std::move(*refusal);
  const auto& t = std::get<call_target>(target);
  campaign::call_variables variables;
  if (const auto* v = body.if_contains("variables"); v && !v->is_null()) {
    if (!v->is_object()) co_return error_reply(400, "variables must be an object of strings");
    for (const auto& [name, value] : v->as_object()) {
      if (!value.is_string()) co_return error_reply(400, "variables must be an object of strings");
      if (variables.size() == campaign::max_variables)
        co_return error_reply(400, "at most " + std::to_string(campaign::max_variables) + " variables");
      variables.emplace_back(std::string(name), std::string(value.as_string()));
    }
  }
  if (auto problem = campaign::variables_problem(variables)) co_return error_reply(400, "variables: " + *problem);
  const auto base = public_base(s.ctx, req);
  if (!base) co_return error_reply(400, "missing or malformed Host header (or set PUBLIC_URL)");
  const auto request = s.request_for(*base, t, variables);
  if (request.url.size() > max_voice_url_bytes)
    co_return error_reply(400, "the variables make the voice URL longer than " + std::to_string(max_voice_url_bytes) +
                                   " bytes");

  const auto result = co_await s.ctx.bridge.twilio_rest->create_call(request);
  const auto created = created_call(result);
  if (!created) {
    const auto detail = result.ok ? std::string("Twilio's answer named no call SID") : result.detail;
    spdlog::warn("outbound: placing a call failed: {}", log::escape_for_log(detail, log::reason_bytes));
    co_return error_reply(502, "Twilio did not place the call: " + detail);
  }
  const auto& [sid, status] = *created;
  auto remember = [&s, &sid, &status, &t] {
    s.remember_single(sid, call_record{call_status::queued, {}, 0, t.to, t.agent});
    s.apply(sid, status);
    return 0;
  };
  auto remembered = s.on_strand(std::move(remember));
  co_await std::move(remembered);
  spdlog::info("outbound: call {} placed (agent '{}')", sid, t.agent);
  co_return json_reply(201, {{"call_sid", sid}, {"status", campaign::status_name(std::max(status, call_status::queued))}});
}

net::awaitable<http_reply> outbound_service::handle_campaigns(const http_request_view& req,
                                                              const routing::api_target& target) {
  using kind = routing::api_target::kind;
  auto& s = *state_;
  if (target.what == kind::campaigns) {
    if (req.method == "POST") co_return co_await s.create_campaign(req);
    if (req.method != "GET") co_return method_not_allowed("GET, POST");
    auto summaries = [&s] {
      json::array list;
      for (const auto& c : s.campaigns) list.push_back(s.campaign_summary(*c));
      return json_reply(200, {{"campaigns", std::move(list)}});
    };
    auto listed = s.on_strand(std::move(summaries));
    co_return co_await std::move(listed);
  }
  const bool cancel = target.what == kind::campaign_cancel;
  if (req.method != (cancel ? "POST" : "GET")) co_return method_not_allowed(cancel ? "POST" : "GET");
  auto detail = [&s, &target, cancel] {
    const auto c = s.find_campaign(target.campaign_id);
    if (!c) return error_reply(404, "no such campaign");
    if (cancel && c->pacer.state() == campaign::campaign_state::running) {
      c->pacer.cancel();
      c->timer.cancel();
      spdlog::info("campaign {}: cancelled; calls already placed go on", c->id);
    }
    return json_reply(200, s.campaign_detail(*c));
  };
  auto answered = s.on_strand(std::move(detail));
  co_return co_await std::move(answered);
}

void outbound_service::on_status(std::string call_sid, campaign::call_status status) {
  asio::post(state_->strand, [s = state_, sid = std::move(call_sid), status] { s->apply(sid, status); });
}

net::awaitable<std::optional<boost::json::object>> outbound_service::describe_call(std::string call_sid) {
  auto& s = *state_;
  auto describe = [&s, &call_sid]() -> std::optional<json::object> {
    const auto it = s.calls.find(call_sid);
    if (it == s.calls.end()) return std::nullopt;
    const auto& r = it->second;
    json::object o{{"to", r.to}, {"agent", r.agent}, {"status", campaign::status_name(r.status)}, {"campaign", nullptr}};
    if (!r.campaign_id.empty()) o["campaign"] = r.campaign_id;
    return o;
  };
  auto described = s.on_strand(std::move(describe));
  co_return co_await std::move(described);
}

}  // namespace mb::server
