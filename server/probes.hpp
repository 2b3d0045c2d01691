#pragma once
// GET /v1/probes (docs/latency.md, "Storage, API and alerts"): the window's probe runs, their
// aggregates per provider and agent, and the alerts; and the alert object the webhook posts.

#include <cstdint>

#include <boost/json/object.hpp>

#include "net/asio.hpp"
#include "probe/alert_rules.hpp"
#include "server/routes.hpp"

namespace mb::store {
class call_store;
}

namespace mb::server {

// Query: window=24h|7d (default 24h), provider=, agent=, limit=1..1000 (default 100); 400 on a bad
// value. The store thread reads and aggregates; the reply resumes on the caller's executor.
net::awaitable<http_reply> list_probes(store::call_store& store, const http_request_view& request,
                                       std::int64_t now_ms);

// {"at","provider","agent","rule","state":"firing"|"recovered","value","threshold"}: GET /v1/probes
// adds the stored "id", the webhook "type":"probe.alert".
[[nodiscard]] boost::json::object probe_alert_json(const probe::alert_transition& alert);

}  // namespace mb::server
