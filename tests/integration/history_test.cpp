// Stored call history: the REST endpoints, and a failing disk, against a real server over loopback.

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <sqlite3.h>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using events_t = test::listener_client::events_t;

namespace {

const std::string token = "history-test-token";
const std::vector<std::pair<std::string, std::string>> auth{{"Authorization", "Bearer " + token}};

mb::simulator::simulator_options fast_simulator() {
  mb::simulator::simulator_options o;
  o.response_ms = 1000;
  o.speed = 4.0;
  return o;
}

boost::json::object json_of(const net::http_response& r) {
  INFO(r.failure << " " << r.body);
  REQUIRE(r.status == 200);
  return boost::json::parse(r.body).as_object();
}

std::vector<std::string> sids_of(const boost::json::object& page) {
  std::vector<std::string> out;
  for (const auto& c : page.at("calls").as_array()) out.emplace_back(c.at("call_sid").as_string());
  return out;
}

}  // namespace

TEST_CASE("GET /v1/calls lists calls newest first, by page and filtered, one call is read and erased",
          "[integration][history]") {
  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = [](config::settings& s, bridge::bridge_context&) { s.api_token = config::secret(token); },
                          .listeners = true});
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  test::listener_client listener({.port = h.port(), .target = "/v1/events?token=" + token});
  REQUIRE(listener.wait_connected());

  std::vector<std::string> sids;
  for (int i = 1; i <= 3; ++i) {
    auto options = h.call({{audio_kind::speech, 300}, {audio_kind::silence, 1500}});
    options.call_sid = test::test_call_sid(10 + i);
    options.from = "+1555000000" + std::to_string(i);
    REQUIRE(h.run({options}).at(0).ok());
    // Listeners see an event only after it has been queued for the store.
    REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.ended", options.call_sid); }));
    sids.push_back(options.call_sid);
  }

  const auto first = json_of(test::http("GET", base + "/v1/calls?limit=2", auth));
  CHECK(sids_of(first) == std::vector<std::string>{sids[2], sids[1]});
  REQUIRE(first.at("next_cursor").is_string());
  const auto second =
      json_of(test::http("GET", base + "/v1/calls?limit=2&cursor=" + std::string(first.at("next_cursor").as_string()), auth));
  CHECK(sids_of(second) == std::vector<std::string>{sids[0]});
  CHECK(second.at("next_cursor").is_null());

  CHECK(sids_of(json_of(test::http("GET", base + "/v1/calls?number=%2B15550000002", auth))) ==
        std::vector<std::string>{sids[1]});
  CHECK(sids_of(json_of(test::http("GET", base + "/v1/calls?number=%2B15005550001", auth))).size() == 3);  // To
  const std::string middle_start(first.at("calls").at(1).at("started_at").as_string());
  CHECK(sids_of(json_of(test::http("GET", base + "/v1/calls?since=" + middle_start, auth))) ==
        std::vector<std::string>{sids[2], sids[1]});
  CHECK(sids_of(json_of(test::http("GET", base + "/v1/calls?until=" + middle_start, auth))) ==
        std::vector<std::string>{sids[0]});

  const auto listed = first.at("calls").at(1).as_object();
  CHECK(listed.at("from").as_string() == "+15550000002");
  CHECK(listed.at("transport").as_string() == "media-stream");
  CHECK(listed.at("end_reason").as_string() == "caller_hung_up");
  CHECK(listed.at("ended_at").is_string());
  CHECK(listed.at("usage").at("total_tokens").is_int64());

  const auto detail = json_of(test::http("GET", base + "/v1/calls/" + sids[1], auth));
  CHECK(test::stored_lines(detail) == test::published_finals(h, sids[1]));
  CHECK_FALSE(test::stored_lines(detail).empty());
  CHECK(detail.at("parameters").at("From").as_string() == "+15550000002");
  CHECK(detail.at("duration_ms").as_int64() > 0);
  CHECK(detail.at("transport").as_string() == "media-stream");
  const auto started = test::of_type(listener.events(), "call.started", sids[1]);
  REQUIRE(started.size() == 1);
  CHECK(started[0].at("transport").as_string() == "media-stream");

  CHECK(test::http("DELETE", base + "/v1/calls/" + sids[1], auth).status == 204);
  CHECK(test::http("GET", base + "/v1/calls/" + sids[1], auth).status == 404);
  CHECK(test::http("DELETE", base + "/v1/calls/" + sids[1], auth).status == 404);
  CHECK(sids_of(json_of(test::http("GET", base + "/v1/calls", auth))) == std::vector<std::string>{sids[2], sids[0]});

  CHECK(test::http("GET", base + "/v1/calls?limit=0", auth).status == 400);
  CHECK(test::http("GET", base + "/v1/calls?since=yesterday", auth).status == 400);
  CHECK(test::http("GET", base + "/v1/calls?cursor=nonsense", auth).status == 400);
  CHECK(test::http("PUT", base + "/v1/calls", auth).status == 405);
  // POST places an outbound call (docs/tools.md): this server has no Twilio REST credentials.
  CHECK(test::http("POST", base + "/v1/calls", auth).status == 503);
  CHECK(test::http("GET", base + "/v1/calls/not-a-sid!", auth).status == 404);
}

