// The prober against the upstream simulator over real loopback sockets (docs/latency.md "The
// prober"): a run per protocol family and the stages it fills, a slow and a failing provider, an
// unreachable one, timeouts, PROBE_AGENTS, the schedule, stopping, and the real binary in demo mode.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "agents/demo_mode.hpp"
#include "prober/prober.hpp"
#include "server/bridge_setup.hpp"
#include "server/probe_setup.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/sim_client.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"

using namespace mb;
using namespace std::chrono_literals;
using probe::error_kind;
using probe::probe_run;
using probe::stage;
namespace sim = mb::simulator;

namespace {

// Every run the prober hands over, for the test to wait on.
class collecting_sink final : public prober::probe_sink {
 public:
  void record(const probe_run& run) override {
    {
      std::lock_guard lock(mutex_);
      runs_.push_back(run);
    }
    changed_.notify_all();
  }
  // The runs so far, once there are at least `count` (or the bound passed: then fewer).
  std::vector<probe_run> wait_for(std::size_t count, std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, bound, [&] { return runs_.size() >= count; });
    return runs_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<probe_run> runs_;
};

sim::simulator_options quick(sim::simulator_options o = {}) {
  o.response_ms = 600;
  o.speed = 4.0;
  return o;
}

// One profile per protocol family, all served by the simulator as demo mode serves them.
struct fixture {
  explicit fixture(sim::simulator_options options = quick()) : simulator(std::move(options)) {
    agents::demo_plan every_provider_simulated;
    for (const auto p : upstream::all_providers)
      every_provider_simulated.providers.push_back({.provider = p, .in_use = true, .simulated = true});
    endpoints = agents::simulated_endpoints(agents::endpoints_from(settings), every_provider_simulated,
                                            simulator.simulator.demo_urls());
    auto base = agents::profile_from(settings);
    std::vector<agents::agent_profile> profiles;
    for (const auto& [name, provider] : {std::pair{"realtime", upstream::provider_kind::openai_realtime},
                                         std::pair{"live", upstream::provider_kind::openai_live},
                                         std::pair{"gemini", upstream::provider_kind::gemini_live}}) {
      profiles.push_back(base);
      profiles.back().name = name;
      profiles.back().provider = provider;
    }
    std::string error;
    catalog = agents::agent_catalog::create(std::move(profiles), "realtime", error);
    REQUIRE(catalog);
    bridge = server::bridge_context_from(settings, endpoints);
    bridge.tls = net::tls_client_context::create("", error);
  }

  // The targets PROBE_AGENTS selects.
  std::vector<prober::probe_target> targets(const std::string& probe_agents) {
    settings.probe_agents = probe_agents;
    std::string error;
    auto selected = server::probe_targets(settings, *catalog, endpoints, bridge, error);
    INFO(error);
    REQUIRE(selected);
    return std::move(*selected);
  }

