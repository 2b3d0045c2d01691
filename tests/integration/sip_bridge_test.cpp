// OpenAI's SIP mode end to end, through the real server and the simulators only: Twilio's voice webhook
// answers <Dial><Sip>, the simulated Twilio rings the simulated OpenAI, whose signed webhooks the server
// verifies and accepts once; the sideband's conversation then reaches a listener and the history as a
// Media Streams call's does, and the call ends when the caller hangs up.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "routing/route.hpp"
#include "simulator/sip_control.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/sim_client.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;
using namespace std::chrono_literals;

namespace {

const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

constexpr const char* profiles = R"({"agents": {
  "front": {"mode": "sip", "numbers": ["+15005550001"], "instructions": "You answer the front desk."},
  "live": {"mode": "sip", "provider": "openai-live", "numbers": ["+15005550002"]}
}})";

simulator::simulator_options three_turns() {
  simulator::simulator_options options;
  options.sip_conversation.turns.assign(3, {});
  options.sip_conversation.turn_gap_ms = 200;
  options.sip_conversation.word_gap_ms = 10;
  return options;
}

struct sip_fixture {
  test::temp_dir dir;
  std::string agents_file = dir.write("agents.json", profiles);
  test::bridge_harness h{{.simulator = three_turns(),
                          .tweak =
                              [this](config::settings& s, bridge::bridge_context&) {
                                s.agents_file = agents_file;
                                s.openai_webhook_secret = config::secret(secret);
                              },
                          .listeners = true}};
  test::listener_client listener{{.port = h.port()}};

  sip_fixture() {
    // The simulated OpenAI learns the server's address once it listens, as in demo mode.
    h.simulator().set_sip_webhook(
        "http://127.0.0.1:" + std::to_string(h.port()) + std::string(routing::openai_webhook_path), secret);
    REQUIRE(listener.wait_connected());
  }

  // A Twilio call to `to`: the voice webhook dials it to the simulated OpenAI. Returns its CallSid and call id.
  std::pair<std::string, std::string> dial(const std::string& to) {
    auto options = h.call({});
    options.to = to;
    const auto reports = h.run({options});
    REQUIRE(reports.size() == 1);
    REQUIRE(reports[0].outcome == tools::twilio::call_outcome::sip_dialed);
    REQUIRE_FALSE(reports[0].sip_call_id.empty());
    return {reports[0].call_sid, reports[0].sip_call_id};
  }

  [[nodiscard]] simulator::sip_call_snapshot snapshot(const std::string& id) {
    for (const auto& c : h.simulator().sip_calls())
      if (c.call_id == id) return c;
    FAIL("call " << id << " not on the simulator");
    return {};
  }
  bool wait_for(const std::string& id, const std::function<bool(const simulator::sip_call_snapshot&)>& pred) {
    return h.simulator().wait_for_sip(
        [&](const auto& calls) {
          for (const auto& c : calls)
            if (c.call_id == id) return pred(c);
          return false;
        },
        10s);
  }

  // Of the listener's `events`, those of `call_sid` of one type.
  using events_t = test::listener_client::events_t;
  [[nodiscard]] static events_t seen(const events_t& events, const std::string& call_sid, std::string_view type) {
    events_t out;
    for (const auto& e : events) {
      const auto* sid = e.if_contains("call_sid");
      const auto* t = e.if_contains("type");
      if (sid && t && sid->is_string() && sid->as_string() == call_sid && t->as_string() == type) out.push_back(e);
    }
    return out;
  }
  [[nodiscard]] static std::size_t finals(const events_t& events, const std::string& call_sid,
                                         std::string_view role) {
    std::size_t n = 0;
    for (const auto& e : seen(events, call_sid, "transcript.final"))
      n += e.at("role").as_string() == role;
    return n;
  }
};

}  // namespace

