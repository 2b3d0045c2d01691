#pragma once
// Stored call history: SQLite (WAL) on its own thread. Calls hand it records through a bounded queue
// and never wait for the disk; the thread commits whatever has queued up in one transaction. REST
// queries run on the same thread, their results handed back to the awaiting coroutine's executor.
//
// Schema (versioned with PRAGMA user_version, migrated at open): calls (with call.started's transport),
// transcript_lines, barge_ins, call_events (tool calls and results, call control, DTMF strings, turn
// latencies: as their event JSON), how each call's recording ended (as JSON); probe_runs and probe_alerts (docs/latency.md, "Storage, API and
// alerts"), deleted after PROBE_RETENTION_DAYS;
// times are ms since the epoch (UTC), transcript text is plain UTF-8.
//
// @par Thread Safety
// record() and stats() may be called from any thread; the queries from any coroutine. flush() and
// close() block: call them from a thread that is not the store's (main, at shutdown).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "call/event_json.hpp"
#include "net/asio.hpp"
#include "net/window_timer.hpp"
#include "probe/aggregates.hpp"
#include "probe/alert_rules.hpp"

struct sqlite3;

namespace mb::store {

struct store_options {
  std::string path;                    // file, or ":memory:"; the file's directory is created
  std::size_t queue_capacity = 10000;  // records waiting for the disk; beyond it they are dropped and counted
  int probe_retention_days = 30;       // probe runs and alerts older than this are deleted at open, then hourly
};

struct store_stats {
  std::uint64_t written = 0;       // records committed
  std::uint64_t write_errors = 0;  // records lost to a failed write
  std::uint64_t dropped = 0;       // records lost to a full queue
  std::uint64_t queued = 0;        // records waiting for the disk now
};

// How a call's recording ended (docs/recording.md); the files themselves are the recorder's.
struct recording_row {
  std::int64_t started_at = 0;  // unix ms of the recording's t = 0
  std::int64_t duration_ms = 0;
  bool complete = false;
  std::uint64_t dropped_bytes = 0;
};

struct call_row {
  std::string call_sid;
  std::string stream_sid;
  std::string from;
  std::string to;
  std::string agent;
  std::vector<std::pair<std::string, std::string>> parameters;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms;  // unset while the call runs (or if the process died)
  std::string end_reason;
  std::string end_detail;
  std::int64_t duration_ms = 0;
  protocol::token_usage usage;
  std::string transport = "media-stream";  // call.started's: "media-stream" or "sip"
  std::optional<recording_row> recording;  // set once the call's recording has ended
};

struct transcript_row {
  std::int64_t at_ms = 0;
  std::string role;  // "caller" or "assistant"
  std::string item_id;
  std::string text;
  bool interrupted = false;
  std::optional<std::int64_t> heard_ms{};
  std::optional<std::string> heard_text{};  // set with heard_ms (unset on lines stored before it was kept)
  bool heard_text_estimated = false;
};

struct barge_in_row {
  std::int64_t at_ms = 0;
  std::string item_id;
  std::int64_t audio_end_ms = 0;
};

// A call event kept as the JSON listeners got (tool.call, tool.result, call.control, dtmf.input,
// turn.latency; docs/events.md).
struct event_row {
  std::int64_t at_ms = 0;
  std::string type;
  std::string json;
};

struct call_detail {
  call_row call;
  std::vector<transcript_row> transcript;  // in the order the call published it
  std::vector<barge_in_row> barge_ins;
  std::vector<event_row> events;  // in the order the call published them
};

struct call_query {
  std::optional<std::int64_t> since_ms;  // started at or after
  std::optional<std::int64_t> until_ms;  // started before
  std::string number;                    // non-empty: From or To equals it
  std::size_t limit = 50;
  std::string cursor;                    // next_cursor of the previous page; empty: the newest
};

struct call_page {
  std::vector<call_row> calls;  // newest first
  std::string next_cursor;      // empty on the last page
  bool bad_cursor = false;      // `cursor` was not one we issued
};

struct probe_run_row {
  std::int64_t id = 0;
  probe::probe_run run;
};

struct probe_alert_row {
  std::int64_t id = 0;
  probe::alert_transition alert;
};

struct probe_query {
  probe::window span = probe::window::day;
  std::int64_t now_ms = 0;  // the window is (now - span, now]
  std::string provider;     // non-empty: only this provider's runs and alerts
  std::string agent;        // non-empty: only this agent's
  std::size_t limit = 100;  // runs listed (the aggregates use every run of the window)
};

// Runs kept in memory to aggregate one window: at PROBE_INTERVAL_S's minimum of 5 s, a week of one
// profile. Beyond it the oldest runs of the window are left out of the aggregates.
inline constexpr std::size_t max_aggregated_probe_runs = 7 * 86400 / 5;
inline constexpr std::size_t max_listed_probe_alerts = 100;

struct probe_report {
  std::vector<probe_run_row> runs;           // newest first, at most query.limit
  std::vector<probe::aggregate> aggregates;  // by (provider, agent)
  std::vector<probe_alert_row> alerts;       // newest first, at most max_listed_probe_alerts
};

class call_store {
 public:
  // Opens or creates the database, migrates it and starts the store thread. Throws std::runtime_error
  // with a message naming the path when the file cannot be opened or has a newer schema.
  explicit call_store(store_options options);
  ~call_store();  // close()
  call_store(const call_store&) = delete;
  call_store& operator=(const call_store&) = delete;