  test::running_simulator simulator;
  config::settings settings;
  agents::provider_endpoints endpoints;
  std::optional<agents::agent_catalog> catalog;
  bridge::bridge_context bridge;
};

// One run per profile at first (the interval is long), at once.
prober::prober_options once(std::chrono::milliseconds timeout = 15s) {
  prober::prober_options o;
  o.schedule = {.interval = 1h, .first_delay = 0ms, .max_stagger = 0ms};
  o.timeout = timeout;
  // The simulator answers no tool request (it calls tools only when scripted to): the script's tool
  // step waits this long before it leaves its stages empty.
  o.step_wait = 1s;
  return o;
}

// Runs a prober on its own thread until `count` runs were recorded, then stops it: its strand must run
// out of work (no timer or socket left behind). Returns the runs, in the order they ended.
std::vector<probe_run> run_probes(fixture& f, std::vector<prober::probe_target> targets, std::size_t count,
                             prober::prober_options options = once()) {
  auto sink = std::make_shared<collecting_sink>();
  asio::io_context ioc;
  prober::prober p(ioc.get_executor(), std::move(targets), std::move(options), f.bridge.tls, sink);
  p.start();
  auto finished = std::async(std::launch::async, [&ioc] { ioc.run(); });
  auto runs = sink->wait_for(count, 60s);
  p.stop();
  const bool ran_out = finished.wait_for(10s) == std::future_status::ready;
  if (!ran_out) ioc.stop();
  finished.get();
  CHECK(ran_out);
  REQUIRE(runs.size() >= count);
  return runs;
}

probe_run probe_one(fixture& f, const std::string& agent, prober::prober_options options = once()) {
  return run_probes(f, f.targets(agent), 1, std::move(options)).front();
}

double value(const probe_run& run, stage s) {
  INFO(probe::to_string(s));
  REQUIRE(run.at(s));
  return *run.at(s);
}

// The connect stages of a ws:// session: all but TLS, each positive, adding up to at most `connect`.
void check_connect_stages(const probe_run& run) {
  CHECK_FALSE(run.at(stage::tls));
  const double connect = value(run, stage::connect);
  const double parts = value(run, stage::dns) + value(run, stage::tcp) + value(run, stage::upgrade);
  CHECK(value(run, stage::tcp) > 0);
  CHECK(value(run, stage::upgrade) > 0);
  CHECK(connect >= parts - 0.01);
}

}  // namespace

TEST_CASE("a probe run of each protocol family measures its connect, session and answer stages", "[integration][prober]") {
  fixture f;
  const auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& [agent, provider] : {std::pair{"realtime", "openai-realtime"}, std::pair{"live", "openai-live"},
                                        std::pair{"gemini", "gemini"}}) {
    INFO(agent);
    const auto run = probe_one(f, agent);
    INFO(run.error_detail);
    REQUIRE(run.ok());
    CHECK(run.agent == agent);
    CHECK(run.provider == provider);
    CHECK(run.started_at_ms >= before_ms);
    check_connect_stages(run);
    CHECK(value(run, stage::session) > 0);
    CHECK(value(run, stage::first_audio) > 0);
    CHECK(value(run, stage::audio_length) > 0);
  }
  // Each run was one session of the simulator, closed by the prober with a close frame. The prober's
  // close returns with the simulator's close frame, which the simulator sends before its session
  // records the close: wait for the records.
  REQUIRE(f.simulator.simulator.wait_until(
      [](const auto& s) { return s.size() == 3 && std::all_of(s.begin(), s.end(), [](const auto& x) { return x.closed; }); },
      std::chrono::seconds(5)));
  const auto sessions = f.simulator.simulator.sessions();
  REQUIRE(sessions.size() == 3);
  for (const auto& s : sessions) {
    CHECK(s.clean_close);
    CHECK(s.close_code == 1000);
    CHECK_FALSE(s.closed_by_simulator);
  }
}

TEST_CASE("a slow provider's probe shows longer upgrade, session and first-audio stages", "[integration][prober]") {
  fixture normal;
  const auto fast = probe_one(normal, "realtime");
  auto slow_options = quick();
  slow_options.upgrade_delay_ms = 300;
  slow_options.session_updated_delay_ms = 300;
  slow_options.first_audio_delay_ms = 500;
  fixture slow_fixture(slow_options);
  const auto slow = probe_one(slow_fixture, "realtime");
  INFO(fast.error_detail << " / " << slow.error_detail);
  REQUIRE(fast.ok());
  REQUIRE(slow.ok());
  CHECK(value(slow, stage::upgrade) >= 300);
  CHECK(value(slow, stage::upgrade) > value(fast, stage::upgrade));
  CHECK(value(slow, stage::connect) >= value(slow, stage::upgrade));
  CHECK(value(slow, stage::session) >= 300);
  CHECK(value(slow, stage::session) > value(fast, stage::session));
  CHECK(value(slow, stage::first_audio) >= 500);
  CHECK(value(slow, stage::first_audio) > value(fast, stage::first_audio));
}