TEST_CASE("sip mode: a Twilio call dialled to OpenAI is accepted once, watched to its end, and stored",
          "[integration][sip][sip_bridge]") {
  sip_fixture f;
  const auto [call_sid, call_id] = f.dial("+15005550001");

  // OpenAI raises both runtimes' events; the Realtime profile accepts the Realtime one, once.
  REQUIRE(f.wait_for(call_id, [](const auto& c) { return c.turns_done >= 1; }));
  auto call = f.snapshot(call_id);
  REQUIRE(call.webhooks.size() == 2);
  CHECK(call.webhooks[0].status == 200);
  CHECK(call.webhooks[1].status == 200);
  REQUIRE(call.accepted_runtime);
  CHECK(*call.accepted_runtime == protocol::sip_runtime::realtime);
  std::size_t accepts = 0;
  for (const auto& r : call.requests) accepts += r.action == simulator::sip_action::accept;
  CHECK(accepts == 1);
  const auto accepted = boost::json::parse(call.accept_body).as_object();
  CHECK(accepted.at("type").as_string() == "realtime");
  CHECK(accepted.at("instructions").as_string() == "You answer the front desk.");

  // The sideband drops mid-call: the bridge reconnects, the conversation goes on, the call is one call.
  // (A turn the drop cut is played again on the new sideband; the cut one is closed at the call's end.)
  f.h.simulator().drop_sideband(call_id);
  REQUIRE(f.wait_for(call_id, [](const auto& c) { return c.sideband_connects >= 2 && c.turns_done >= 3; }));
  REQUIRE(f.listener.wait_for(
      [&](const auto& events) { return sip_fixture::finals(events, call_sid, "assistant") >= 2; }));

  f.h.simulator().end_sip_call(call_id);
  REQUIRE(f.listener.wait_for([&](const auto& events) { return !sip_fixture::seen(events, call_sid, "call.ended").empty(); }));
  const auto events = f.listener.events();
  CHECK(sip_fixture::seen(events, call_sid, "call.ended")[0].at("reason").as_string() == "caller_hung_up");
  CHECK(sip_fixture::finals(events, call_sid, "assistant") >= 3);
  CHECK(sip_fixture::finals(events, call_sid, "caller") >= 3);
  const auto started = sip_fixture::seen(events, call_sid, "call.started");
  REQUIRE(started.size() == 1);
  CHECK(started[0].at("transport").as_string() == "sip");
  CHECK(started[0].at("agent").as_string() == "front");
  CHECK(f.snapshot(call_id).hangups == 0);  // the caller ended it: nothing for the bridge to hang up

  // The history has the call as the listener saw it.
  f.h.history()->flush();
  const auto detail = test::http("GET", "http://127.0.0.1:" + std::to_string(f.h.port()) + "/v1/calls/" + call_sid, {}, "");
  REQUIRE(detail.status == 200);
  const auto stored = boost::json::parse(detail.body).as_object();
  CHECK(stored.at("transport").as_string() == "sip");
  CHECK(stored.at("stream_sid").as_string() == call_id);
  CHECK(stored.at("end_reason").as_string() == "caller_hung_up");
  CHECK(stored.at("transcript").as_array().size() == sip_fixture::seen(events, call_sid, "transcript.final").size());
  auto idle = std::make_shared<std::promise<void>>();
  f.h.registry().on_idle([idle] { idle->set_value(); });
  CHECK(idle->get_future().wait_for(5s) == std::future_status::ready);  // the call's slot is given back
}

TEST_CASE("sip mode: a GPT-Live profile accepts GPT-Live's event and ignores the Realtime one",
          "[integration][sip][sip_bridge]") {
  sip_fixture f;
  const auto [call_sid, call_id] = f.dial("+15005550002");
  REQUIRE(f.wait_for(call_id, [](const auto& c) { return c.turns_done >= 3; }));
  const auto call = f.snapshot(call_id);
  REQUIRE(call.accepted_runtime);
  CHECK(*call.accepted_runtime == protocol::sip_runtime::live);
  std::size_t accepts = 0;
  for (const auto& r : call.requests) accepts += r.action == simulator::sip_action::accept;
  CHECK(accepts == 1);
  CHECK(boost::json::parse(call.accept_body).at("session").at("type").as_string() == "live");
  REQUIRE(f.listener.wait_for([&](const auto& events) { return sip_fixture::finals(events, call_sid, "assistant") >= 3; }));
  CHECK(sip_fixture::seen(f.listener.events(), call_sid, "call.started").at(0).at("agent").as_string() == "live");

  // GPT-Live says the caller hung up (session.closed, remote_hangup) before the sideband closes.
  f.h.simulator().end_sip_call(call_id);
  REQUIRE(f.listener.wait_for([&](const auto& events) { return !sip_fixture::seen(events, call_sid, "call.ended").empty(); }));
  CHECK(sip_fixture::seen(f.listener.events(), call_sid, "call.ended")[0].at("reason").as_string() == "caller_hung_up");
}

