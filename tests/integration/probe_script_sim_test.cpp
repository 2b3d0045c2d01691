// The probe's scripted exchange (probe/probe_script.hpp) against the upstream simulator over a real
// loopback WebSocket, for each protocol: the script finishes, and the stages the simulator performs
// are measured (docs/latency.md "Probe stages"). The prober's own tests cover its I/O shell.

#include "probe/probe_script.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <simdjson.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "probe/utterance.hpp"
#include "tests/integration/support/sim_client.hpp"
#include "upstream/provider.hpp"

namespace {

using namespace mb;
using namespace std::chrono_literals;
using clock = probe::probe_script::clock;
using upstream::provider_kind;

// Carries out what the script returns: one loop reads and feeds it, one writes its messages and wakes it.
struct script_runner {
  probe::probe_script& script;
  net::message_socket& ws;
  asio::steady_timer wake;
  std::vector<std::string> pending;

  net::awaitable<void> read_loop() {
    std::string buffer;
    while (!script.finished()) {
      const auto r = co_await ws.read(buffer, simdjson::SIMDJSON_PADDING);
      if (r.status != net::read_status::message) {
        script.on_closed("the simulator closed", clock::now());
        break;
      }
      script.on_message(buffer, buffer.capacity(), clock::now(), pending);
      wake.cancel();
    }
  }

  net::awaitable<void> write_loop() {
    while (!script.finished()) {
      const auto batch = std::exchange(pending, {});
      for (const auto& message : batch) {
        const auto ec = co_await net::write_message(ws, message);
        REQUIRE_FALSE(ec);
      }
      if (!pending.empty()) continue;
      wake.expires_at(script.next_wakeup());
      co_await wake.async_wait(net::as_tuple_awaitable);
      if (clock::now() >= script.next_wakeup()) script.on_tick(clock::now(), pending);
    }
  }
};

probe::probe_run play(const test::running_simulator& sim, provider_kind provider) {
  protocol::session_config config;
  config.instructions = "You are a latency probe.";
  config.model = "gpt-live-1";
  config.transcription_model = "gpt-4o-transcribe";
  probe::probe_run run;
  test::run_client(
      [&]() -> net::awaitable<void> {
        const std::string url = provider == provider_kind::openai_realtime ? sim.realtime_url()
                                : provider == provider_kind::openai_live   ? sim.live_url()
                                                                           : sim.gemini_url();
        test::upgrade_headers headers{{"Authorization", "Bearer sk-test"}, {"x-goog-api-key", "test-key"}};
        const probe::script_options options{probe::utterance(), 20000ms, 1000ms};
        probe::probe_run identity;
        identity.provider = upstream::to_string(provider);
        identity.agent = "default";
        probe::probe_script script(upstream::make_adapter(provider), config, options, std::move(identity),
                                   clock::now());
        auto client = co_await test::open_client(url, std::move(headers));
        const auto executor = co_await asio::this_coro::executor;
        script_runner runner{script, *client.ws, asio::steady_timer(executor), {}};
        script.on_connected({}, clock::now(), runner.pending);
        using namespace asio::experimental::awaitable_operators;
        co_await (runner.read_loop() || runner.write_loop());
        run = script.result();
      },
      30s);
  return run;
}

}  // namespace

TEST_CASE("probe_script against the simulator: the script finishes on every protocol", "[probe_script_sim]") {
  test::running_simulator sim;
  for (const auto provider : {provider_kind::openai_realtime, provider_kind::openai_live, provider_kind::gemini_live}) {
    INFO(upstream::to_string(provider));
    const auto run = play(sim, provider);
    INFO(run.error_detail);
    REQUIRE(run.ok());
    using probe::stage;
    for (const auto s : {stage::session, stage::first_audio, stage::audio_span, stage::audio_length,
                         stage::text_first_audio, stage::chunk_gap_p50, stage::chunk_gap_max}) {
      INFO(probe::to_string(s));
      CHECK(run.at(s).has_value());
    }
    // The simulator's answer: response_ms (2 s) of audio, sent 4 times faster than real time.
    CHECK(run.at(stage::audio_length).value_or(0) == Approx(2000.0).margin(100.0));
    CHECK(run.at(stage::audio_span).value_or(0) < 1000.0);
    // It calls tools only when scripted to: the tool stages stay empty.
    CHECK_FALSE(run.at(stage::tool_call));
    CHECK(run.at(stage::transcript_final).has_value());
    // Gemini says nothing when the caller starts speaking (docs/protocols.md K2).
    CHECK(run.at(stage::speech_started).has_value() == (provider != provider_kind::gemini_live));
  }
}

TEST_CASE("probe_script against the simulator: an echo call the model makes unasked is answered with its text",
          "[probe_script_sim]") {
  // The simulated model calls probe_echo instead of answering the caller's speech, then speaks about
  // its result: the answer's audio still ends the utterance's wait.
  simulator::simulator_options options;
  options.tool_call_script = {{1, std::string(probe::echo_tool_name), R"({"text":"ping"})"}};
  test::running_simulator sim(options);
  const auto providers = {provider_kind::openai_realtime, provider_kind::openai_live, provider_kind::gemini_live};
  for (const auto provider : providers) {
    INFO(upstream::to_string(provider));
    const auto run = play(sim, provider);
    INFO(run.error_detail);
    REQUIRE(run.ok());
    CHECK(run.at(probe::stage::first_audio).has_value());
    CHECK_FALSE(run.at(probe::stage::tool_call));  // not the turn that asked for it
  }
  const auto sessions = sim.simulator.sessions();
  REQUIRE(sessions.size() == std::size(providers));
  for (const auto& s : sessions) {
    REQUIRE(s.tool_results.size() == 1);
    CHECK(s.tool_results[0].output.find(R"("text":"ping")") != std::string::npos);
  }
}
