// bridge/sip_session against the simulated OpenAI SIP control plane over real loopback sockets: the
// call's admission, OpenAI's accept (retried), the sideband's transcripts into the call's events, a
// dropped sideband reconnected, and the call's end. The webhook in front of it is the server's (its own
// tests); here each call is placed on the simulator and handed to start_sip_call as the webhook would.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "bridge/call_registry.hpp"
#include "bridge/sip_session.hpp"
#include "call/end_reasons.hpp"
#include "metrics/bridge_metrics.hpp"
#include "metrics/metrics.hpp"
#include "protocol/openai_sip.hpp"
#include "telephony/openai_calls.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/sim_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace sim = mb::simulator;
using mb::bridge::sip_admission;
using mb::call::role;

constexpr auto wait_limit = 10s;

// The bridge's side of SIP calls: an io_context of its own, a registry, the control-plane client and
// a bridge_context pointing at the simulator, with short reconnect backoffs.
struct sip_bridge {
  explicit sip_bridge(sim::simulator_options options, std::size_t max_calls = 4)
      : simulator(std::move(options)),
        registry(mb::admission::admission_limits{.calls = max_calls, .pending = 4}),
        calls({.timeout_ms = 2000, .accept_retries = 3, .base_backoff_ms = 20}, nullptr),
        metrics(metrics_registry, mb::call::end_reason_names()) {
    ctx.registry = &registry;
    ctx.events = &events;
    ctx.openai_calls = &calls;
    ctx.metrics = &metrics;
    ctx.upstream_limits = {.max_message_bytes = 1 << 20, .handshake_timeout_ms = 3000, .idle_timeout_ms = 10000};
    ctx.upstream_connect_timeout = 3s;
    ctx.lifecycle.backoff_base = 20ms;
    ctx.lifecycle.backoff_cap = 100ms;
    ctx.lifecycle.close_grace = 2s;
    thread = std::thread([this] { ioc.run(); });
  }
  ~sip_bridge() {
    registry.stop_all();
    wait_idle();  // calls still running end within their closing grace
    work.reset();
    ioc.stop();
    thread.join();
  }

  // True once no call is registered (the last one's session is gone), within the limit.
  bool wait_idle() {
    auto idle = std::make_shared<std::promise<void>>();
    registry.on_idle([idle] { idle->set_value(); });
    return idle->get_future().wait_for(wait_limit) == std::future_status::ready;
  }

  // What the webhook would decide for the simulator's call `call_id`, answered under `call_sid`.
  mb::bridge::sip_call_setup setup_for(const std::string& call_id, const std::string& call_sid) const {
    const auto runtime = mb::protocol::sip_runtime::realtime;
    const auto url = simulator.realtime_url();
    mb::bridge::sip_call_setup setup;
    setup.control.base_url = mb::protocol::sip_control_base(url).value_or("");
    setup.control.credential = {{"Authorization", "Bearer sk-test"}};
    setup.control.runtime = runtime;
    setup.control.call_id = call_id;
    mb::protocol::session_config session;
    session.instructions = "You answer the phone.";
    setup.accept_body = mb::protocol::accept_request(runtime, call_id, session, "gpt-realtime").body;
    setup.provider = mb::upstream::provider_kind::openai_realtime;
    setup.sideband_url = mb::protocol::sideband_url(runtime, url, call_id);
    setup.sideband_headers = {{"Authorization", "Bearer sk-test"}};
    setup.identity = {call_sid, call_id, "+15005550006", "+15005550001"};
    setup.agent = "default";
    return setup;
  }

  // Places a call on the simulator and hands it to the bridge.
  std::pair<std::string, sip_admission> place(const std::string& call_sid) {
    const auto call_id = simulator.simulator.place_sip_call({});
    return {call_id, mb::bridge::start_sip_call(setup_for(call_id, call_sid), ctx, ioc.get_executor())};
  }

  // Places a call that the bridge admits, and waits for the assistant's first final transcript.
  std::string running_call(const std::string& call_sid) {
    const auto [call_id, admission] = place(call_sid);
    REQUIRE(admission == sip_admission::admitted);
    REQUIRE(wait_reply(1));
    return call_id;
  }

  // The caller hangs up; the call's end is reported.
  void hang_up_caller(const std::string& call_id) {
    simulator.simulator.end_sip_call(call_id);
    REQUIRE(events.wait_ended(1, wait_limit));
  }

  std::optional<sim::sip_call_snapshot> snapshot(const std::string& call_id) const {
    for (auto& c : simulator.simulator.sip_calls())
      if (c.call_id == call_id) return c;
    return std::nullopt;
  }
  bool wait_sim(const std::string& call_id, const std::function<bool(const sim::sip_call_snapshot&)>& pred) const {
    return simulator.simulator.wait_for_sip(
        [&](const auto& calls) {
          return std::any_of(calls.begin(), calls.end(), [&](const auto& c) { return c.call_id == call_id && pred(c); });
        },
        wait_limit);
  }

  std::size_t finals(const std::string& call_sid, role speaker) const {
    const auto all = events.events();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [&](const auto& e) {
      const auto* f = std::get_if<mb::call::transcript_final>(&e.event);
      return e.call.call_sid == call_sid && f && f->speaker == speaker;
    }));
  }
  // The simulator's assistant says "This is simulated reply number N." in its N-th scripted turn.
  bool wait_reply(int n) const {
    const auto words = "reply number " + std::to_string(n) + ".";
    return events.wait_for_event(
        [&](const mb::call::call_event& e) {
          const auto* f = std::get_if<mb::call::transcript_final>(&e);
          return f && f->speaker == role::assistant && f->text.find(words) != std::string::npos;
        },
        wait_limit);
  }

  mb::test::running_simulator simulator;
  mb::test::log_capture logs;
  mb::asio::io_context ioc;
  std::optional<mb::asio::executor_work_guard<mb::asio::io_context::executor_type>> work{ioc.get_executor()};
  mb::bridge::call_registry registry;
  mb::telephony::openai_calls calls;
  mb::metrics::registry metrics_registry;
  mb::metrics::bridge_metrics metrics;
  mb::test::recording_sink events;
  mb::bridge::bridge_context ctx;
  std::thread thread;
};

