#include "server/probes.hpp"

#include <boost/json.hpp>

#include "protocol/form.hpp"
#include "store/call_store.hpp"

namespace mb::server {
namespace {

namespace json = boost::json;

constexpr std::size_t max_runs_listed = 1000;
constexpr std::size_t max_name_bytes = 128;  // provider and agent filters

json::object stages_json(const probe::probe_run& run) {
  json::object o;
  for (std::size_t i = 0; i < probe::stage_count; ++i)
    if (const auto v = run.stages[i]) o[probe::to_string(static_cast<probe::stage>(i))] = *v;
  return o;
}

// Each measured stage's percentiles; `with_p99` false for the time series, whose buckets are small.
json::object summary_stages_json(const probe::run_summary& s, bool with_p99, bool with_count) {
  json::object o;
  for (std::size_t i = 0; i < probe::stage_count; ++i) {
    const auto& p = s.stages[i];
    if (!p) continue;
    json::object stage{{"p50", p->p50}, {"p95", p->p95}};
    if (with_p99) stage["p99"] = p->p99;
    if (with_count) stage["count"] = p->count;
    o[probe::to_string(static_cast<probe::stage>(i))] = std::move(stage);
  }
  return o;
}

json::object bucket_json(const probe::run_summary& s, bool with_p99) {
  return {{"runs", s.runs}, {"error_rate", s.error_rate}, {"stages", summary_stages_json(s, with_p99, false)}};
}

json::object aggregate_json(const probe::aggregate& a) {
  json::object errors;
  for (const auto e : {probe::error_kind::connect, probe::error_kind::auth, probe::error_kind::timeout,
                       probe::error_kind::protocol})
    errors[probe::to_string(e)] = a.total.errors_of(e);
  json::array series, by_hour, by_day;
  for (const auto& b : a.series) {
    auto o = bucket_json(b.summary, false);
    o.emplace("start", b.start_ms);
    series.push_back(std::move(o));
  }
  for (const auto& b : a.by_hour) {
    auto o = bucket_json(b.summary, true);
    o.emplace("hour", b.hour);
    by_hour.push_back(std::move(o));
  }
  for (const auto& b : a.by_day) {
    auto o = bucket_json(b.summary, true);
    o.emplace("day", b.day);
    by_day.push_back(std::move(o));
  }
  return {{"provider", a.provider},
          {"agent", a.agent},
          {"runs", a.total.runs},
          {"error_rate", a.total.error_rate},
          {"errors", std::move(errors)},
          {"stages", summary_stages_json(a.total, true, true)},
          {"series", std::move(series)},
          {"by_hour", std::move(by_hour)},
          {"by_day", std::move(by_day)}};
}

std::optional<std::string> read_probe_query(std::string_view text, store::probe_query& out) {
  const auto fields = protocol::parse_form(text);
  if (!fields) return "malformed query string";
  if (const auto v = protocol::form_value(*fields, "window"); !v.empty()) {
    const auto w = probe::window_from_string(v);
    if (!w) return "window must be 24h or 7d";
    out.span = *w;
  }
  if (const auto v = protocol::form_value(*fields, "limit"); !v.empty()) {
    const auto n = protocol::count_in_range(v, 1, max_runs_listed);
    if (!n) return "limit must be a whole number in 1.." + std::to_string(max_runs_listed);
    out.limit = *n;
  }
  out.provider = protocol::form_value(*fields, "provider");
  out.agent = protocol::form_value(*fields, "agent");
  if (out.provider.size() > max_name_bytes || out.agent.size() > max_name_bytes)
    return "provider and agent must be at most " + std::to_string(max_name_bytes) + " bytes";
  return std::nullopt;
}

}  // namespace

json::object probe_alert_json(const probe::alert_transition& a) {
  return {{"at", a.at_ms},       {"provider", a.provider},
          {"agent", a.agent},    {"rule", a.rule},
          {"state", a.firing ? "firing" : "recovered"},
          {"value", a.value},    {"threshold", a.threshold}};
}

net::awaitable<http_reply> list_probes(store::call_store& store, const http_request_view& req, std::int64_t now_ms) {
  store::probe_query query;
  query.now_ms = now_ms;
  if (auto problem = read_probe_query(req.query(), query)) co_return error_reply(400, *problem);
  const auto span = query.span;
  const auto report = co_await store.probe_history(std::move(query));
  json::array runs, aggregates, alerts;
  for (const auto& row : report.runs) {
    const auto& r = row.run;
    runs.push_back(json::object{{"id", row.id},
                                {"provider", r.provider},
                                {"agent", r.agent},
                                {"started_at", r.started_at_ms},
                                {"ok", r.ok()},
                                {"error", probe::to_string(r.error)},
                                {"detail", r.error_detail},
                                {"stages", stages_json(r)}});
  }
  for (const auto& a : report.aggregates) aggregates.push_back(aggregate_json(a));
  for (const auto& row : report.alerts) {
    auto o = probe_alert_json(row.alert);
    o.emplace("id", row.id);
    alerts.push_back(std::move(o));
  }
  co_return json_reply(200, {{"window_s", probe::window_ms(span) / 1000},
                             {"now", now_ms},
                             {"runs", std::move(runs)},
                             {"aggregates", std::move(aggregates)},
                             {"alerts", std::move(alerts)}});
}

}  // namespace mb::server
