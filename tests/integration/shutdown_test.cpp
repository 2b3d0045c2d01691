// SIGTERM during a call: the real mediabridge binary (demo mode) as a subprocess, a simulated Twilio
// call and a listener; afterwards the SQLite file must hold every transcript line the listener saw.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <future>

#include <sqlite3.h>

#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"
#include "tests/integration/support/transcript_lines.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

using namespace mb;
using test::read_file;
using tools::twilio::audio_kind;
using events_t = test::listener_client::events_t;

namespace {

struct stored_call {
  std::vector<test::line> lines;
  std::string end_reason;
};

stored_call read_history(const std::string& path, const std::string& call_sid) {
  stored_call out;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT role, item_id, text, interrupted, heard_ms, heard_text, heard_text_estimated "
                             "FROM transcript_lines WHERE call_sid = ?1 ORDER BY id",
                             -1, &s, nullptr) == SQLITE_OK);
  sqlite3_bind_text(s, 1, call_sid.c_str(), -1, SQLITE_TRANSIENT);
  auto text = [&](int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p ? std::string(p) : std::string();
  };
  while (sqlite3_step(s) == SQLITE_ROW)
    out.lines.push_back({text(0), text(1), text(2), sqlite3_column_int(s, 3) != 0,
                         sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 4), text(5),
                         sqlite3_column_int(s, 6) != 0});
  sqlite3_finalize(s);
  REQUIRE(sqlite3_prepare_v2(db, "SELECT end_reason FROM calls WHERE call_sid = ?1", -1, &s, nullptr) == SQLITE_OK);
  sqlite3_bind_text(s, 1, call_sid.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) out.end_reason = text(0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// The second answer has started (deltas) but is not final yet: three lines are final before it.
bool mid_second_answer(const events_t& events, const std::string& sid) {
  const auto finished = test::finals(events, sid);
  if (finished.size() < 3) return false;
  for (const auto& d : test::of_type(events, "transcript.delta", sid)) {
    if (d.at("role").as_string() != "assistant") continue;
    const std::string item(d.at("item_id").as_string());
    if (std::none_of(finished.begin(), finished.end(), [&](const test::line& l) { return l.item_id == item; }))
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("SIGTERM during a call loses no transcript line a listener saw", "[integration][history][shutdown]") {
  const test::temp_dir dir;
  const auto port = test::free_port();
  const auto db_path = dir.file("data/calls.db");
  const auto log_path = dir.file("mediabridge.log");
  test::server_process server({"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port),
                               "PUBLIC_URL=http://127.0.0.1:" + std::to_string(port), "DATABASE_PATH=" + db_path,
                               "DRAIN_TIMEOUT_S=0", "WORKER_THREADS=2", "LOG_LEVEL=info"},
                              log_path);
  if (!test::wait_healthy(port, std::chrono::seconds(10))) FAIL("the server did not come up:\n" << read_file(log_path));

  test::listener_client listener({.port = port, .target = "/v1/events"});
  REQUIRE(listener.wait_connected());

  // Two questions; SIGTERM comes while the second answer is under way.
  tools::twilio::call_options call;
  call.webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/voice";
  call.call_sid = test::test_call_sid(31);
  call.script = {{audio_kind::speech, 400}, {audio_kind::silence, 3500}, {audio_kind::speech, 400}, {audio_kind::silence, 20000}};
  call.timeout_ms = 30000;
  auto pending = std::async(std::launch::async, [&] { return tools::twilio::run_calls({call}, 30000, 1); });
  REQUIRE(listener.wait_for([&](const events_t& ev) { return mid_second_answer(ev, call.call_sid); },
                            std::chrono::seconds(20)));

  server.signal(SIGTERM);
  const auto status = server.wait_exit(std::chrono::seconds(20));
  INFO(read_file(log_path));
  REQUIRE(status);
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  const auto report = pending.get().at(0);
  CHECK(report.outcome == tools::twilio::call_outcome::bridge_closed);
  CHECK(report.close_code == 1001);

  REQUIRE(listener.wait_closed());
  CHECK(listener.close_reason().code == 1001);
  const auto seen = listener.events();
  REQUIRE(test::has_event(seen, "call.ended", call.call_sid));
  CHECK(test::of_type(seen, "call.ended", call.call_sid).at(0).at("reason").as_string() == "shutdown");
  const auto lines = test::finals(seen, call.call_sid);
  CHECK(lines.size() >= 4);  // caller, answer, caller, and the answer cut short by the shutdown
  CHECK(lines.back().role == "assistant");

  const auto stored = read_history(db_path, call.call_sid);
  CHECK(stored.lines == lines);
  CHECK(stored.end_reason == "shutdown");
  const auto log = read_file(log_path);
  CHECK(log.find("API_TOKEN is not set") != std::string::npos);
  CHECK(log.find("call history flushed") != std::string::npos);
}