TEST_CASE("a provider refusing the upgrade fails the probe as auth (401, 403) or connect (others)", "[integration][prober]") {
  for (const auto& [status, kind] : {std::pair{401u, error_kind::auth}, std::pair{403u, error_kind::auth},
                                     std::pair{503u, error_kind::connect}}) {
    INFO(status);
    auto options = quick();
    options.refuse_upgrade_status = status;
    fixture f(options);
    const auto run = probe_one(f, "gemini");
    CHECK(run.error == kind);
    CHECK(run.error_detail.find(std::to_string(status)) != std::string::npos);
    CHECK_FALSE(run.at(stage::session));
    CHECK_FALSE(run.at(stage::first_audio));
    CHECK(f.simulator.simulator.stats().refused_upgrades == 1);
  }
}

TEST_CASE("a provider that closes after confirming the session fails the probe as protocol", "[integration][prober]") {
  auto options = quick();
  options.close_after_configuration = 1011;
  fixture f(options);
  const auto run = probe_one(f, "realtime");
  CHECK(run.error == error_kind::protocol);
  CHECK(run.at(stage::connect));
  CHECK_FALSE(run.at(stage::first_audio));
}

TEST_CASE("an unreachable provider fails the probe as connect", "[integration][prober]") {
  fixture f;
  auto targets = f.targets("realtime");
  targets.front().request.url = "ws://127.0.0.1:" + std::to_string(test::free_port()) + "/v1/realtime";
  const auto run = run_probes(f, std::move(targets), 1).front();
  CHECK(run.error == error_kind::connect);
  CHECK(run.error_detail.find("connect") != std::string::npos);
  CHECK_FALSE(run.at(stage::upgrade));
}

TEST_CASE("a probe that does not finish within its timeout fails as timeout, connecting or not", "[integration][prober]") {
  auto options = quick();
  SECTION("the upgrade is answered too late") { options.upgrade_delay_ms = 5000; }
  SECTION("the session is confirmed too late") { options.session_updated_delay_ms = 5000; }
  fixture f(options);
  const auto started = std::chrono::steady_clock::now();
  const auto run = probe_one(f, "realtime", once(800ms));
  CHECK(run.error == error_kind::timeout);
  CHECK(std::chrono::steady_clock::now() - started >= 800ms);
  CHECK_FALSE(run.at(stage::first_audio));
}

TEST_CASE("PROBE_AGENTS selects the probed profiles, an unknown name is refused", "[integration][prober]") {
  fixture f;
  CHECK(f.targets("").empty());
  const auto selected = f.targets("gemini, realtime");
  REQUIRE(selected.size() == 2);
  CHECK(selected[0].agent == "realtime");
  CHECK(selected[1].agent == "gemini");
  // Each target connects like a call of its profile: its provider's URL and credential header.
  CHECK(selected[1].provider == upstream::provider_kind::gemini_live);
  CHECK(selected[1].request.url == f.simulator.gemini_url());
  CHECK(std::any_of(selected[1].request.headers.begin(), selected[1].request.headers.end(),
                    [](const auto& h) { return h.first == "x-goog-api-key"; }));
  CHECK(f.targets("*").size() == 3);
  f.settings.probe_agents = "realtime,billing";
  std::string error;
  CHECK_FALSE(server::probe_targets(f.settings, *f.catalog, f.endpoints, f.bridge, error));
  CHECK(error == "no agent profile is named 'billing'");
}

