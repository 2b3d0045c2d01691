#include "store/call_store.hpp"

#include <algorithm>
#include <bit>
#include <exception>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <stdexcept>
#include <variant>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

namespace mb::store {
namespace {

namespace json = boost::json;

// Entry i migrates the schema from user_version i to i + 1. Append only: never edit a shipped entry.
constexpr const char* migrations[] = {
    R"sql(
CREATE TABLE calls (
  call_sid      TEXT PRIMARY KEY,
  stream_sid    TEXT NOT NULL,
  from_number   TEXT NOT NULL,
  to_number     TEXT NOT NULL,
  agent         TEXT NOT NULL,
  parameters    TEXT NOT NULL,  -- JSON object: the stream's customParameters
  started_at    INTEGER NOT NULL,
  ended_at      INTEGER,
  end_reason    TEXT,
  end_detail    TEXT,
  duration_ms   INTEGER,
  input_tokens  INTEGER,
  output_tokens INTEGER,
  total_tokens  INTEGER
);
CREATE INDEX calls_by_start ON calls (started_at DESC, call_sid DESC);
CREATE TABLE transcript_lines (
  id          INTEGER PRIMARY KEY,  -- insertion order is transcript order
  call_sid    TEXT NOT NULL,
  at          INTEGER NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('caller', 'assistant')),
  item_id     TEXT NOT NULL,
  text        TEXT NOT NULL,
  interrupted INTEGER NOT NULL DEFAULT 0,
  heard_ms    INTEGER
);
CREATE INDEX transcript_lines_by_call ON transcript_lines (call_sid, id);
CREATE TABLE barge_ins (
  id           INTEGER PRIMARY KEY,
  call_sid     TEXT NOT NULL,
  at           INTEGER NOT NULL,
  item_id      TEXT NOT NULL,
  audio_end_ms INTEGER NOT NULL
);
CREATE INDEX barge_ins_by_call ON barge_ins (call_sid, id);
)sql",
    // What the caller heard of a cut assistant turn; NULL on lines stored before it was kept.
    R"sql(
ALTER TABLE transcript_lines ADD COLUMN heard_text TEXT;
ALTER TABLE transcript_lines ADD COLUMN heard_text_estimated INTEGER;
)sql",
    // Call events the history keeps besides the transcript (tool.call, tool.result, call.control,
    // dtmf.input): each as the JSON listeners got, masked digits masked.
    R"sql(
CREATE TABLE call_events (
  id       INTEGER PRIMARY KEY,  -- insertion order is the call's order
  call_sid TEXT NOT NULL,
  at       INTEGER NOT NULL,
  type     TEXT NOT NULL,
  json     TEXT NOT NULL
);
CREATE INDEX call_events_by_call ON call_events (call_sid, id);
)sql",
    // How the call's audio travelled (call.started's transport); calls stored before it was kept went
    // through this server.
    R"sql(
ALTER TABLE calls ADD COLUMN transport TEXT NOT NULL DEFAULT 'media-stream';
)sql",
    // Probe runs of the providers and the alerts on them (docs/latency.md, "Storage, API and alerts"):
    // a run's stages as a JSON object of ms, only the stages it measured.
    R"sql(
CREATE TABLE probe_runs (
  id         INTEGER PRIMARY KEY,
  provider   TEXT NOT NULL,
  agent      TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  error      TEXT NOT NULL,
  detail     TEXT NOT NULL,
  stages     TEXT NOT NULL
);
CREATE INDEX probe_runs_by_start ON probe_runs (started_at);
CREATE TABLE probe_alerts (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  provider  TEXT NOT NULL,
  agent     TEXT NOT NULL,
  rule      TEXT NOT NULL,
  state     TEXT NOT NULL CHECK (state IN ('firing', 'recovered')),
  value     REAL NOT NULL,
  threshold REAL NOT NULL
);
CREATE INDEX probe_alerts_by_at ON probe_alerts (at);
)sql",
    // How the call's recording ended (docs/recording.md): {"started_at","duration_ms","complete",
    // "dropped_bytes"}; NULL when it was not recorded or its recording has not ended.
    R"sql(
