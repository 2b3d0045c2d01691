// Live events: listeners on /v1/events and /v1/calls/{sid}/events (WebSocket and SSE) against a real
// server, simulated Twilio and the Realtime simulator, over loopback.

#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using events_t = test::listener_client::events_t;
using test::finals;
using test::has_event;
using test::line;
using test::published_finals;

namespace {

constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;
const std::string token = "listener-test-token";

mb::simulator::simulator_options fast_simulator() {
  mb::simulator::simulator_options o;
  o.response_ms = 2000;
  o.speed = 4.0;
  return o;
}

void with_token(config::settings& s, bridge::bridge_context&) { s.api_token = config::secret(token); }

boost::json::object get_call(test::bridge_harness& h, const std::string& sid) {
  const auto r = test::http("GET", "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/calls/" + sid,
                            {{"Authorization", "Bearer " + token}});
  INFO(r.failure << r.body);
  REQUIRE(r.status == 200);
  return boost::json::parse(r.body).as_object();
}

events_t without_deltas(const events_t& events) {
  events_t out;
  for (const auto& e : events)
    if (e.at("type").as_string() != "transcript.delta") out.push_back(e);
  return out;
}

// Concatenated delta text per (role, item).
std::map<std::pair<std::string, std::string>, std::string> delta_text(const events_t& events) {
  std::map<std::pair<std::string, std::string>, std::string> out;
  for (const auto& e : test::of_type(events, "transcript.delta"))
    out[{std::string(e.at("role").as_string()), std::string(e.at("item_id").as_string())}] +=
        std::string(e.at("text").as_string());
  return out;
}

// Runs the call and subscribes a listener to it once `all` has seen its first transcript.final.
// Returns when the call has ended and `all`, the late listener and `others` have seen its call.ended.
struct late_join {
  tools::twilio::call_report report;
  std::unique_ptr<test::listener_client> late;
};
late_join run_with_late_listener(test::bridge_harness& h, test::listener_client& all,
                                 const tools::twilio::call_options& options,
                                 std::initializer_list<test::listener_client*> others = {}) {
  const auto& sid = options.call_sid;
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });
  REQUIRE(all.wait_for([&](const events_t& ev) { return has_event(ev, "transcript.final", sid); }));
  late_join result;
  result.late = std::make_unique<test::listener_client>(
      test::listener_options{.port = h.port(), .target = "/v1/calls/" + sid + "/events?token=" + token});
  REQUIRE(result.late->wait_connected());
  result.report = pending.get().at(0);
  INFO(result.report.failure);
  REQUIRE(result.report.ok());
  std::vector<test::listener_client*> listeners{&all, result.late.get()};
  listeners.insert(listeners.end(), others);
  for (auto* l : listeners) REQUIRE(l->wait_for([&](const events_t& ev) { return has_event(ev, "call.ended", sid); }));
  return result;
}

}  // namespace