TEST_CASE("probe runs repeat at the interval, profiles staggered, one run per profile at a time", "[integration][prober]") {
  fixture f;
  SECTION("every interval, each profile in its own phase") {
    auto targets = f.targets("realtime,live");
    for (auto& t : targets) t.request.url = "ws://127.0.0.1:" + std::to_string(test::free_port()) + "/v1/realtime";
    prober::prober_options options = once();
    options.schedule = {.interval = 400ms, .first_delay = 0ms, .max_stagger = 150ms};
    const auto runs = run_probes(f, std::move(targets), 6, options);
    std::vector<std::int64_t> realtime, live;
    for (const auto& r : runs) (r.agent == "realtime" ? realtime : live).push_back(r.started_at_ms);
    REQUIRE(realtime.size() >= 2);
    REQUIRE(live.size() >= 2);
    // A run starts when the strand gets to it, and the next one keeps the profile's phase: the gaps are
    // the interval (and the stagger) give or take that jitter.
    constexpr std::int64_t jitter_ms = 50;
    for (std::size_t i = 1; i < realtime.size(); ++i) CHECK(realtime[i] - realtime[i - 1] >= 400 - jitter_ms);
    for (std::size_t i = 1; i < live.size(); ++i) CHECK(live[i] - live[i - 1] >= 400 - jitter_ms);
    CHECK(live[0] - realtime[0] >= 150 - jitter_ms);
    CHECK(live[0] - realtime[0] < 400 - jitter_ms);
  }
  SECTION("a run that outlasts the interval makes its profile skip turns") {
    auto slow = quick();
    slow.session_updated_delay_ms = 10000;
    fixture slow_fixture(slow);
    prober::prober_options options = once(700ms);
    options.schedule = {.interval = 100ms, .first_delay = 0ms, .max_stagger = 0ms};
    const auto runs = run_probes(slow_fixture, slow_fixture.targets("realtime"), 2, options);
    CHECK(runs[0].error == error_kind::timeout);
    CHECK(runs[1].started_at_ms - runs[0].started_at_ms >= 700);
  }
}

TEST_CASE("stopping the prober closes a run in progress with 1001 and records nothing", "[integration][prober]") {
  auto options = quick();
  options.first_audio_delay_ms = 20000;  // the answer never comes before the stop
  fixture f(options);
  auto sink = std::make_shared<collecting_sink>();
  asio::io_context ioc;
  prober::prober p(ioc.get_executor(), f.targets("realtime"), once(), f.bridge.tls, sink);
  p.start();
  auto finished = std::async(std::launch::async, [&ioc] { ioc.run(); });
  REQUIRE(f.simulator.simulator.wait_until([](const auto& s) { return !s.empty() && !s[0].session_updates.empty(); },
                                           10s));
  p.stop();
  const bool ran_out = finished.wait_for(10s) == std::future_status::ready;
  if (!ran_out) ioc.stop();
  finished.get();
  CHECK(ran_out);
  CHECK(sink->wait_for(1, 0ms).empty());
  REQUIRE(f.simulator.simulator.wait_until([](const auto& s) { return s[0].closed; }, 5s));
  CHECK(f.simulator.simulator.sessions()[0].close_code == 1001);
}

TEST_CASE("the server probes PROBE_AGENTS in demo mode and still stops on SIGTERM, an unknown name stops startup",
          "[integration][prober]") {
  test::temp_dir dir;
  const auto log = dir.file("mediabridge.log");
  const std::vector<std::string> env{"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(test::free_port()),
                                     "DATABASE_PATH=:memory:", "PROBE_AGENTS=*", "PROBE_INTERVAL_S=5"};
  SECTION("probes, then SIGTERM") {
    test::server_process process(env, log);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    const std::string line = "probe: agent 'default' (openai-realtime): ok";
    while (test::read_file(log).find(line) == std::string::npos && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);  // polling the log for a condition, bounded above
    INFO(test::read_file(log));
    REQUIRE(test::read_file(log).find(line) != std::string::npos);
    process.signal(SIGTERM);
    const auto status = process.wait_exit(20s);
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
  }
  SECTION("an unknown profile") {
    auto bad = env;
    bad[3] = "PROBE_AGENTS=default,nobody";
    test::server_process process(bad, log);
    const auto status = process.wait_exit(20s);
    REQUIRE(status);
    CHECK(WEXITSTATUS(*status) == 2);
    CHECK(test::read_file(log).find("mediabridge: PROBE_AGENTS: no agent profile is named 'nobody'") != std::string::npos);
  }
}