ALTER TABLE calls ADD COLUMN recording TEXT;
)sql",
};
constexpr int schema_version = static_cast<int>(std::size(migrations));

constexpr const char* call_columns =
    "call_sid, stream_sid, from_number, to_number, agent, parameters, started_at, ended_at, end_reason, end_detail, "
    "duration_ms, input_tokens, output_tokens, total_tokens, transport, recording";

struct started_record {
  std::string call_sid, stream_sid, from, to, agent, parameters_json;
  std::int64_t at_ms = 0;
  std::string transport;
};
struct line_record {
  std::string call_sid;
  transcript_row line;
};
struct barge_in_record {
  std::string call_sid;
  barge_in_row barge;
};
struct event_record {
  std::string call_sid;
  event_row event;
};
struct ended_record {
  std::string call_sid;
  std::int64_t at_ms = 0;
  std::string reason, detail;
  std::int64_t duration_ms = 0;
  protocol::token_usage usage;
};
struct recording_record {
  std::string call_sid;
  recording_row recording;
};
struct probe_run_record {
  probe::probe_run run;
};
struct probe_alert_record {
  probe::alert_transition alert;
};
using pending_record = std::variant<started_record, line_record, barge_in_record, event_record, ended_record,
                                    recording_record, probe_run_record, probe_alert_record>;

class statement {
 public:
  statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db));
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  // An empty view may have a null data(), which SQLite would store as NULL.
  statement& bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.empty() ? "" : text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  statement& bind(int i, std::optional<std::int64_t> v) {
    if (v) return bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  statement& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  // An empty text binds NULL: "no filter" in the queries that test `?n IS NULL`.
  statement& bind_filter(int i, std::string_view text) {
    if (text.empty()) return bind_null(i);
    return bind(i, text);
  }
  statement& bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }

  // For queries: a failure throws.
  bool next_row() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string why = sqlite3_errmsg(sqlite3_db_handle(stmt_));
    done();
    throw std::runtime_error(why);
  }
  // Runs a statement that returns no rows; true on success, else error() says why. Resets it either way.
  bool run() {
    const int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_DONE) error_ = sqlite3_errmsg(sqlite3_db_handle(stmt_));
    done();
    return rc == SQLITE_DONE;
  }
  [[nodiscard]] const std::string& error() const { return error_; }
  void done() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  [[nodiscard]] std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  [[nodiscard]] std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] double real(int col) const { return sqlite3_column_double(stmt_, col); }
  [[nodiscard]] std::optional<std::int64_t> maybe_integer(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return integer(col);
  }
  [[nodiscard]] std::optional<std::string> maybe_text(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return text(col);
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  std::string error_;
};

std::vector<std::pair<std::string, std::string>> parameters_from_json(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  json::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [k, value] : v.get_object())
    if (value.is_string()) out.emplace_back(k, value.get_string());
  return out;
}

std::string recording_json(const recording_row& r) {
  return json::serialize(json::object{{"started_at", r.started_at},
                                      {"duration_ms", r.duration_ms},
                                      {"complete", r.complete},
                                      {"dropped_bytes", r.dropped_bytes}});
}

std::optional<recording_row> recording_from_json(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  const auto v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  recording_row r;
  if (const auto* p = o.if_contains("started_at"); p && p->is_int64()) r.started_at = p->get_int64();
  if (const auto* p = o.if_contains("duration_ms"); p && p->is_int64()) r.duration_ms = p->get_int64();
  if (const auto* p = o.if_contains("complete"); p && p->is_bool()) r.complete = p->get_bool();
  if (const auto* p = o.if_contains("dropped_bytes"); p && p->is_number()) r.dropped_bytes = p->to_number<std::uint64_t>();
  return r;
}

