#include "server/metrics_setup.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "bridge/prewarm_pool.hpp"
#include "server/descriptors.hpp"
#include "server/listener_hub.hpp"
#include "store/call_store.hpp"

namespace mb::server {

double process_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// Fields 14 and 15 of <proc>/stat (utime, stime) in clock ticks; the command name (field 2) may
// hold spaces, so counting starts after its closing parenthesis.
double process_cpu_seconds(const std::string& proc) {
  std::ifstream in(proc + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void register_server_metrics(metrics::registry& r, const server_context& ctx) {
  r.add_gauge_fn("mediabridge_active_calls", "Calls in progress.",
                 [&registry = ctx.registry] { return static_cast<double>(registry.active()); });
  r.add_gauge_fn("mediabridge_reserved_calls", "Call slots reserved by webhooks for streams not yet started.",
                 [&registry = ctx.registry] { return static_cast<double>(registry.reserved()); });
  r.add_gauge_fn("mediabridge_pending_streams", "Media streams upgraded but without an authorised start yet.",
                 [&registry = ctx.registry] { return static_cast<double>(registry.pending()); });
  if (auto* hub = ctx.listeners) {
    r.add_gauge_fn("mediabridge_listeners", "Live event listeners connected (WebSocket and SSE).",
                   [hub] { return static_cast<double>(hub->stats().listeners); });
    r.add_counter_fn("mediabridge_listeners_dropped_total", "Listeners closed because they fell too far behind.",
                     [hub] { return static_cast<double>(hub->stats().slow_listeners_dropped); });
    r.add_counter_fn("mediabridge_events_published_total", "Call events published to listeners and the store.",
                     [hub] { return static_cast<double>(hub->stats().events); });
    r.add_counter_fn("mediabridge_backfill_events_left_out_total",
                     "Events that running calls' backfills for late listeners left out to stay within "
                     "LISTENER_BACKFILL_EVENTS and LISTENER_BACKFILL_BYTES.",
                     [hub] { return static_cast<double>(hub->stats().backfill_left_out); });
  }
  if (const auto* prewarm = ctx.bridge.prewarm) {
    r.add_gauge_fn("mediabridge_prewarm_waiting", "Pre-warmed upstream sessions waiting for their call's stream.",
                   [prewarm] { return static_cast<double>(prewarm->size()); });
    constexpr std::string_view help = "Pre-warmed upstream sessions (PREWARM), by what became of them.";
    const auto outcome = [&](std::string_view name, std::uint64_t bridge::prewarm_stats::*field) {
      r.add_counter_fn("mediabridge_prewarm_sessions_total", help,
                       [prewarm, field] { return static_cast<double>(prewarm->stats().*field); },
                       {{"outcome", std::string(name)}});
    };
    outcome("opened", &bridge::prewarm_stats::opened);
    outcome("refused", &bridge::prewarm_stats::refused);
    outcome("claimed", &bridge::prewarm_stats::claimed);
    outcome("unused", &bridge::prewarm_stats::unused);
    outcome("expired", &bridge::prewarm_stats::expired);
    outcome("drained", &bridge::prewarm_stats::drained);
  }
  if (auto* store = ctx.store) {
    r.add_gauge_fn("mediabridge_store_queue_depth", "Call history records waiting for the disk.",
                   [store] { return static_cast<double>(store->stats().queued); });
    constexpr std::string_view records_help = "Call history records, by outcome.";
    r.add_counter_fn("mediabridge_store_records_total", records_help,
                     [store] { return static_cast<double>(store->stats().written); }, {{"result", "written"}});
    r.add_counter_fn("mediabridge_store_records_total", records_help,
                     [store] { return static_cast<double>(store->stats().write_errors); }, {{"result", "write_error"}});
    r.add_counter_fn("mediabridge_store_records_total", records_help,
                     [store] { return static_cast<double>(store->stats().dropped); }, {{"result", "dropped"}});
  }
  if (auto* lines = ctx.bridge.peer_lines)
    r.add_counter_fn("mediabridge_log_lines_suppressed_total",
                     "Log lines peers caused (bad input, unknown events, refused requests) that the per-connection or "
                     "process-wide limit left out.",
                     [lines] { return static_cast<double>(lines->suppressed_total()); });
  r.add_counter_fn("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                   [] { return process_cpu_seconds(); });
  r.add_gauge_fn("process_resident_memory_bytes", "Resident memory size in bytes.", process_resident_bytes);
  r.add_gauge_fn("process_open_fds", "Number of open file descriptors.",
                 [] { return static_cast<double>(open_descriptor_count()); });
  r.add_gauge_fn("process_max_fds", "Maximum number of open file descriptors.",
                 [] { return static_cast<double>(descriptor_limit()); });
}

}  // namespace mb::server
