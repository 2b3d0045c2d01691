// Tools and call control on every provider, end to end: simulated Twilio → mediabridge → the
// simulator speaking each provider's protocol, whose model calls tools (docs/tools.md; the wire shapes
// per provider in docs/protocols.md I1–I4), with Twilio's REST API simulated too.

#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "call/call_control.hpp"
#include "protocol/webhook_signature.hpp"
#include "tests/integration/support/call_results.hpp"
#include "tests/integration/support/sim_client.hpp"
#include "tests/integration/support/simulated_twilio_rest.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;
using upstream::provider_kind;
namespace json = boost::json;

namespace {

constexpr std::string_view secret = "whsec-cross-provider-secret";

// The simulated model: quick answers, and the tool calls of `script`.
simulator::simulator_options model_calling(std::vector<simulator::scripted_tool_call> script) {
  simulator::simulator_options o;
  o.response_ms = 1000;
  o.speed = 4.0;
  o.tool_call_script = std::move(script);
  return o;
}

bool any_assistant_final_contains(test::bridge_harness& h, std::string_view text) {
  const auto finals = test::published<call::transcript_final>(h);
  return std::any_of(finals.begin(), finals.end(), [&](const call::transcript_final& f) {
    return f.speaker == call::role::assistant && f.text.find(text) != std::string::npos;
  });
}

bool declared(const simulator::session_snapshot& s, std::string_view tool) {
  return std::any_of(s.declared_tools.begin(), s.declared_tools.end(), [&](const auto& t) { return t.name == tool; });
}

}  // namespace