call_row read_call(const statement& s) {
  call_row c;
  c.call_sid = s.text(0);
  c.stream_sid = s.text(1);
  c.from = s.text(2);
  c.to = s.text(3);
  c.agent = s.text(4);
  c.parameters = parameters_from_json(s.text(5));
  c.started_ms = s.integer(6);
  c.ended_ms = s.maybe_integer(7);
  c.end_reason = s.text(8);
  c.end_detail = s.text(9);
  c.duration_ms = s.integer(10);
  c.usage = {s.integer(11), s.integer(12), s.integer(13)};
  c.transport = s.text(14);
  c.recording = recording_from_json(s.maybe_text(15));
  return c;
}

std::string make_cursor(const call_row& c) { return std::to_string(c.started_ms) + "_" + c.call_sid; }

// "<started_ms>_<call_sid>", as make_cursor writes it.
std::optional<std::pair<std::int64_t, std::string>> parse_cursor(std::string_view cursor) {
  const auto sep = cursor.find('_');
  if (sep == std::string_view::npos || sep + 1 == cursor.size()) return std::nullopt;
  std::int64_t ms = 0;
  const auto [ptr, ec] = std::from_chars(cursor.data(), cursor.data() + sep, ms);
  if (ec != std::errc{} || ptr != cursor.data() + sep) return std::nullopt;
  return std::pair{ms, std::string(cursor.substr(sep + 1))};
}

std::string stages_json(const probe::probe_run& run) {
  json::object stages;
  for (std::size_t i = 0; i < probe::stage_count; ++i)
    if (const auto v = run.stages[i]) stages[probe::to_string(static_cast<probe::stage>(i))] = *v;
  return json::serialize(stages);
}

// Stages this program stored; names a later version might add and this one does not know are skipped.
void read_stages(const std::string& text, probe::probe_run& run) {
  json::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return;
  for (const auto& [name, value] : v.get_object()) {
    const auto s = probe::stage_from_string(name);
    if (s && value.is_number()) run.set(*s, value.to_number<double>());
  }
}

// Transcripts are personal data: a new database file is readable by its owner only. SQLite gives
// the -wal and -shm files the database file's permissions.
void create_private_file(const std::string& path) {
  if (path == ":memory:" || path.starts_with("file:")) return;
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
}

}  // namespace

struct call_store::database {
  sqlite3* db = nullptr;
  std::string path;

