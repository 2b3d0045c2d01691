// SIGTERM/SIGINT on the real binary: stop taking calls, let running ones finish (or close them at
// DRAIN_TIMEOUT_S), exit 0; a second signal exits at once.

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <future>

#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {

struct drained_server {
  test::temp_dir dir;
  std::uint16_t port = test::free_port();
  test::server_process process;
  explicit drained_server(int drain_timeout_s)
      : process({"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port),
                 "PUBLIC_URL=http://127.0.0.1:" + std::to_string(port), "DATABASE_PATH=:memory:",
                 "DRAIN_TIMEOUT_S=" + std::to_string(drain_timeout_s), "LOG_LEVEL=info"},
                dir.file("mediabridge.log")) {}
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  [[nodiscard]] tools::twilio::call_options call(int speak_ms) const {
    tools::twilio::call_options o;
    o.webhook_url = url("/voice");
    o.script = {{audio_kind::speech, 300}, {audio_kind::silence, speak_ms}};
    o.timeout_ms = 20000;
    return o;
  }
  // Waits until the server counts `n` active calls (no event is observable from outside the process).
  bool wait_active(std::size_t n) const {
    for (int i = 0; i < 200; ++i) {
      const auto body = test::http("GET", url("/healthz")).body;
      if (body.find("\"active_calls\":" + std::to_string(n)) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));  // polling a condition, bounded above
    }
    return false;
  }
};

}  // namespace

TEST_CASE("SIGTERM drains: fallback TwiML, readyz 503, healthz 200, running calls finish, exit 0",
          "[integration][drain]") {
  drained_server s(30);
  REQUIRE(test::wait_healthy(s.port, std::chrono::seconds(10)));
  auto running = std::async(std::launch::async, [&] { return tools::twilio::run_calls({s.call(2500)}, 20000); });
  REQUIRE(s.wait_active(1));

  s.process.signal(SIGTERM);
  REQUIRE(s.wait_active(1));  // still carried
  const auto ready = test::http("GET", s.url("/readyz"));
  CHECK(ready.status == 503);
  CHECK(test::http("GET", s.url("/healthz")).status == 200);
  auto refused = tools::twilio::run_calls({s.call(100)}, 10000);
  CHECK(refused.at(0).outcome == call_outcome::rejected);
  CHECK(refused.at(0).twiml.find("<Hangup/>") != std::string::npos);

  const auto reports = running.get();
  CHECK(reports.at(0).outcome == call_outcome::completed);  // the caller hung up; nobody cut the call
  const auto status = s.process.wait_exit(std::chrono::seconds(5));
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

TEST_CASE("at DRAIN_TIMEOUT_S the remaining calls are closed with 1001 and the process exits 0", "[integration][drain]") {
  drained_server s(1);
  REQUIRE(test::wait_healthy(s.port, std::chrono::seconds(10)));
  auto running = std::async(std::launch::async, [&] { return tools::twilio::run_calls({s.call(15000)}, 25000); });
  REQUIRE(s.wait_active(1));
  const auto signalled = std::chrono::steady_clock::now();
  s.process.signal(SIGTERM);
  const auto reports = running.get();
  CHECK(reports.at(0).outcome == call_outcome::bridge_closed);
  CHECK(reports.at(0).close_code == 1001);
  CHECK(std::chrono::steady_clock::now() - signalled < std::chrono::seconds(5));
  const auto status = s.process.wait_exit(std::chrono::seconds(5));
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
}

TEST_CASE("a second signal exits at once, even with calls running", "[integration][drain]") {
  drained_server s(30);
  REQUIRE(test::wait_healthy(s.port, std::chrono::seconds(10)));
  auto running = std::async(std::launch::async, [&] { return tools::twilio::run_calls({s.call(15000)}, 25000); });
  REQUIRE(s.wait_active(1));
  s.process.signal(SIGTERM);
  REQUIRE(s.wait_active(1));
  s.process.signal(SIGINT);
  const auto status = s.process.wait_exit(std::chrono::seconds(3));
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  running.get();
}
