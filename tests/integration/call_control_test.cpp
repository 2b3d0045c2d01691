// Call control and DTMF through the real server: masked digit strings in events and the history,
// operator hang-up and transfer through the Twilio REST simulator (docs/tools.md).
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <string>

#include <boost/json.hpp>

#include "tests/integration/support/call_results.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/simulated_twilio_rest.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;

namespace {


bool wait_for_event(test::bridge_harness& h, const std::function<bool(const call::call_event&)>& wanted) {
  return h.events().wait_for_event(wanted, 5s);
}

// A call that stays up for `hangup_after_ms` whatever it is told, running on its own thread; returns once
// it has started.
std::future<std::vector<tools::twilio::call_report>> start_live_call(test::bridge_harness& h, const std::string& sid,
                                                                      int hangup_after_ms) {
  auto options = h.call({{audio_kind::silence, 400}});
  options.call_sid = sid;
  options.hangup_when_audio_ends = false;
  options.hangup_after_ms = hangup_after_ms;
  auto running = std::async(std::launch::async, [&h, options] { return h.run({options}); });
  REQUIRE(wait_for_event(h, [](const call::call_event& e) { return std::holds_alternative<call::call_started>(e); }));
  return running;
}

}  // namespace

TEST_CASE("DTMF keys become a masked digit string in events and the history", "[integration][dtmf]") {
  test::bridge_harness h({.tweak =
                              [](config::settings&, bridge::bridge_context& b) {
                                b.tools.dtmf.mask = true;
                                b.tools.dtmf.gap_ms = 500;
                              },
                          .listeners = true});
  const auto sid = test::test_call_sid(1);
  auto options = h.call({{audio_kind::silence, 2500}});
  options.call_sid = sid;
  // "4*2*", then "7" after the gap: '*' between digits, so that no number in a log line looks like them.
  options.dtmf = {{200, '4'}, {250, '*'}, {300, '2'}, {350, '*'}, {400, '#'}, {600, '7'}};
  const auto reports = h.run({options});
  REQUIRE(reports.size() == 1);
  REQUIRE(h.events().wait_ended(1));

  std::vector<call::dtmf_input> inputs;
  std::size_t keys = 0;
  for (const auto& e : h.events().events()) {
    if (const auto* d = std::get_if<call::dtmf>(&e.event)) {
      ++keys;
      CHECK(d->masked);
      CHECK(d->digit.empty());
    }
    if (const auto* d = std::get_if<call::dtmf_input>(&e.event)) inputs.push_back(*d);
  }
  CHECK(keys == 6);
  REQUIRE(inputs.size() == 2);
  CHECK(inputs[0].digits == "\u2022\u2022\u2022\u2022");
  CHECK(inputs[0].masked);
  CHECK(inputs[1].digits == "\u2022");
  for (const auto& line : h.logs().lines()) {
    CHECK(line.find("4*2*") == std::string::npos);
  }

  h.history()->flush();
  const auto detail = test::http("GET", "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/calls/" + sid);
  REQUIRE(detail.status == 200);
  const auto stored = boost::json::parse(detail.body).at("events").as_array();
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].at("type").as_string() == "dtmf.input");
  CHECK(stored[0].at("digits").as_string() == "\u2022\u2022\u2022\u2022");
  CHECK(stored[0].at("masked").as_bool());
}

TEST_CASE("an operator's transfer dials only allowlisted names, with the right TwiML, hang-up completes the call",
          "[integration][control]") {
  test::simulated_twilio_rest twilio;
  auto& rest = twilio.sim;
  test::bridge_harness h({.tweak = [&](config::settings&, bridge::bridge_context& b) {
    twilio.attach(b);
    b.tools.transfers = {{"sales", "+15551230000", "Connecting you to sales."}};
    b.tools.transfer_caller_id = "+15559870000";
  }});
  const auto sid = test::test_call_sid(2);
  auto running = start_live_call(h, sid, 4000);

  // A number, not a name: refused, nothing sent to Twilio.
  REQUIRE(h.registry().send_command(sid, call::transfer_command{"+15550001111"}));
  REQUIRE(wait_for_event(h, [](const call::call_event& e) {
    const auto* c = std::get_if<call::call_control>(&e);
    return c && c->status == "refused";
  }));
  CHECK(rest.snapshot().requests.empty());

  REQUIRE(h.registry().send_command(sid, call::transfer_command{"sales"}));
  REQUIRE(wait_for_event(h, [](const call::call_event& e) {
    const auto* c = std::get_if<call::call_control>(&e);
    return c && c->action == "transfer" && c->status == "done";
  }));
  const auto transferred = rest.call(sid);
  REQUIRE(transferred);
  REQUIRE(transferred->redirects.size() == 1);
  CHECK(transferred->redirects[0] ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>Connecting you to sales.</Say>)"
        R"(<Dial callerId="+15559870000">+15551230000</Dial></Response>)");

  REQUIRE(h.registry().send_command(sid, call::hang_up_command{}));
  REQUIRE(wait_for_event(h, [](const call::call_event& e) {
    const auto* c = std::get_if<call::call_control>(&e);
    return c && c->action == "hang_up" && c->status == "done";
  }));
  CHECK(rest.call(sid)->completions == 1);
  CHECK(rest.call(sid)->status == "completed");
  running.get();

  const auto all = test::published<call::call_control>(h);
  REQUIRE(all.size() == 5);  // refused, requested + done twice
  CHECK(all[0].by == "operator");
  CHECK(all[0].target == "+15550001111");
}

TEST_CASE("without REST credentials an operator's hang-up closes the stream", "[integration][control]") {
  test::bridge_harness h;
  const auto sid = test::test_call_sid(3);
  auto running = start_live_call(h, sid, 10000);
  REQUIRE(h.registry().send_command(sid, call::hang_up_command{}));
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].second.reason == call::end_reason::hung_up);
  CHECK(h.logs().contains("Twilio's REST API"));
  const auto all = test::published<call::call_control>(h);
  REQUIRE(all.size() == 2);
  CHECK(all[1].status == "failed");
  CHECK(all[1].detail == "TWILIO_ACCOUNT_SID/credentials not set");
  running.get();
}