  explicit database(std::string p) : path(std::move(p)) {
    create_private_file(path);
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
      const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close_v2(db);
      throw std::runtime_error("cannot open " + path + ": " + why);
    }
    // WAL: readers never block the writer. synchronous=NORMAL in WAL mode loses nothing on a process
    // crash or kill, only the last commits on a power loss. secure_delete: erased transcripts are
    // overwritten, not just unlinked. cache_size: 512 KiB of page cache instead of SQLite's 2 MiB; the
    // writes append (the calls' rows, lines and events), and the 2 MiB filled up in a load test with
    // what had been written, about 5 KiB per live call (docs/performance.md, "Memory per call").
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA secure_delete=ON; "
         "PRAGMA cache_size=-512;");
    migrate();
  }
  ~database() {
    statements.reset();
    sqlite3_close_v2(db);
  }

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      throw std::runtime_error(path + ": " + why);
    }
  }
  bool try_exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

  void migrate() {
    statement version(db, "PRAGMA user_version");
    const int current = version.next_row() ? static_cast<int>(version.integer(0)) : 0;
    version.done();
    if (current > schema_version)
      throw std::runtime_error(path + " has schema version " + std::to_string(current) +
                               ", newer than this mediabridge understands (" + std::to_string(schema_version) + ")");
    for (int v = current; v < schema_version; ++v) {
      exec("BEGIN IMMEDIATE");
      try {
        exec(migrations[v]);
        exec("PRAGMA user_version=" + std::to_string(v + 1));
        exec("COMMIT");
      } catch (...) {
        try_exec("ROLLBACK");
        throw;
      }
    }
    statements.emplace(db);
  }

  struct prepared {
    statement insert_call, end_call, end_recording, insert_line, insert_barge_in, insert_event;
    statement list, find, find_lines, find_barge_ins, find_events, erase_call, erase_lines, erase_barge_ins,
        erase_events;
    statement insert_probe_run, insert_probe_alert, prune_probe_runs, prune_probe_alerts, list_probe_runs,
        list_probe_alerts;
    explicit prepared(sqlite3* db)
        : insert_call(db,
                      "INSERT OR IGNORE INTO calls (call_sid, stream_sid, from_number, to_number, agent, parameters, "
                      "started_at, transport) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
          end_call(db,
                   "UPDATE calls SET ended_at = ?2, end_reason = ?3, end_detail = ?4, duration_ms = ?5, "
                   "input_tokens = ?6, output_tokens = ?7, total_tokens = ?8 WHERE call_sid = ?1"),
          end_recording(db, "UPDATE calls SET recording = ?2 WHERE call_sid = ?1"),
          insert_line(db,
                      "INSERT INTO transcript_lines (call_sid, at, role, item_id, text, interrupted, heard_ms, "
                      "heard_text, heard_text_estimated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
          insert_barge_in(db, "INSERT INTO barge_ins (call_sid, at, item_id, audio_end_ms) VALUES (?1, ?2, ?3, ?4)"),
          insert_event(db, "INSERT INTO call_events (call_sid, at, type, json) VALUES (?1, ?2, ?3, ?4)"),
          list(db, std::string("SELECT ") + call_columns +
                       " FROM calls WHERE (?1 IS NULL OR started_at >= ?1) AND (?2 IS NULL OR started_at < ?2)"
                       " AND (?3 IS NULL OR from_number = ?3 OR to_number = ?3)"
                       " AND (?4 IS NULL OR started_at < ?4 OR (started_at = ?4 AND call_sid < ?5))"
                       " ORDER BY started_at DESC, call_sid DESC LIMIT ?6"),
          find(db, std::string("SELECT ") + call_columns + " FROM calls WHERE call_sid = ?1"),
          find_lines(db,
                     "SELECT at, role, item_id, text, interrupted, heard_ms, heard_text, heard_text_estimated "
                     "FROM transcript_lines WHERE call_sid = ?1 ORDER BY id"),
          find_barge_ins(db, "SELECT at, item_id, audio_end_ms FROM barge_ins WHERE call_sid = ?1 ORDER BY id"),
          find_events(db, "SELECT at, type, json FROM call_events WHERE call_sid = ?1 ORDER BY id"),
          erase_call(db, "DELETE FROM calls WHERE call_sid = ?1"),
          erase_lines(db, "DELETE FROM transcript_lines WHERE call_sid = ?1"),
          erase_barge_ins(db, "DELETE FROM barge_ins WHERE call_sid = ?1"),
          erase_events(db, "DELETE FROM call_events WHERE call_sid = ?1"),
          insert_probe_run(db,
                           "INSERT INTO probe_runs (provider, agent, started_at, error, detail, stages) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
          insert_probe_alert(db,
                             "INSERT INTO probe_alerts (at, provider, agent, rule, state, value, threshold) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
          prune_probe_runs(db, "DELETE FROM probe_runs WHERE started_at < ?1"),
          prune_probe_alerts(db, "DELETE FROM probe_alerts WHERE at < ?1"),
          list_probe_runs(db,
                          "SELECT id, provider, agent, started_at, error, detail, stages FROM probe_runs"
                          " WHERE started_at > ?1 AND started_at <= ?2 AND (?3 IS NULL OR provider = ?3)"
                          " AND (?4 IS NULL OR agent = ?4) ORDER BY started_at DESC, id DESC LIMIT ?5"),
          list_probe_alerts(db,
                            "SELECT id, at, provider, agent, rule, state, value, threshold FROM probe_alerts"
                            " WHERE at > ?1 AND at <= ?2 AND (?3 IS NULL OR provider = ?3)"
                            " AND (?4 IS NULL OR agent = ?4) ORDER BY at DESC, id DESC LIMIT ?5") {}
  };
  std::optional<prepared> statements;

  std::string last_error;  // of the last failed write

  bool step(statement& s) {
    if (s.run()) return true;
    last_error = s.error();
    return false;
  }
  bool write(const started_record& r) {
    return step(statements->insert_call.bind(1, r.call_sid)
        .bind(2, r.stream_sid)
        .bind(3, r.from)
        .bind(4, r.to)
        .bind(5, r.agent)
        .bind(6, r.parameters_json)
        .bind(7, r.at_ms)
        .bind(8, r.transport));
  }
  bool write(const line_record& r) {
    auto& s = statements->insert_line;
    if (r.line.heard_text)
      s.bind(8, *r.line.heard_text).bind(9, std::int64_t{r.line.heard_text_estimated});
    else
      s.bind_null(8).bind_null(9);
    return step(s.bind(1, r.call_sid)
        .bind(2, r.line.at_ms)
        .bind(3, r.line.role)
        .bind(4, r.line.item_id)
        .bind(5, r.line.text)
        .bind(6, std::int64_t{r.line.interrupted})
        .bind(7, r.line.heard_ms));
  }
  bool write(const barge_in_record& r) {
    return step(statements->insert_barge_in.bind(1, r.call_sid)
        .bind(2, r.barge.at_ms)
        .bind(3, r.barge.item_id)
        .bind(4, r.barge.audio_end_ms));
  }
  bool write(const event_record& r) {
    return step(statements->insert_event.bind(1, r.call_sid)
        .bind(2, r.event.at_ms)
        .bind(3, r.event.type)
        .bind(4, r.event.json));
  }
  bool write(const ended_record& r) {
    return step(statements->end_call.bind(1, r.call_sid)
        .bind(2, r.at_ms)
        .bind(3, r.reason)
        .bind(4, r.detail)
        .bind(5, r.duration_ms)
        .bind(6, r.usage.input_tokens)
        .bind(7, r.usage.output_tokens)
        .bind(8, r.usage.total_tokens));
  }
  bool write(const recording_record& r) {
    return step(statements->end_recording.bind(1, r.call_sid).bind(2, recording_json(r.recording)));
  }

  bool write(const probe_run_record& r) {
    return step(statements->insert_probe_run.bind(1, r.run.provider)
        .bind(2, r.run.agent)
        .bind(3, r.run.started_at_ms)
        .bind(4, probe::to_string(r.run.error))
        .bind(5, r.run.error_detail)
        .bind(6, stages_json(r.run)));
  }
  bool write(const probe_alert_record& r) {
    return step(statements->insert_probe_alert.bind(1, r.alert.at_ms)
        .bind(2, r.alert.provider)
        .bind(3, r.alert.agent)
        .bind(4, r.alert.rule)
        .bind(5, std::string_view(r.alert.firing ? "firing" : "recovered"))
        .bind(6, r.alert.value)
        .bind(7, r.alert.threshold));
  }

  // Queries throw on failure: the REST layer answers 500.
  void check(bool ok) const {
    if (!ok) throw std::runtime_error(sqlite3_errmsg(db));
  }
  void transaction(const std::function<void()>& body) {
    check(try_exec("BEGIN IMMEDIATE"));
    try {
      body();
      check(try_exec("COMMIT"));
    } catch (...) {
      try_exec("ROLLBACK");
      throw;
    }
  }
};

struct call_store::queue {
  std::vector<pending_record> records;
};

namespace {

constexpr std::int64_t day_ms = 86400 * 1000;
// A batch with probe records deletes expired ones if the last pruning is this old.
constexpr std::int64_t probe_prune_interval_ms = 60 * 1000;

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

call_store::call_store(store_options options)
    : db_(std::make_unique<database>(std::move(options.path))),
      capacity_(std::max<std::size_t>(1, options.queue_capacity)),
      work_(asio::make_work_guard(ioc_)),
      queue_(std::make_unique<queue>()),
      probe_retention_ms_(std::int64_t{std::max(1, options.probe_retention_days)} * day_ms) {
  prune_probes(unix_now_ms());
  thread_ = std::thread([this] { ioc_.run(); });
}

call_store::~call_store() { close(); }

template <class Record>
bool call_store::enqueue(Record r) {
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_->records.size() < capacity_) {
      queue_->records.emplace_back(std::move(r));
      post = !std::exchange(drain_posted_, true);
    } else {
      const auto n = ++dropped_;
      // Powers of two: the first loss is reported at once, a stuck disk does not flood the log.
      if (std::has_single_bit(n))
        spdlog::error("store: queue full ({} records waiting for the disk): {} record(s) dropped so far", capacity_, n);
      return false;
    }
  }
  if (post) asio::post(ioc_, [this] { commit_window_.arm(); });
  return true;
}

bool call_store::record(const call::event_context& c, const call::call_event& event) {
  if (const auto* e = std::get_if<call::call_started>(&event)) {
    json::object parameters;
    for (const auto& [k, v] : e->parameters) parameters[k] = v;
    return enqueue(started_record{std::string(c.call_sid), std::string(c.stream_sid), std::string(c.from),
                                  std::string(c.to), e->agent, json::serialize(parameters), c.unix_ms,
                                  e->transport});
  }
  if (const auto* e = std::get_if<call::transcript_final>(&event)) {
    transcript_row line{c.unix_ms, call::to_string(e->speaker), e->item_id, e->text, e->interrupted};
    if (e->interrupted) {
      line.heard_ms = e->heard_ms;
      line.heard_text = e->heard_text;
      line.heard_text_estimated = e->heard_text_estimated;
    }
    return enqueue(line_record{std::string(c.call_sid), std::move(line)});
  }
  if (const auto* e = std::get_if<call::barge_in>(&event))
    return enqueue(barge_in_record{std::string(c.call_sid), barge_in_row{c.unix_ms, e->item_id, e->audio_end_ms}});
  if (std::holds_alternative<call::tool_call>(event) || std::holds_alternative<call::tool_result>(event) ||
      std::holds_alternative<call::call_control>(event) || std::holds_alternative<call::dtmf_input>(event) ||
      std::holds_alternative<call::turn_waterfall>(event))
    return enqueue(event_record{std::string(c.call_sid),
                                event_row{c.unix_ms, call::event_type(event), call::event_json(c, event)}});
  return true;  // deltas, single DTMF keys and wire messages are for live listeners only
}

bool call_store::record(const call::event_context& c, const call::call_end& end) {
  return enqueue(ended_record{std::string(c.call_sid), c.unix_ms, call::to_string(end.reason), std::string(end.detail),
                              end.duration_ms, end.usage});
}

bool call_store::record_recording(std::string call_sid, recording_row recording) {
  return enqueue(recording_record{std::move(call_sid), recording});
}

bool call_store::record_probe_run(probe::probe_run run) { return enqueue(probe_run_record{std::move(run)}); }

bool call_store::record_probe_alert(probe::alert_transition alert) {
  return enqueue(probe_alert_record{std::move(alert)});
}

void call_store::prune_probes(std::int64_t now_ms) {
  last_probe_prune_ms_ = now_ms;
  auto& d = *db_;
  auto& st = *d.statements;
  int deleted = 0;
  for (auto* s : {&st.prune_probe_runs, &st.prune_probe_alerts}) {
    if (!d.step(s->bind(1, now_ms - probe_retention_ms_))) {
      spdlog::error("store: deleting expired probe runs from {} failed: {}", d.path, d.last_error);
      return;
    }
    deleted += sqlite3_changes(d.db);
  }
  if (deleted > 0) spdlog::info("store: deleted {} probe run(s) and alert(s) past PROBE_RETENTION_DAYS", deleted);
}

void call_store::drain() {
  std::vector<pending_record> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(queue_->records);
    drain_posted_ = false;
  }
  if (batch.empty()) return;
  auto& d = *db_;
  std::uint64_t ok = 0;
  if (d.try_exec("BEGIN IMMEDIATE")) {
    for (const auto& r : batch)
      if (std::visit([&](const auto& rec) { return d.write(rec); }, r)) ++ok;
    if (!d.try_exec("COMMIT")) {
      d.last_error = sqlite3_errmsg(d.db);
      d.try_exec("ROLLBACK");
      ok = 0;
    }
  } else {
    d.last_error = sqlite3_errmsg(d.db);
  }
  written_ += ok;
  const bool probes = std::any_of(batch.begin(), batch.end(), [](const pending_record& r) {
    return std::holds_alternative<probe_run_record>(r) || std::holds_alternative<probe_alert_record>(r);
  });
  if (const auto now = unix_now_ms(); probes && now - last_probe_prune_ms_ >= probe_prune_interval_ms)
    prune_probes(now);
  if (ok == batch.size()) return;
  const auto failed = batch.size() - ok;
  const auto total = write_errors_ += failed;
  if (std::has_single_bit(total) || std::has_single_bit(failed))
    spdlog::error("store: {} record(s) not written to {}: {} ({} write error(s) so far; calls go on)", failed, d.path,
                  d.last_error, total);
}

void call_store::flush() {
  if (closed_) return;
  std::promise<void> done;
  asio::post(ioc_, [&] {
    drain();
    commit_window_.cancel();  // its records are in
    done.set_value();
  });
  done.get_future().wait();
}

void call_store::close() {
  if (closed_) return;
  flush();
  closed_ = true;
  work_.reset();
  thread_.join();
}

store_stats call_store::stats() const {
  std::lock_guard lock(mutex_);
  return {written_.load(), write_errors_.load(), dropped_.load(), queue_->records.size()};
}

// Records queued before the query are committed first, so a query sees what the calls published.
// The result goes back through the awaiting coroutine's executor.
template <class F>
auto call_store::on_store_thread(F f) -> net::awaitable<decltype(f())> {
  using result = decltype(f());
  auto initiation = [this](auto handler, F query) {
    asio::post(ioc_, [this, handler = std::move(handler), query = std::move(query)]() mutable {
      std::exception_ptr failure;
      result r{};
      try {
        drain();
        r = query();
      } catch (...) {
        failure = std::current_exception();
      }
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, [handler = std::move(handler), failure, r = std::move(r)]() mutable {
        std::move(handler)(failure, std::move(r));
      });
    });
  };
  return asio::async_initiate<decltype(net::use_awaitable), void(std::exception_ptr, result)>(
      std::move(initiation), net::use_awaitable, std::move(f));
}