TEST_CASE("listeners attached before and during a call see its whole transcript in order, as stored",
          "[integration][listeners]") {
  auto sim = fast_simulator();
  sim.response_ms = 3000;
  sim.late_deltas_after_cancel = 3;
  test::bridge_harness h({.simulator = sim, .tweak = with_token, .listeners = true});
  const auto sid = test::test_call_sid(1);

  test::listener_client all({.port = h.port(), .target = "/v1/events?token=" + token});
  test::listener_client sse(
      {.port = h.port(), .target = "/v1/calls/" + sid + "/events", .sse = true, .authorization = "Bearer " + token});
  REQUIRE(all.wait_connected());
  REQUIRE(sse.wait_connected());

  // Speak, interrupt the answer (a barge-in), listen to the second answer, hang up.
  auto options = h.call({{speech, 400}, {silence, 2000}, {speech, 600}, {silence, 4000}});
  options.call_sid = sid;
  auto [report, late_listener] = run_with_late_listener(h, all, options, {&sse});
  auto& late = *late_listener;

  const auto expected = published_finals(h, sid);
  REQUIRE(expected.size() >= 3);
  CHECK(std::any_of(expected.begin(), expected.end(), [](const line& l) { return l.interrupted; }));
  std::set<std::pair<std::string, std::string>> unique;
  for (const auto& l : expected) unique.insert({l.role, l.item_id});
  CHECK(unique.size() == expected.size());

  // The listener attached before the call: everything, from call.started to call.ended.
  events_t seen;
  for (const auto& e : all.events())
    if (e.at("call_sid").as_string() == sid) seen.push_back(e);
  CHECK(seen.front().at("type").as_string() == "call.started");
  CHECK(seen.back().at("type").as_string() == "call.ended");
  CHECK(finals(seen, sid) == expected);
  const auto& started = seen.front();
  CHECK(started.at("from").as_string() == options.from);
  CHECK(started.at("to").as_string() == options.to);
  CHECK(started.at("parameters").at("CallSid").as_string() == sid);
  CHECK(started.at("stream_sid").as_string() == report.stream_sid);
  const auto& ended = seen.back();
  CHECK(ended.at("reason").as_string() == "caller_hung_up");
  CHECK(ended.at("duration_ms").as_int64() > 0);
  CHECK(ended.at("usage").at("total_tokens").as_int64() >= 0);
  const auto barge_ins = test::of_type(seen, "barge_in", sid);
  REQUIRE(barge_ins.size() == 1);

  // The per-call SSE listener: the same, then the stream ends with the call.
  CHECK(finals(sse.events(), sid) == expected);
  CHECK(without_deltas(sse.events()) == without_deltas(seen));
  REQUIRE(sse.wait_closed());
  CHECK(sse.close_reason().code == 1000);
  CHECK(sse.close_reason().reason == "call ended");

  // The listener attached mid-call: the backfill, then live events, without gaps or duplicates.
  const auto late_events = late.events();
  CHECK(late_events.front().at("type").as_string() == "call.started");
  CHECK(without_deltas(late_events) == without_deltas(seen));
  const auto all_deltas = delta_text(seen);
  for (const auto& [key, text] : delta_text(late_events)) {
    INFO(key.first << " " << key.second);
    CHECK(text == all_deltas.at(key));  // a turn's deltas are all there, or none (it was final already)
  }
  REQUIRE(late.wait_closed());
  CHECK(late.close_reason().code == 1000);

  // The history holds exactly what the listeners saw.
  const auto stored = get_call(h, sid);
  CHECK(test::stored_lines(stored) == expected);
  CHECK(stored.at("end_reason").as_string() == "caller_hung_up");
  CHECK(stored.at("from").as_string() == options.from);
  REQUIRE(stored.at("barge_ins").as_array().size() == 1);
  CHECK(stored.at("barge_ins").at(0).at("item_id") == barge_ins[0].at("item_id"));
  CHECK(stored.at("barge_ins").at(0).at("audio_end_ms") == barge_ins[0].at("audio_end_ms"));
}

TEST_CASE("a missing or wrong API token is refused: 401 for HTTP, a refused upgrade for listeners",
          "[integration][listeners]") {
  test::bridge_harness h({.tweak = with_token, .listeners = true});
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  const std::string wrong = "bogus-token-value-42";

  test::listener_client no_token({.port = h.port(), .target = "/v1/events"});
  test::listener_client wrong_query({.port = h.port(), .target = "/v1/events?token=" + wrong});
  test::listener_client wrong_header({.port = h.port(), .target = "/v1/calls/" + test::test_call_sid(7) + "/events",
                                      .authorization = "Bearer " + wrong});
  test::listener_client sse_no_token({.port = h.port(), .target = "/v1/events", .sse = true});
  for (auto* l : {&no_token, &wrong_query, &wrong_header, &sse_no_token}) {
    CHECK_FALSE(l->wait_connected());
    CHECK(l->http_status() == 401);
  }

  const auto refused = test::http("GET", base + "/v1/calls");
  CHECK(refused.status == 401);
  CHECK(std::any_of(refused.headers.begin(), refused.headers.end(),
                    [](const auto& h) { return h.first == "WWW-Authenticate" && h.second.starts_with("Bearer"); }));
  CHECK(test::http("GET", base + "/v1/calls", {{"Authorization", "Bearer " + wrong}}).status == 401);
  CHECK(test::http("DELETE", base + "/v1/calls/" + test::test_call_sid(7), {{"Authorization", "Basic " + token}}).status == 401);
  CHECK(test::http("GET", base + "/v1/calls", {{"Authorization", "Bearer " + token}}).status == 200);
  CHECK(test::http("GET", base + "/v1/calls?token=" + token).status == 200);

  test::listener_client admitted({.port = h.port(), .target = "/v1/events?token=" + token});
  CHECK(admitted.wait_connected());
  CHECK(admitted.http_status() == 101);
  // Tokens never reach the log, right or wrong.
  CHECK_FALSE(h.logs().contains(token));
  CHECK_FALSE(h.logs().contains(wrong));
  CHECK(h.logs().contains("missing or wrong API token"));
}