  // Queues what the history keeps (call.started, transcript.final, barge_in, tool.call, tool.result,
  // call.control, dtmf.input, turn.latency; not deltas, single DTMF keys or wire messages).
  // Never blocks on the disk. False when the queue is full: the record is dropped, counted and logged.
  bool record(const call::event_context& context, const call::call_event& event);
  bool record(const call::event_context& context, const call::call_end& end);
  // Queues how the call's recording ended; never blocks on the disk, like record().
  bool record_recording(std::string call_sid, recording_row recording);
  // Queues a probe run or an alert transition; never blocks on the disk, like record().
  bool record_probe_run(probe::probe_run run);
  bool record_probe_alert(probe::alert_transition alert);

  // Blocks until every record queued before the call is committed (or has failed).
  void flush();
  // flush(), then stops the thread. Idempotent.
  void close();

  net::awaitable<call_page> list_calls(call_query query);
  net::awaitable<std::optional<call_detail>> find_call(std::string call_sid);
  // Erases the call and its transcript (privacy). False when there was no such call.
  net::awaitable<bool> erase_call(std::string call_sid);
  // GET /v1/probes: the window's runs, their aggregates and alerts, computed on the store thread.
  net::awaitable<probe_report> probe_history(probe_query query);

  [[nodiscard]] store_stats stats() const;

 private:
  struct database;  // the connection and its prepared statements: store thread only
  struct queue;     // records waiting for the store thread: guarded by mutex_

  template <class F>
  auto on_store_thread(F f) -> net::awaitable<decltype(f())>;
  template <class Record>
  bool enqueue(Record record);
  // The first record after a commit opens a window (commit_window_); the queue is committed, in one
  // transaction, when it closes (or sooner, before a query or on flush). One wake-up of this thread
  // and one SQLite commit (its WAL writes and locks) per window, not per record: per-record commits
  // cost the bridge about 0.1 system calls per relayed caller frame (docs/performance.md, "Relay
  // engine at the system-call floor").
  void drain();  // store thread only: commits the queue in one transaction
  void prune_probes(std::int64_t now_ms);  // store thread only: deletes probe rows past their retention

  std::unique_ptr<database> db_;
  std::size_t capacity_;
  asio::io_context ioc_{1};
  net::window_timer commit_window_{ioc_, std::chrono::milliseconds(100), [this] { drain(); }};  // store thread only
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  bool closed_ = false;

  mutable std::mutex mutex_;
  std::unique_ptr<queue> queue_;
  bool drain_posted_ = false;  // guarded by mutex_
  std::int64_t probe_retention_ms_;
  std::int64_t last_probe_prune_ms_ = 0;  // store thread only

  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace mb::store