net::awaitable<call_page> call_store::list_calls(call_query query) {
  return on_store_thread([this, query = std::move(query)] {
    call_page page;
    std::optional<std::pair<std::int64_t, std::string>> after;
    if (!query.cursor.empty() && !(after = parse_cursor(query.cursor))) {
      page.bad_cursor = true;
      return page;
    }
    auto& s = db_->statements->list;
    s.bind(1, query.since_ms).bind(2, query.until_ms);
    if (query.number.empty())
      s.bind_null(3);
    else
      s.bind(3, query.number);
    if (after)
      s.bind(4, after->first).bind(5, after->second);
    else
      s.bind_null(4).bind_null(5);
    // One more than asked: whether it exists decides next_cursor.
    s.bind(6, static_cast<std::int64_t>(query.limit) + 1);
    while (s.next_row()) page.calls.push_back(read_call(s));
    s.done();
    if (page.calls.size() > query.limit) {
      page.calls.resize(query.limit);
      page.next_cursor = make_cursor(page.calls.back());
    }
    return page;
  });
}

net::awaitable<std::optional<call_detail>> call_store::find_call(std::string call_sid) {
  return on_store_thread([this, call_sid = std::move(call_sid)]() -> std::optional<call_detail> {
    auto& st = *db_->statements;
    call_detail detail;
    st.find.bind(1, call_sid);
    const bool found = st.find.next_row();
    if (found) detail.call = read_call(st.find);
    st.find.done();
    if (!found) return std::nullopt;
    st.find_lines.bind(1, call_sid);
    while (st.find_lines.next_row()) {
      const auto& s = st.find_lines;
      detail.transcript.push_back({s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4) != 0, s.maybe_integer(5),
                                   s.maybe_text(6), s.integer(7) != 0});
    }
    st.find_lines.done();
    st.find_barge_ins.bind(1, call_sid);
    while (st.find_barge_ins.next_row()) {
      const auto& s = st.find_barge_ins;
      detail.barge_ins.push_back({s.integer(0), s.text(1), s.integer(2)});
    }
    st.find_barge_ins.done();
    st.find_events.bind(1, call_sid);
    while (st.find_events.next_row()) {
      const auto& s = st.find_events;
      detail.events.push_back({s.integer(0), s.text(1), s.text(2)});
    }
    st.find_events.done();
    return detail;
  });
}