TEST_CASE("without API_TOKEN the API serves local clients only", "[integration][listeners]") {
  test::bridge_harness h({.listeners = true});
  const auto base = "http://127.0.0.1:" + std::to_string(h.port());
  CHECK(test::http("GET", base + "/v1/calls").status == 200);
  // A proxy on this host makes every client look local: forwarded requests are refused.
  CHECK(test::http("GET", base + "/v1/calls", {{"X-Forwarded-For", "203.0.113.9"}}).status == 403);
  test::listener_client local({.port = h.port(), .target = "/v1/events"});
  CHECK(local.wait_connected());
  test::listener_client dashboard({.port = h.port(), .target = "/v1/events", .origin = base});
  CHECK(dashboard.wait_connected());
  // A page on another site can make a local browser open this WebSocket: its Origin gives it away.
  for (const char* origin : {"https://attacker.example", "null"}) {
    INFO(origin);
    test::listener_client other_site({.port = h.port(), .target = "/v1/events", .origin = origin});
    CHECK_FALSE(other_site.wait_connected());
    CHECK(other_site.http_status() == 403);
  }
  test::listener_client other_site_sse({.port = h.port(), .target = "/v1/events", .sse = true,
                                        .origin = "https://attacker.example"});
  CHECK_FALSE(other_site_sse.wait_connected());
  CHECK(other_site_sse.http_status() == 403);
  CHECK(h.logs().contains("only local clients are served"));
}

TEST_CASE("a slow listener is disconnected while the call and another listener go on", "[integration][listeners]") {
  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = [](config::settings& s, bridge::bridge_context& b) {
                            with_token(s, b);
                            s.listener_queue_size = 16;
                          },
                          .listeners = true});
  const auto target = "/v1/events?token=" + token;
  test::listener_client fast({.port = h.port(), .target = target});
  test::listener_client slow({.port = h.port(), .target = target, .paused = true});
  REQUIRE(fast.wait_connected());
  REQUIRE(slow.wait_connected());

  const auto sid = test::test_call_sid(2);
  auto options = h.call({{speech, 400}, {silence, 3000}});
  options.call_sid = sid;
  auto pending = std::async(std::launch::async, [&] { return h.run({options}); });

  // Events of another (made-up) call, 32 KiB each, in bursts the fast listener takes before the next:
  // the slow one, reading nothing, fills its TCP buffers and then its queue.
  const bridge::call_identity flood_call{test::test_call_sid(3), "MZ" + std::string(32, '3'), "+1", "+2"};
  h.listeners().publish(flood_call, call::call_started{flood_call.stream_sid, {}, ""});
  const std::string text(32 * 1024, 'x');
  constexpr std::size_t burst = 4;
  std::size_t flooded = 0;
  for (int round = 0; round < 2000 && h.listeners().stats().slow_listeners_dropped == 0; ++round) {
    for (std::size_t i = 0; i < burst; ++i)
      h.listeners().publish(flood_call, call::transcript_delta{call::role::assistant, "flood", text});
    flooded += burst;
    REQUIRE(fast.wait_for(
        [&](const events_t& ev) { return test::of_type(ev, "transcript.delta", flood_call.call_sid).size() == flooded; }));
  }
  REQUIRE(h.listeners().stats().slow_listeners_dropped == 1);

  slow.resume();
  REQUIRE(slow.wait_closed());
  CHECK(slow.close_reason().code == 1008);
  CHECK(slow.close_reason().reason == "listener too slow");

  // The call went on undisturbed, and the fast listener saw all of it.
  const auto reports = pending.get();
  INFO(reports.at(0).failure);
  CHECK(reports.at(0).ok());
  REQUIRE(fast.wait_for([&](const events_t& ev) { return has_event(ev, "call.ended", sid); }));
  CHECK(finals(fast.events(), sid) == published_finals(h, sid));
  CHECK_FALSE(published_finals(h, sid).empty());
  CHECK(h.logs().contains("events behind; disconnecting it"));
  // The slow listener got what it was sent before the drop, in order and without gaps, and not the
  // event that overflowed its queue (a flood event or one of the call's own, whichever came first).
  const auto everything = fast.events();
  const auto received = slow.events();
  REQUIRE(received.size() < everything.size());
  CHECK(std::equal(received.begin(), received.end(), everything.begin()));
}

TEST_CASE("an SSE listener gets data: events and keep-alive comments", "[integration][listeners]") {
  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = with_token,
                          .listeners = true,
                          .hub = {.keep_alive = std::chrono::milliseconds(50)}});
  test::listener_client sse({.port = h.port(), .target = "/v1/events?token=" + token, .sse = true});
  REQUIRE(sse.wait_connected());
  CHECK(sse.wait_keep_alives(2));
  const auto sid = test::test_call_sid(4);
  auto options = h.call({{speech, 300}, {silence, 2500}});
  options.call_sid = sid;
  const auto reports = h.run({options});
  REQUIRE(reports.at(0).ok());
  REQUIRE(sse.wait_for([&](const events_t& ev) { return has_event(ev, "call.ended", sid); }));
  CHECK(finals(sse.events(), sid) == published_finals(h, sid));
  // An all-calls listener outlives the call.
  CHECK_FALSE(sse.wait_closed(std::chrono::milliseconds(100)));
}