TEST_CASE("sip mode: the model's webhook tool and its transfer work on a SIP call (refer at OpenAI)",
          "[integration][sip][sip_bridge]") {
  test::running_simulator hooks;  // the tool's webhook: it echoes the arguments
  const test::temp_dir dir;
  const auto agents_file = dir.write(
      "agents.json",
      R"({"agents":{"desk":{"mode":"sip","numbers":["+15005550003"],"tools":[{"name":"lookup_order",)"
      R"("description":"Finds an order.","parameters":{"type":"object","properties":{"order_id":{"type":"string"}}},)"
      R"("url":")" + hooks.simulator.tool_url("lookup_order") +
          R"("}],"transfers":{"sales":{"target":"+15551230000"}}}}})");
  auto options = three_turns();
  options.sip_conversation.tool_calls = {{1, "lookup_order", R"({"order_id":"A-17"})"},
                                         {2, "transfer_call", R"({"destination":"sales"})"}};
  test::bridge_harness h({.simulator = options,
                          .tweak = [&](config::settings& s, bridge::bridge_context&) {
                            s.agents_file = agents_file;
                            s.openai_webhook_secret = config::secret(secret);
                          }});
  h.simulator().set_sip_webhook(
      "http://127.0.0.1:" + std::to_string(h.port()) + std::string(routing::openai_webhook_path), secret);
  auto call_options = h.call({});
  call_options.to = "+15005550003";
  const auto reports = h.run({call_options});
  REQUIRE(reports.at(0).outcome == tools::twilio::call_outcome::sip_dialed);
  const auto call_id = reports[0].sip_call_id;

  const auto call_of = [&](const auto& calls) -> const simulator::sip_call_snapshot* {
    for (const auto& c : calls)
      if (c.call_id == call_id) return &c;
    return nullptr;
  };
  REQUIRE(h.simulator().wait_for_sip(
      [&](const auto& calls) {
        const auto* c = call_of(calls);
        return c && !c->refers.empty() && c->tool_results.size() >= 2;
      },
      10s));
  const auto calls = h.simulator().sip_calls();
  const auto& call = *call_of(calls);
  // The accept declared the agent's tool and the built-in transfer.
  const auto accepted = boost::json::parse(call.accept_body).as_object();
  std::vector<std::string> declared;
  for (const auto& t : accepted.at("tools").as_array()) declared.emplace_back(t.at("name").as_string());
  CHECK(std::find(declared.begin(), declared.end(), "lookup_order") != declared.end());
  CHECK(std::find(declared.begin(), declared.end(), "transfer_call") != declared.end());
  // The webhook's answer went back to the model over the sideband; the transfer was a refer.
  CHECK(call.tool_results[0].output.find("A-17") != std::string::npos);
  CHECK(call.refers == std::vector<std::string>{"tel:+15551230000"});
  CHECK(hooks.simulator.tool_requests().size() == 1);

  // The same tool and control events as a Media Streams call's.
  REQUIRE(h.events().wait_for_event(
      [](const call::call_event& e) {
        const auto* c = std::get_if<call::call_control>(&e);
        return c && c->action == "transfer" && c->status == "done";
      },
      5s));
  bool tool_result_ok = false;
  for (const auto& e : h.events().events())
    if (const auto* r = std::get_if<call::tool_result>(&e.event); r && r->name == "lookup_order") tool_result_ok = r->ok;
  CHECK(tool_result_ok);
  h.simulator().end_sip_call(call_id);
  CHECK(h.events().wait_ended(1));
}