net::awaitable<bool> call_store::erase_call(std::string call_sid) {
  return on_store_thread([this, call_sid = std::move(call_sid)] {
    auto& d = *db_;
    auto& st = *d.statements;
    int erased = 0;
    d.transaction([&] {
      for (auto* s : {&st.erase_lines, &st.erase_barge_ins, &st.erase_events, &st.erase_call}) {
        if (!d.step(s->bind(1, call_sid))) throw std::runtime_error(d.last_error);
        erased += sqlite3_changes(d.db);
      }
    });
    // secure_delete zeroed the pages in the database file; the WAL still holds the old ones until a
    // checkpoint, so take one now.
    d.try_exec("PRAGMA wal_checkpoint(TRUNCATE)");
    return erased > 0;
  });
}

net::awaitable<probe_report> call_store::probe_history(probe_query query) {
  return on_store_thread([this, query = std::move(query)] {
    // Both queries: ?1 < time <= ?2, the provider and agent filters, at most ?5 rows.
    const auto bind_query = [&](statement& st, std::size_t max_rows) -> statement& {
      return st.bind(1, query.now_ms - probe::window_ms(query.span))
          .bind(2, query.now_ms)
          .bind_filter(3, query.provider)
          .bind_filter(4, query.agent)
          .bind(5, static_cast<std::int64_t>(max_rows));
    };
    auto& s = bind_query(db_->statements->list_probe_runs, max_aggregated_probe_runs);
    std::vector<probe::probe_run> runs;
    std::vector<std::int64_t> ids;
    while (s.next_row()) {
      probe::probe_run run{s.text(1), s.text(2), s.integer(3),
                           probe::error_kind_from_string(s.text(4)).value_or(probe::error_kind::protocol), s.text(5),
                           {}};
      read_stages(s.text(6), run);
      ids.push_back(s.integer(0));
      runs.push_back(std::move(run));
    }
    s.done();
    probe_report report;
    report.aggregates = probe::aggregate_runs(runs, query.now_ms, query.span);
    const auto listed = std::min(query.limit, runs.size());
    report.runs.reserve(listed);
    for (std::size_t i = 0; i < listed; ++i) report.runs.push_back({ids[i], std::move(runs[i])});

    auto& a = bind_query(db_->statements->list_probe_alerts, max_listed_probe_alerts);
    while (a.next_row())
      report.alerts.push_back(
          {a.integer(0), {a.text(2), a.text(3), a.text(4), a.text(5) == "firing", a.real(6), a.real(7), a.integer(1)}});
    a.done();
    return report;
  });
}

}  // namespace mb::store
