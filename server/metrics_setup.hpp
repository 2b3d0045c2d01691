#pragma once
// The process-wide metrics that other components own, read at each scrape of GET /metrics: active
// calls (the call registry), listeners and the call store's queue (issue 4's hub and store), and the
// standard process_* metrics from /proc/self.

#include <string>

#include "metrics/metrics.hpp"
#include "server/server_context.hpp"

namespace mb::server {

// `ctx` (and the hub and store it points to) must outlive every scrape of `r`.
void register_server_metrics(metrics::registry& r, const server_context& ctx);

// User plus system CPU time of a process, in seconds: `proc` is "/proc/self" or "/proc/<pid>".
double process_cpu_seconds(const std::string& proc = "/proc/self");
// The process's resident memory now, from /proc/self/statm (process_resident_memory_bytes).
[[nodiscard]] double process_resident_bytes();

}  // namespace mb::server