TEST_CASE("every provider declares the agent's tools, calls them, and gets the signed webhook's answer, a timeout's "
          "or an error status's error result",
          "[integration][tools_bridge]") {
  const auto provider = GENERATE(provider_kind::openai_realtime, provider_kind::openai_live,
                                 provider_kind::azure_realtime, provider_kind::azure_live, provider_kind::gemini_live);
  INFO(upstream::to_string(provider));
  simulator::simulator_options webhook_options;
  webhook_options.tool_webhook_secret = secret;
  webhook_options.tool_replies["slow_lookup"] = {.kind = simulator::tool_reply_kind::echo, .delay = 3000ms};
  webhook_options.tool_replies["broken_lookup"] = {.kind = simulator::tool_reply_kind::fixed, .body = "{}", .status = 500};
  test::running_simulator hooks(webhook_options);
  auto tool = [&](std::string_view name, int timeout_ms) {
    return R"({"name":")" + std::string(name) + R"(","description":"Finds an order.",)" +
           R"("parameters":{"type":"object","properties":{"order_id":{"type":"string"}}},"url":")" +
           hooks.simulator.tool_url(name) + R"(","timeout_ms":)" + std::to_string(timeout_ms) + "}";
  };
  const test::temp_dir dir;
  const auto agents_file = dir.write("agents.json", R"({"agents":{"default":{"tools":[)" + tool("lookup_order", 5000) +
                                                        "," + tool("slow_lookup", 300) + "," +
                                                        tool("broken_lookup", 5000) + "]}}}");
  test::bridge_harness h({.simulator = model_calling({{1, "lookup_order", R"({"order_id":"A-17"})"},
                                                      {2, "slow_lookup", R"({"order_id":"A-18"})"},
                                                      {3, "broken_lookup", R"({"order_id":"A-19"})"}}),
                          .provider = provider,
                          .tweak = [&](config::settings& s, bridge::bridge_context& b) {
                            s.agents_file = agents_file;
                            b.tool_webhook_secret = secret;
                          }});

  const auto report = h.run({h.call({{audio_kind::speech, 400}, {audio_kind::silence, 3000}, {audio_kind::speech, 400},
                                     {audio_kind::silence, 3000}, {audio_kind::speech, 400},
                                     {audio_kind::silence, 3000}})})
                          .at(0);
  INFO(report.failure);
  REQUIRE(report.ok());  // no tool ends the call
  REQUIRE(h.events().wait_ended(1));

  // The provider was told of the tools (and of the built-in end_call), in its own session shape.
  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 1);
  const auto& session = sessions[0];
  REQUIRE(session.provider == provider);
  CHECK(declared(session, "lookup_order"));
  CHECK(declared(session, "slow_lookup"));
  CHECK(declared(session, "end_call"));

  // One signed webhook request per call, with the model's arguments.
  REQUIRE(hooks.simulator.wait_for_tool_requests([](const auto& r) { return r.size() == 3; }, 5s));
  const auto requests = hooks.simulator.tool_requests();
  REQUIRE(requests.size() == 3);
  for (const auto& r : requests) {
    REQUIRE(r.signature_check);
    CHECK(*r.signature_check == protocol::webhook_check::valid);
  }
  CHECK(json::parse(requests[0].body).at("arguments") == json::parse(R"({"order_id":"A-17"})"));

  // Each answer went back under the model's call id: the echo, then two error results; the model spoke
  // the first, and every call and result is a call event.
  REQUIRE(session.tool_calls.size() == 3);
  REQUIRE(session.tool_results.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(session.tool_results[i].call_id == session.tool_calls[i].call_id);
  // Gemini carries a result as the response's `output` (docs/protocols.md I3).
  auto answer = json::parse(R"({"ok":true,"tool":"lookup_order","arguments":{"order_id":"A-17"}})");
  if (provider == provider_kind::gemini_live) answer = json::object{{"output", answer}};
  CHECK(json::parse(session.tool_results[0].output) == answer);
  CHECK(session.tool_results[1].output.find("timed out after 300 ms") != std::string::npos);
  CHECK(session.tool_results[2].output.find("the webhook answered HTTP 500") != std::string::npos);
  CHECK(any_assistant_final_contains(h, "A-17"));
  const auto calls = test::published<call::tool_call>(h);
  const auto results = test::published<call::tool_result>(h);
  REQUIRE(calls.size() == 3);
  REQUIRE(results.size() == 3);
  CHECK(calls[0].tool_call_id == session.tool_calls[0].call_id);
  CHECK(results[0].ok);
  CHECK_FALSE(results[1].ok);
  CHECK_FALSE(results[2].ok);
}

TEST_CASE("the model's end_call hangs up through Twilio's REST API only once its goodbye has played",
          "[integration][tools_bridge]") {
  const auto provider =
      GENERATE(provider_kind::openai_realtime, provider_kind::openai_live, provider_kind::gemini_live);
  INFO(upstream::to_string(provider));
  test::simulated_twilio_rest rest;
  test::bridge_harness h({.simulator = model_calling({{1, "end_call", R"({"reason":"the caller is done"})"}}),
                          .provider = provider,
                          .tweak = [&](config::settings&, bridge::bridge_context& b) {
                            rest.attach(b);
                            call::declare_builtin_tools(b.session, b.tools);
                          }});
  auto options = h.call({{audio_kind::speech, 400}});
  options.hangup_when_audio_ends = false;
  options.hangup_after_ms = 8000;  // Twilio would end the stream on the hang-up; the simulated caller waits
  auto running = std::async(std::launch::async, [&h, options] { return h.run({options}); });

  REQUIRE(h.events().wait_for_event(
      [](const call::call_event& e) {
        const auto* c = std::get_if<call::call_control>(&e);
        return c && c->action == "hang_up" && c->status == "done";
      },
      10s));
  const auto report = running.get().at(0);
  const auto hung_up = rest.sim.call(report.call_sid);
  REQUIRE(hung_up);
  CHECK(hung_up->completions == 1);

  // The goodbye was spoken and played out in full before the hang-up was sent.
  CHECK(any_assistant_final_contains(h, simulator::goodbye_text));
  const auto requests = rest.sim.snapshot().requests;
  const auto completed = std::find_if(requests.begin(), requests.end(),
                                      [](const auto& r) { return protocol::form_value(r.form, "Status") == "completed"; });
  REQUIRE(completed != requests.end());
  // Every mark sent before the hang-up had come back played by then (a reply the model may add after
  // the result is not waited for).
  REQUIRE_FALSE(report.marks.empty());
  for (const auto& m : report.marks)
    if (m.received < completed->at) CHECK(m.echoed <= completed->at);
  CHECK(std::none_of(report.marks.begin(), report.marks.end(), [](const auto& m) { return m.cleared; }));
  const auto controls = test::published<call::call_control>(h);
  REQUIRE_FALSE(controls.empty());
  CHECK(controls[0].by == "model");
  CHECK(controls[0].status == "requested");
}