TEST_CASE("when the database fails, calls go on and the failures are logged and counted", "[integration][history]") {
  const test::temp_dir dir;
  const auto path = dir.file("history.db");
  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = [&](config::settings& s, bridge::bridge_context&) { s.database_path = path; },
                          .listeners = true});
  // Another connection breaks the schema under the running store.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "DROP TABLE transcript_lines", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  test::listener_client listener({.port = h.port(), .target = "/v1/events"});
  REQUIRE(listener.wait_connected());
  auto options = h.call({{audio_kind::speech, 300}, {audio_kind::silence, 1500}});
  options.call_sid = test::test_call_sid(21);
  const auto report = h.run({options}).at(0);
  INFO(report.failure);
  CHECK(report.ok());
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.ended", options.call_sid); }));
  CHECK_FALSE(test::finals(listener.events(), options.call_sid).empty());

  h.history()->flush();
  const auto stats = h.history()->stats();
  CHECK(stats.write_errors == test::published_finals(h, options.call_sid).size());
  CHECK(stats.written >= 2);  // call.started and call.ended
  CHECK(h.logs().contains("not written to " + path));
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  CHECK(test::http("GET", base + "/v1/calls").status == 200);
  CHECK(test::http("GET", base + "/v1/calls/" + options.call_sid).status == 500);
}

TEST_CASE("a history database from before heard_text was kept is migrated, its lines intact", "[integration][history]") {
  const test::temp_dir dir;
  const auto path = dir.file("history.db");
  const std::string sid = test::test_call_sid(51);
  // Schema version 1 as mediabridge wrote it, with one cut assistant line.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  const std::string v1 = R"sql(
CREATE TABLE calls (call_sid TEXT PRIMARY KEY, stream_sid TEXT NOT NULL, from_number TEXT NOT NULL,
  to_number TEXT NOT NULL, agent TEXT NOT NULL, parameters TEXT NOT NULL, started_at INTEGER NOT NULL,
  ended_at INTEGER, end_reason TEXT, end_detail TEXT, duration_ms INTEGER, input_tokens INTEGER,
  output_tokens INTEGER, total_tokens INTEGER);
CREATE INDEX calls_by_start ON calls (started_at DESC, call_sid DESC);
CREATE TABLE transcript_lines (id INTEGER PRIMARY KEY, call_sid TEXT NOT NULL, at INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('caller', 'assistant')), item_id TEXT NOT NULL, text TEXT NOT NULL,
  interrupted INTEGER NOT NULL DEFAULT 0, heard_ms INTEGER);
CREATE INDEX transcript_lines_by_call ON transcript_lines (call_sid, id);
CREATE TABLE barge_ins (id INTEGER PRIMARY KEY, call_sid TEXT NOT NULL, at INTEGER NOT NULL,
  item_id TEXT NOT NULL, audio_end_ms INTEGER NOT NULL);
CREATE INDEX barge_ins_by_call ON barge_ins (call_sid, id);
INSERT INTO calls VALUES (')sql" + sid + R"sql(', 'MZ1', '+15550000001', '+15005550001', '', '{}', 1700000000000,
  1700000060000, 'caller_hung_up', 'Twilio sent stop', 60000, 1, 2, 3);
INSERT INTO transcript_lines (call_sid, at, role, item_id, text, interrupted, heard_ms)
  VALUES (')sql" + sid + R"sql(', 1700000001000, 'assistant', 'item_1', 'Hello there, how can I help?', 1, 800);
PRAGMA user_version = 1;
)sql";
  REQUIRE(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = [&](config::settings& s, bridge::bridge_context&) { s.database_path = path; },
                          .listeners = true});
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  const auto detail = json_of(test::http("GET", base + "/v1/calls/" + sid));
  // Calls stored before the transport was kept all went through this server.
  CHECK(detail.at("transport").as_string() == "media-stream");
  const auto& line = detail.at("transcript").at(0).as_object();
  CHECK(line.at("text").as_string() == "Hello there, how can I help?");
  CHECK(line.at("interrupted").as_bool());
  CHECK(line.at("heard_ms").as_int64() == 800);
  // What was heard was not kept then: unknown, not empty.
  CHECK_FALSE(line.contains("heard_text"));
  CHECK_FALSE(line.contains("heard_text_estimated"));

  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  CHECK(sqlite3_column_int(s, 0) == 6);  // every migration ran (6: the recording's outcome)
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_CASE("a call OpenAI took over SIP reaches listeners and the history as one", "[integration][history]") {
  test::bridge_harness h({.simulator = fast_simulator(), .listeners = true});
  test::listener_client listener({.port = h.port(), .target = "/v1/events"});
  REQUIRE(listener.wait_connected());
  const std::string openai_call_id = "rtc_" + std::string(32, 'a');
  const bridge::call_identity sip_call{openai_call_id, openai_call_id, "+15550000007", "+15005550001"};
  h.listeners().publish(sip_call, call::call_started{openai_call_id, {}, "concierge", "sip"});
  // The listener's subscription reaches the hub after its handshake: once it has call.started (live or
  // in the running call's backfill) it is subscribed, and the end cannot pass it by.
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.started", sip_call.call_sid); }));
  h.listeners().call_ended(sip_call, {call::end_reason::caller_hung_up, "OpenAI ended the call", std::chrono::seconds(5), {}});
  REQUIRE(listener.wait_for([&](const events_t& ev) { return test::has_event(ev, "call.ended", sip_call.call_sid); }));
  const auto started = test::of_type(listener.events(), "call.started", sip_call.call_sid);
  REQUIRE(started.size() == 1);
  CHECK(started[0].at("transport").as_string() == "sip");

  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  const auto page = json_of(test::http("GET", base + "/v1/calls"));
  REQUIRE(sids_of(page) == std::vector<std::string>{sip_call.call_sid});
  CHECK(page.at("calls").at(0).at("transport").as_string() == "sip");
  const auto detail = json_of(test::http("GET", base + "/v1/calls/" + sip_call.call_sid));
  CHECK(detail.at("transport").as_string() == "sip");
  CHECK(detail.at("agent").as_string() == "concierge");
  CHECK(detail.at("end_reason").as_string() == "caller_hung_up");
}