sim::simulator_options script(std::size_t turns, std::uint32_t accept_failures = 0) {
  sim::simulator_options options;
  options.sip_conversation.turns.assign(turns, {});
  options.sip_conversation.turn_gap_ms = 100;
  options.sip_conversation.word_gap_ms = 5;
  options.sip_accept_failures = accept_failures;
  return options;
}

}  // namespace

TEST_CASE("sip session: accepted, the sideband's transcripts published, ended by the caller",
          "[sip][sip_session]") {
  sip_bridge b(script(2));
  const auto call_id = b.running_call("CAsip1");
  REQUIRE(b.wait_reply(2));
  CHECK(b.finals("CAsip1", role::caller) >= 2);

  const auto events = b.events.events();
  REQUIRE_FALSE(events.empty());
  const auto* started = std::get_if<mb::call::call_started>(&events.front().event);
  REQUIRE(started != nullptr);
  CHECK(started->transport == "sip");
  CHECK(events.front().call.stream_sid == call_id);

  b.hang_up_caller(call_id);
  const auto ended = b.events.ended();
  CHECK(ended.front().first.call_sid == "CAsip1");
  CHECK(ended.front().second.reason == mb::call::end_reason::caller_hung_up);
  const auto snap = b.snapshot(call_id);
  REQUIRE(snap);
  CHECK(snap->accept_attempts == 1);
  CHECK(snap->sideband_connects == 1);
  CHECK(snap->hangups == 0);  // the caller ended it: nothing for the bridge to hang up
  CHECK(b.logs.wait_for("call CAsip1: ended reason=caller_hung_up"));
  CHECK(b.wait_idle());  // the slot is given back just after the summary line
}

TEST_CASE("sip session: an accept failing twice is retried, then the call runs", "[sip][sip_session]") {
  sip_bridge b(script(1, 2));
  const auto call_id = b.running_call("CAsip2");
  const auto snap = b.snapshot(call_id);
  REQUIRE(snap);
  CHECK(snap->accept_attempts == 3);
  CHECK(b.logs.wait_for("(3 attempt(s))"));
  b.hang_up_caller(call_id);
}

TEST_CASE("sip session: an accept that keeps failing drops the call with nothing published",
          "[sip][sip_session]") {
  sip_bridge b(script(1, 10));
  const auto [call_id, admission] = b.place("CAsip3");
  REQUIRE(admission == sip_admission::admitted);
  REQUIRE(b.logs.wait_for("call CAsip3: OpenAI call " + call_id + " not accepted after"));
  REQUIRE(b.wait_idle());
  CHECK(b.events.events().empty());
  CHECK(b.events.ended().empty());
  CHECK(b.metrics.sip_accept_failed.value() == 1);
  const auto snap = b.snapshot(call_id);
  REQUIRE(snap);
  CHECK(snap->sideband_connects == 0);
}

TEST_CASE("sip session: a dropped sideband is reconnected and the transcripts go on", "[sip][sip_session]") {
  sip_bridge b(script(4));
  const auto call_id = b.running_call("CAsip4");
  b.simulator.simulator.drop_sideband(call_id);
  REQUIRE(b.wait_sim(call_id, [](const auto& c) { return c.sideband_connects >= 2 && c.sideband_open; }));
  REQUIRE(b.wait_reply(4));
  // One call throughout: started once, not ended by the drop.
  const auto events = b.events.events();
  CHECK(std::count_if(events.begin(), events.end(),
                      [](const auto& e) { return std::holds_alternative<mb::call::call_started>(e.event); }) == 1);
  CHECK(b.events.ended().empty());
  b.hang_up_caller(call_id);
  CHECK(b.events.ended().front().second.reason == mb::call::end_reason::caller_hung_up);
}

TEST_CASE("sip session: full or already live is refused at once with nothing started", "[sip][sip_session]") {
  sip_bridge b(script(3), 1);
  const auto first_id = b.running_call("CAsip5");
  const auto [second_id, second] = b.place("CAsip6");
  CHECK(second == sip_admission::full);
  const auto [again_id, again] = b.place("CAsip5");
  CHECK(again == sip_admission::already_live);
  b.hang_up_caller(first_id);
  for (const auto& e : b.events.events()) CHECK(e.call.call_sid == "CAsip5");
  CHECK(b.events.ended().size() == 1);
  for (const auto& id : {second_id, again_id}) {
    const auto snap = b.snapshot(id);
    REQUIRE(snap);
    CHECK(snap->accept_attempts == 0);
    CHECK(snap->sideband_connects == 0);
  }
}

TEST_CASE("sip session: a drain hangs the call up at OpenAI and ends it", "[sip][sip_session]") {
  sip_bridge b(script(20));
  const auto call_id = b.running_call("CAsip7");
  b.registry.stop_all();
  REQUIRE(b.events.wait_ended(1, wait_limit));
  CHECK(b.events.ended().front().second.reason == mb::call::end_reason::shutdown);
  REQUIRE(b.wait_sim(call_id, [](const auto& c) { return c.hangups == 1 && !c.sideband_open; }));
}