TEST_CASE("the model's transfer_call dials an allowlisted destination and is refused anything else",
          "[integration][tools_bridge]") {
  const auto provider =
      GENERATE(provider_kind::openai_realtime, provider_kind::openai_live, provider_kind::gemini_live);
  INFO(upstream::to_string(provider));
  test::simulated_twilio_rest rest;
  test::bridge_harness h(
      {.simulator = model_calling({{1, "transfer_call", R"({"destination":"+15550001111"})"},
                                   {2, "transfer_call", R"({"destination":"sales"})"}}),
       .provider = provider,
       .tweak = [&](config::settings&, bridge::bridge_context& b) {
         rest.attach(b);
         b.tools.transfers = {{"sales", "+15551230000", ""}};
         call::declare_builtin_tools(b.session, b.tools);
       }});
  auto options = h.call({{audio_kind::speech, 400}, {audio_kind::silence, 3000}, {audio_kind::speech, 400}});
  options.hangup_when_audio_ends = false;
  options.hangup_after_ms = 9000;
  auto running = std::async(std::launch::async, [&h, options] { return h.run({options}); });

  REQUIRE(h.events().wait_for_event(
      [](const call::call_event& e) {
        const auto* c = std::get_if<call::call_control>(&e);
        return c && c->action == "transfer" && c->status == "done";
      },
      12s));
  const auto report = running.get().at(0);

  // The made-up number was refused and the model told so; only "sales" was dialled, once.
  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 1);
  REQUIRE(sessions[0].tool_results.size() >= 1);
  CHECK(sessions[0].tool_results[0].output.find("not an allowed destination") != std::string::npos);
  const auto transferred = rest.sim.call(report.call_sid);
  REQUIRE(transferred);
  REQUIRE(transferred->redirects.size() == 1);
  CHECK(transferred->redirects[0] ==
        R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+15551230000</Dial></Response>)");
  const auto controls = test::published<call::call_control>(h);
  REQUIRE_FALSE(controls.empty());
  CHECK(controls[0].status == "refused");
  CHECK(controls[0].by == "model");
}

TEST_CASE("DTMF digit strings reach every protocol's model as text", "[integration][tools_bridge]") {
  const auto provider =
      GENERATE(provider_kind::openai_realtime, provider_kind::openai_live, provider_kind::gemini_live);
  INFO(upstream::to_string(provider));
  test::bridge_harness h({.provider = provider, .tweak = [](config::settings&, bridge::bridge_context& b) {
                            b.tools.dtmf.gap_ms = 500;
                          }});
  auto options = h.call({{audio_kind::silence, 2500}});
  options.dtmf = {{600, '4'}, {700, '2'}, {800, '#'}};
  const auto report = h.run({options}).at(0);
  INFO(report.failure);
  REQUIRE(report.ok());
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; }, 3s));
  const auto texts = h.simulator().sessions().at(0).context_texts;
  CHECK(std::any_of(texts.begin(), texts.end(),
                    [](const std::string& t) { return t.find("keypad: 42") != std::string::npos; }));
}
