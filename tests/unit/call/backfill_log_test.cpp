#include "call/backfill_log.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

using namespace mb::call;
using strings = std::vector<std::string>;

namespace {

const std::string call_sid = "CA0123456789abcdef0123456789abcdef";
constexpr std::int64_t now_ms = 1738326896789;  // 2025-01-31T12:34:56.789Z

// An event whose JSON is its label, padded with spaces to `bytes` when given.
shared_event_ptr event(event_kind kind, std::string label, std::size_t bytes = 0, role speaker = role::caller,
                       std::string item_id = {}) {
  auto e = std::make_shared<shared_event>();
  e->kind = kind;
  e->call_sid = call_sid;
  e->speaker = speaker;
  e->item_id = std::move(item_id);
  e->json = std::move(label);
  if (e->json.size() < bytes) e->json.resize(bytes, ' ');
  return e;
}
shared_event_ptr started(std::size_t bytes = 0) { return event(event_kind::started, "started", bytes); }
shared_event_ptr dtmf_key(std::string label, std::size_t bytes = 0) {
  return event(event_kind::other, std::move(label), bytes);
}
shared_event_ptr final_line(std::string label, std::string item, std::size_t bytes = 0) {
  return event(event_kind::final_line, std::move(label), bytes, role::caller, std::move(item));
}
shared_event_ptr delta(std::string label, std::string item, role speaker = role::assistant) {
  return event(event_kind::delta, std::move(label), 0, speaker, std::move(item));
}

// The backfill's labels; the truncation marker shows as "truncated <left_out> <finals_left_out>".
strings backfill(const backfill_log& log) {
  std::vector<shared_event_ptr> events;
  log.append_to(events, now_ms);
  strings out;
  for (const auto& e : events) {
    if (e->json.starts_with("{")) {
      const auto o = boost::json::parse(e->json).as_object();
      out.push_back("truncated " + std::to_string(o.at("left_out").as_int64()) + " " +
                    std::to_string(o.at("transcript_finals_left_out").as_int64()));
    } else {
      out.push_back(e->json.substr(0, e->json.find(' ')));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("backfill_log: within its bounds it keeps everything, in publication order", "[call][backfill]") {
  backfill_log log(started(), {.max_events = 16, .max_bytes = 4096});
  CHECK(log.add(final_line("f1", "i1")) == 0);
  CHECK(log.add(dtmf_key("d1")) == 0);
  CHECK(log.add(final_line("f2", "i2")) == 0);
  CHECK(log.add(delta("x1", "i3")) == 0);
  CHECK(backfill(log) == strings{"started", "f1", "d1", "f2", "x1"});
  CHECK(log.left_out() == 0);
}

TEST_CASE("backfill_log: a final replaces its own turn's deltas only, and that is not leaving out",
          "[call][backfill]") {
  backfill_log log(started(), {.max_events = 16, .max_bytes = 4096});
  log.add(delta("a1", "i1", role::assistant));
  log.add(delta("c1", "i1", role::caller));  // same item id, other speaker: another turn
  log.add(delta("b1", "i2", role::assistant));
  log.add(delta("a2", "i1", role::assistant));
  const auto bytes_before = log.bytes();
  log.add(event(event_kind::final_line, "A", 0, role::assistant, "i1"));
  CHECK(backfill(log) == strings{"started", "c1", "b1", "A"});
  CHECK(log.bytes() == bytes_before - 4 + 1);
  CHECK(log.left_out() == 0);
}

TEST_CASE("backfill_log: a DTMF flood is bounded in events, the oldest keys go, transcript lines stay",
          "[call][backfill]") {
  backfill_log log(started(), {.max_events = 8, .max_bytes = 1 << 20});
  log.add(final_line("f1", "i1"));
  std::size_t dropped = 0;
  for (int i = 0; i < 5000; ++i) dropped += log.add(dtmf_key("d" + std::to_string(i)));
  log.add(final_line("f2", "i2"));
  CHECK(log.size() == 8);
  CHECK(dropped + 1 == log.left_out());  // f2 made room by dropping one more key
  CHECK(log.left_out() == 5000 - 5);
  CHECK(log.finals_left_out() == 0);
  CHECK(backfill(log) ==
        strings{"started", "truncated 4995 0", "f1", "d4995", "d4996", "d4997", "d4998", "d4999", "f2"});
}

TEST_CASE("backfill_log: bounded in bytes too", "[call][backfill]") {
  backfill_log log(started(100), {.max_events = 1000, .max_bytes = 1000});
  log.add(final_line("f1", "i1", 300));
  log.add(dtmf_key("d1", 200));
  log.add(dtmf_key("d2", 200));
  CHECK(log.bytes() == 800);
  log.add(dtmf_key("d3", 250));  // 1050: d1 goes
  CHECK(log.bytes() == 850);
  CHECK(backfill(log) == strings{"started", "truncated 1 0", "f1", "d2", "d3"});
}

TEST_CASE("backfill_log: when transcript lines alone overflow, the oldest lines go, and the marker says so",
          "[call][backfill]") {
  backfill_log log(started(), {.max_events = 4, .max_bytes = 1 << 20});
  log.add(dtmf_key("d1"));
  for (int i = 1; i <= 5; ++i) log.add(final_line("f" + std::to_string(i), "i" + std::to_string(i)));
  CHECK(backfill(log) == strings{"started", "truncated 3 2", "f3", "f4", "f5"});
  CHECK(log.finals_left_out() == 2);
}

TEST_CASE("backfill_log: call.started is kept whatever its size, and an event larger than the bound is left out",
          "[call][backfill]") {
  backfill_log log(started(5000), {.max_events = 16, .max_bytes = 1000});
  CHECK(log.add(final_line("huge", "i1", 2000)) == 1);
  CHECK(log.add(dtmf_key("d1", 10)) == 1);
  CHECK(backfill(log) == strings{"started", "truncated 2 1"});
  CHECK(log.bytes() == 5000);
}

TEST_CASE("backfill_log: the truncation marker is a dated event of the call", "[call][backfill]") {
  backfill_log log(started(), {.max_events = 16, .max_bytes = 4096});
  for (int i = 0; i < 20; ++i) log.add(dtmf_key("d"));
  std::vector<shared_event_ptr> events{dtmf_key("from another call")};
  log.append_to(events, now_ms);
  REQUIRE(events.size() == 1 + 16 + 1);
  CHECK(events[1]->json == "started");
  CHECK(events[2]->call_sid == call_sid);
  CHECK(boost::json::parse(events[2]->json) ==
        boost::json::parse(R"({"type":"backfill.truncated","call_sid":")" + call_sid +
                           R"(","time":"2025-01-31T12:34:56.789Z","left_out":5,"transcript_finals_left_out":0})"));
}
