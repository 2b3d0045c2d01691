#include "call/call_control.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

using namespace mb::call;
using strings = std::vector<std::string>;

// call_controller step by step with a fake clock: each step's actions and notes for the model,
// rendered as short strings.

namespace {

call_tools_config config() {
  call_tools_config c;
  c.end_call_grace_ms = 5000;
  c.transfers = {{"sales", "+15551230000", "Connecting you to sales."}, {"desk", "sip:desk@pbx.example.com", ""}};
  c.transfer_caller_id = "+15559870000";
  return c;
}

struct harness {
  explicit harness(const call_tools_config& c = config()) { control.configure(c); }

  call_controller control;
  std::vector<action> out;
  std::vector<model_note> notes;
  std::vector<update_twilio_call> updates;
  std::vector<call_control> events;

  strings render() {
    strings r;
    for (const auto& a : out) {
      if (const auto* p = std::get_if<publish>(&a)) {
        const auto& e = std::get<call_control>(p->event);
        events.push_back(e);
        r.push_back("control " + e.action + " " + e.by + " " + e.status + (e.target.empty() ? "" : " " + e.target));
      } else if (const auto* u = std::get_if<update_twilio_call>(&a)) {
        updates.push_back(*u);
        r.push_back(u->what == update_twilio_call::kind::hang_up ? "hang_up" : "redirect");
      } else if (const auto* l = std::get_if<log_line>(&a)) {
        r.push_back(std::string("log ") + (l->level == log_level::warn ? "warn" : "other"));
      } else if (const auto* e = std::get_if<end_call>(&a)) {
        r.push_back(std::string("end ") + to_string(e->reason));
      }
    }
    for (const auto& n : notes)
      r.push_back((n.what == model_note::kind::tool_result ? "result " + n.tool_call_id + " " : "context ") + n.text +
                  (n.respond ? " respond" : ""));
    out.clear();
    notes.clear();
    return r;
  }
  strings call(std::string_view name, std::string_view args, playback_state playback, std::int64_t now) {
    control.on_tool_call("call1", name, args, playback, now, out, notes);
    return render();
  }
  strings play(playback_state playback, std::int64_t now) {
    control.on_playback(playback, now, out);
    return render();
  }
  strings command(const operator_command& c, std::int64_t now = 0) {
    control.on_operator(c, now, out, notes);
    return render();
  }
  strings done(bool ok, std::string detail = {}) {
    control.on_update_done(updates.back().request_id, {ok, std::move(detail)}, out, notes);
    return render();
  }
};

constexpr playback_state speaking{false, true};
constexpr playback_state spoke_and_played{true, true};
constexpr playback_state silent{true, false};

const std::string hang_up_after_goodbye = R"(result call1 {"ok":true,"status":"the call ends once your last words have played"})";

}  // namespace

TEST_CASE("call_controller: end_call hangs up only once the goodbye has played", "[call][control]") {
  harness h;
  CHECK(h.call("end_call", R"({"reason":"caller is done"})", speaking, 1000) ==
        strings{"control hang_up model requested", hang_up_after_goodbye});
  CHECK(h.events.back().detail == "caller is done");
  CHECK(h.control.next_wakeup() == 6000);
  CHECK(h.play(speaking, 1500) == strings{});  // the goodbye is still playing
  CHECK(h.play(spoke_and_played, 2000) == strings{"hang_up"});
  CHECK_FALSE(h.control.next_wakeup());
  CHECK(h.play(spoke_and_played, 2100) == strings{});  // once
  CHECK(h.done(true) == strings{"control hang_up model done"});
}

TEST_CASE("call_controller: end_call without a goodbye asks the model for one and waits for it", "[call][control]") {
  harness h;
  CHECK(h.call("end_call", "{}", silent, 1000) ==
        strings{"control hang_up model requested",
                R"(result call1 {"ok":true,"status":"say a short goodbye now; the call ends after it"} respond)"});
  CHECK(h.play(silent, 1200) == strings{});  // idle, but the goodbye has not started
  h.control.on_response_started();
  CHECK(h.play(speaking, 1300) == strings{});
  CHECK(h.play(spoke_and_played, 3000) == strings{"hang_up"});
}

TEST_CASE("call_controller: end_call hangs up at the grace deadline when the goodbye never ends", "[call][control]") {
  harness h;
  h.call("end_call", "not json", speaking, 1000);
  CHECK(h.events.back().detail.empty());
  CHECK(h.play(speaking, 5999) == strings{});
  CHECK(h.play(speaking, 6000) == strings{"log warn", "hang_up"});
}

TEST_CASE("call_controller: a failed hang-up closes the stream instead", "[call][control]") {
  harness h;
  CHECK(h.command(hang_up_command{}) == strings{"control hang_up operator requested", "hang_up"});
  CHECK(h.done(false, "Twilio answered 500") ==
        strings{"control hang_up operator failed", "log warn", "end hung_up"});
  CHECK(h.events.back().detail == "Twilio answered 500");
}

