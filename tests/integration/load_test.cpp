// The load generator end to end, small enough for every test run: 20 concurrent calls for 10 s
// through a real server, a quarter of them barging in. Keeps tools/load_gen working, and checks what
// the benchmarks rely on: no failed call, and no frame lost, duplicated, reordered or misrouted.

#include <catch2/catch.hpp>

#include <memory>

#include "tests/integration/support/bridge_harness.hpp"
#include "tools/load_gen/load_run.hpp"

using namespace mb;

TEST_CASE("load: 20 concurrent calls for 10 s relay every frame in order", "[integration][load]") {
  constexpr std::size_t calls = 20;
  auto probe = std::make_shared<tools::load::load_probe>(calls, 50);
  test::harness_options h;
  h.simulator.record_audio = false;
  h.simulator.record_events = false;
  h.simulator.probe = probe;
  test::bridge_harness harness(h);

  tools::load::load_options o;
  o.webhook_url = harness.webhook_url();
  o.calls = calls;
  o.ramp_per_s = 40;
  o.duration_s = 10;
  o.barge_in_share = 0.25;
  const auto r = tools::load::run_load(o, *probe);
  INFO(r.table());

  CHECK(r.calls_ok == calls);
  CHECK(r.calls_failed == 0);
  CHECK(r.steady_window);
  // Every caller frame reached the upstream, once and in order; every assistant chunk reached the
  // caller except the ones a barge-in cleared.
  CHECK(r.up_frames.sent >= calls * 9 * 50);
  CHECK(r.up_frames.received == r.up_frames.sent);
  CHECK(r.down_frames.received > 0);
  CHECK(r.up_frames.unstamped == 0);
  CHECK(r.down_frames.unstamped == 0);
  CHECK(r.clean());
  // Every upstream session spoke the provider the report names.
  CHECK(r.provider_sessions >= calls);
  CHECK(r.other_provider_sessions == 0);
  CHECK(r.to_json().at("provider").as_string() == "openai-realtime");
  // The barge-in calls were cut, and the bridge truncated what they had heard.
  CHECK(r.clears > 0);
  CHECK(r.clears_without_speech == 0);
  CHECK(r.barge_in_clear.count > 0);
  CHECK(r.truncates > 0);
  CHECK(r.truncates_unmatched == 0);
  CHECK(r.caller_to_upstream.count > 0);
  CHECK(r.upstream_to_caller.count > 0);
}