TEST_CASE("subscribing to a call that has ended is answered with where its history is", "[integration][listeners]") {
  test::bridge_harness h({.simulator = fast_simulator(), .tweak = with_token, .listeners = true});
  test::listener_client all({.port = h.port(), .target = "/v1/events?token=" + token});
  REQUIRE(all.wait_connected());
  const auto sid = test::test_call_sid(5);
  auto options = h.call({{speech, 200}, {silence, 300}});
  options.call_sid = sid;
  REQUIRE(h.run({options}).at(0).ok());
  // The hub forwards call.ended only after it has forgotten the call.
  REQUIRE(all.wait_for([&](const events_t& ev) { return has_event(ev, "call.ended", sid); }));
  test::listener_client late({.port = h.port(), .target = "/v1/calls/" + sid + "/events?token=" + token});
  REQUIRE(late.wait_connected());
  REQUIRE(late.wait_closed());
  CHECK(late.close_reason().code == 1000);
  CHECK(late.close_reason().reason == "call has ended; GET /v1/calls/" + sid + " has its transcript");
  CHECK(late.events().empty());
}

TEST_CASE("a DTMF flood is rate-limited, and a late listener's backfill is bounded and says what it left out",
          "[integration][listeners]") {
  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = [](config::settings& s, bridge::bridge_context& b) {
                            with_token(s, b);
                            s.listener_backfill_events = 16;
                          },
                          .listeners = true});
  const auto sid = test::test_call_sid(6);
  test::listener_client all({.port = h.port(), .target = "/v1/events?token=" + token});
  REQUIRE(all.wait_connected());

  // 5,000 keys in one go 100 ms into the call, then two turns.
  constexpr std::size_t flood = 5000;
  auto options = h.call({{speech, 400}, {silence, 2000}, {speech, 400}, {silence, 3000}});
  options.call_sid = sid;
  options.send_queue = flood + 64;
  for (std::size_t i = 0; i < flood; ++i) options.dtmf.push_back({100, "0123456789*#"[i % 12]});
  // The caller's speech comes after the keys on the same socket: once a transcript line is out, the
  // flood has been handled, and the late listener subscribes.
  const auto [report, late] = run_with_late_listener(h, all, options);
  CHECK(report.send_queue_drops == 0);

  // The call published the burst the rate allows, and counted the rest.
  std::size_t published = 0;
  for (const auto& e : h.events().events())
    if (std::holds_alternative<call::dtmf>(e.event)) ++published;
  CHECK(published >= 20);
  CHECK(published < 100);
  const auto all_keys = test::of_type(all.events(), "dtmf", sid);
  CHECK(all_keys.size() == published);
  const auto metrics = test::http("GET", "http://127.0.0.1:" + std::to_string(h.port()) + "/metrics");
  REQUIRE(metrics.status == 200);
  auto counter = [&](const std::string& name) -> std::uint64_t {
    const auto at = metrics.body.find("\n" + name + " ");
    return at == std::string::npos ? 0 : std::stoull(metrics.body.substr(at + name.size() + 2));
  };
  CHECK(counter("mediabridge_dtmf_dropped_total") == flood - published);
  const auto log_lines = h.logs().lines();
  CHECK(std::count_if(log_lines.begin(), log_lines.end(),
                      [](const std::string& l) { return l.find("dropping DTMF") != std::string::npos; }) == 1);

  // The late listener: call.started, then the marker, then at most 15 more events of the backfill.
  const auto late_events = late->events();
  REQUIRE(late_events.size() >= 2);
  CHECK(late_events[0].at("type").as_string() == "call.started");
  const auto& marker = late_events[1];
  REQUIRE(marker.at("type").as_string() == "backfill.truncated");
  CHECK(marker.at("call_sid").as_string() == sid);
  const auto left_out = static_cast<std::size_t>(marker.at("left_out").as_int64());
  CHECK(marker.at("transcript_finals_left_out").as_int64() == 0);
  // The oldest keys were left out: the late listener has the newest, in order.
  const auto late_keys = test::of_type(late_events, "dtmf", sid);
  REQUIRE(late_keys.size() < all_keys.size());
  CHECK(all_keys.size() - late_keys.size() <= left_out);
  CHECK(std::equal(late_keys.begin(), late_keys.end(), all_keys.end() - static_cast<std::ptrdiff_t>(late_keys.size())));
  CHECK(counter("mediabridge_backfill_events_left_out_total") >= left_out);

  // Never a transcript line lost: live, for the late listener and in the history.
  const auto expected = published_finals(h, sid);
  REQUIRE(expected.size() >= 2);
  CHECK(finals(all.events(), sid) == expected);
  CHECK(finals(late_events, sid) == expected);
  CHECK(test::stored_lines(get_call(h, sid)) == expected);
}