TEST_CASE("call_controller: transfer_call dials an allowlisted name after the model's words have played",
          "[call][control]") {
  harness h;
  CHECK(h.call("transfer_call", R"({"destination":"sales"})", speaking, 1000) ==
        strings{"control transfer model requested sales"});
  CHECK(h.play(spoke_and_played, 1400) == strings{"redirect"});
  CHECK(h.updates.back().twiml ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>Connecting you to sales.</Say>)"
        R"(<Dial callerId="+15559870000">+15551230000</Dial></Response>)");
  // The model's result waits for Twilio's answer.
  CHECK(h.done(true) == strings{"control transfer model done sales",
                                R"(result call1 {"ok":true,"status":"the caller is being transferred"})"});
}

TEST_CASE("call_controller: transfer_call to anything but an allowlisted name is refused, nothing dialled",
          "[call][control]") {
  harness h;
  for (const char* args : {R"({"destination":"+15550001111"})", R"({"destination":"Sales"})", "{}", "[1]"}) {
    const auto step = h.call("transfer_call", args, silent, 1000);
    REQUIRE(step.size() == 3);
    CHECK(step[0].starts_with("control transfer model refused"));
    CHECK(step[1] == "log warn");
    CHECK(step[2] ==
          R"(result call1 {"error":"not an allowed destination; allowed: sales, desk"} respond)");
    CHECK(h.play(silent, 20000) == strings{});
  }
  CHECK(h.updates.empty());
}

TEST_CASE("call_controller: a failed transfer tells the model and the call goes on", "[call][control]") {
  harness h;
  h.call("transfer_call", R"({"destination":"desk"})", silent, 1000);
  CHECK(h.play(silent, 1000) == strings{"redirect"});
  CHECK(h.updates.back().twiml ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+15559870000">)"
        R"(<Sip>sip:desk@pbx.example.com</Sip></Dial></Response>)");
  CHECK(h.done(false, "timeout") ==
        strings{"control transfer model failed desk", "log warn",
                R"(result call1 {"error":"the transfer failed: timeout; the call goes on with you"} respond)"});
  // Free again: another transfer may go.
  CHECK(h.command(transfer_command{"sales"}) == strings{"control transfer operator requested sales", "redirect"});
}

TEST_CASE("call_controller: one hang-up or transfer at a time", "[call][control]") {
  harness h;
  h.call("end_call", "{}", speaking, 1000);
  CHECK(h.call("transfer_call", R"({"destination":"sales"})", speaking, 1100) ==
        strings{R"(result call1 {"error":"a hang-up or transfer is already under way"})"});
  CHECK(h.command(hang_up_command{}) == strings{"control hang_up operator refused"});
  CHECK(h.play(spoke_and_played, 1200) == strings{"hang_up"});
  CHECK(h.command(transfer_command{"sales"}) == strings{"control transfer operator refused"});
}

TEST_CASE("call_controller: operator transfers and messages", "[call][control]") {
  harness h;
  CHECK(h.command(transfer_command{"+15550001111"}) ==
        strings{"control transfer operator refused +15550001111", "log warn"});
  CHECK(h.command(message_command{"Offer the caller a 10% discount."}) ==
        strings{"control message operator done",
                "context A supervisor of this call sends you this message: Offer the caller a 10% discount. respond"});
  // A stale or unknown outcome changes nothing.
  h.control.on_update_done(42, {true, {}}, h.out, h.notes);
  CHECK(h.render() == strings{});
}

TEST_CASE("call_controller: only enabled built-ins are handled and declared", "[call][control]") {
  auto c = config();
  mb::protocol::session_config session;
  session.tools = {{"lookup_order", "Look up an order", "{}"}, {"end_call", "stale", "{}"}};
  declare_builtin_tools(session, c);
  REQUIRE(session.tools.size() == 3);
  CHECK(session.tools[0].name == "lookup_order");
  CHECK(session.tools[1].name == "end_call");
  CHECK(session.tools[1].description.find("goodbye") != std::string::npos);
  CHECK(session.tools[2].name == "transfer_call");
  const auto schema = boost::json::parse(session.tools[2].parameters_json);
  CHECK(schema.at("properties").at("destination").at("enum") == boost::json::array{"sales", "desk"});
  CHECK(schema.at("required") == boost::json::array{"destination"});
  harness on(c);
  CHECK(on.control.handles("end_call"));
  CHECK(on.control.handles("transfer_call"));
  CHECK_FALSE(on.control.handles("lookup_order"));

  c.end_call = false;
  c.transfers.clear();
  declare_builtin_tools(session, c);
  REQUIRE(session.tools.size() == 1);
  harness off(c);
  CHECK_FALSE(off.control.handles("end_call"));
  CHECK_FALSE(off.control.handles("transfer_call"));
}
