// Running out of file descriptors: the real mediabridge binary as a subprocess with a low
// RLIMIT_NOFILE, and idle connections from the test that take every descriptor it hands out. The
// accept loop must not spin or flood the log, /healthz must still answer, /metrics must count what
// happened, running calls must keep their upstream, and calls must work again once the connections close.

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <future>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "server/descriptors.hpp"
#include "server/metrics_setup.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

using namespace mb;
using namespace std::chrono_literals;
using test::read_file;
using test::sample;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;

namespace {

// Idle TCP connections: each takes one of the server's descriptors once the server accepts it, and
// waits in its listen queue until then (connect completes in the kernel either way).
class idle_connections {
 public:
  explicit idle_connections(std::uint16_t port) : endpoint_(asio::ip::make_address("127.0.0.1"), port) {}
  void open(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) sockets_.emplace_back(ioc_).connect(endpoint_);
  }
  void close() { sockets_.clear(); }

 private:
  asio::io_context ioc_;
  asio::ip::tcp::endpoint endpoint_;
  std::vector<asio::ip::tcp::socket> sockets_;
};

std::size_t occurrences(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// Polls `condition` every 20 ms: a separate process offers no event to wait on (bounded by timeout).
template <typename Condition>
bool poll_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

bool log_contains(const std::string& log_path, std::string_view needle) {
  return read_file(log_path).find(needle) != std::string::npos;
}

// The soft limit only: raising a hard limit again needs CAP_SYS_RESOURCE.
void lower_open_file_limit(pid_t pid, std::uint64_t limit) {
  rlimit current{};
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, nullptr, &current) == 0);
  const rlimit lowered{limit, current.rlim_max};
  REQUIRE(::prlimit(pid, RLIMIT_NOFILE, &lowered, nullptr) == 0);
}

std::uint64_t counter(const std::string& exposition, const std::string& series) {
  const auto value = sample(exposition, series);
  INFO(series);
  REQUIRE(!value.empty());
  return std::stoull(value);
}

struct server_under_test {
  test::temp_dir dir;
  std::uint16_t port = test::free_port();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::string log_path = dir.file("mediabridge.log");
  test::server_process process;
  std::string proc = "/proc/" + std::to_string(process.pid());

  explicit server_under_test(std::vector<std::string> extra_env = {},
                             std::optional<std::uint64_t> open_file_limit = std::nullopt)
      : process(environment(std::move(extra_env)), log_path, open_file_limit) {
    if (!test::wait_healthy(port, 10s)) FAIL("the server did not come up:\n" << read_file(log_path));
  }

  std::vector<std::string> environment(std::vector<std::string> env) const {
    for (auto setting : {"LISTEN_HOST=127.0.0.1", "WORKER_THREADS=1", "LOG_LEVEL=info"}) env.emplace_back(setting);
    env.push_back("PORT=" + std::to_string(port));
    env.push_back("PUBLIC_URL=" + base);
    env.push_back("DATABASE_PATH=" + dir.file("calls.db"));
    return env;
  }

  // /metrics once the server serves it again (connections over the limit get 503).
  std::string metrics_when_served() const {
    net::http_response r;
    poll_until([&] { return (r = test::http("GET", base + "/metrics")).status == 200; }, 10s);
    REQUIRE(r.status == 200);
    return r.body;
  }
};

// CPU seconds the server used over `window`, in which it should sit still.
double cpu_seconds_over(const server_under_test& app, std::chrono::milliseconds window) {
  const double before = server::process_cpu_seconds(app.proc);
  std::this_thread::sleep_for(window);  // measuring that nothing happens: a bounded wait, not a synchronisation
  return server::process_cpu_seconds(app.proc) - before;
}

}  // namespace

TEST_CASE("out of file descriptors, health checks are answered from the reserve and calls work again afterwards",
          "[integration][fd_exhaustion]") {
  server_under_test app;

  // From now on the process may open only a few more descriptors, far fewer than the socket budget
  // it computed at start: accept() itself fails, as when something else has used them up.
  constexpr std::uint64_t headroom = 12;
  const auto limit = server::open_descriptor_count(app.proc) + headroom;
  lower_open_file_limit(app.process.pid(), limit);

  idle_connections hogs(app.port);
  hogs.open(headroom + 2);  // every free descriptor, and two more to wait in the listen queue
  REQUIRE(poll_until([&] { return log_contains(app.log_path, "accept failed"); }, 5s));

  // Health checks are answered through the reserve; nothing else is.
  const auto health = test::http("GET", app.base + "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body.find("\"status\":\"ok\"") != std::string::npos);
  CHECK(test::http("GET", app.base + "/readyz").status == 503);
  CHECK(test::http("GET", app.base + "/metrics").status == 503);

  // More than the reserve's health slots take: the rest are shed, and the process sits still (the
  // accept loop used to retry at once, taking 80-90% of a core).
  hogs.open(8);
  CHECK(cpu_seconds_over(app, 2s) < 0.3);
  const auto log = read_file(app.log_path);
  INFO(log.substr(0, 4000));
  CHECK(occurrences(log, "accept failed") <= 2);  // one line per 5 s at most

  hogs.close();
  const auto metrics = app.metrics_when_served();
  CHECK(counter(metrics, "mediabridge_accept_errors_total{reason=\"fd_exhausted\"}") >= 2);
  CHECK(counter(metrics, "mediabridge_connections_limited_total{outcome=\"health_only\"}") >= 3);
  CHECK(counter(metrics, "mediabridge_connections_limited_total{outcome=\"shed\"}") >= 1);

  tools::twilio::call_options call;
  call.webhook_url = app.base + "/voice";
  call.script = {{audio_kind::speech, 400}, {audio_kind::silence, 1200}};
  call.timeout_ms = 15000;
  const auto report = tools::twilio::run_calls({call}, 20000).at(0);
  CHECK(report.outcome == call_outcome::completed);
}

TEST_CASE("out of file descriptors with no reserve that helps, the accept loop backs off instead of spinning",
          "[integration][fd_exhaustion]") {
  server_under_test app;
  rlimit original{};
  REQUIRE(::prlimit(app.process.pid(), RLIMIT_NOFILE, nullptr, &original) == 0);

  // Below what is open, by more than the reserve holds: closing reserve descriptors frees no room, so
  // every accept fails while connections wait in the queue.
  lower_open_file_limit(app.process.pid(), server::open_descriptor_count(app.proc) - 8);
  idle_connections hogs(app.port);
  hogs.open(4);
  REQUIRE(poll_until([&] { return log_contains(app.log_path, "accept failed"); }, 5s));

  CHECK(cpu_seconds_over(app, 2s) < 0.3);
  const auto log = read_file(app.log_path);
  INFO(log.substr(0, 4000));
  CHECK(occurrences(log, "accept failed") <= 2);

  // Room again: the queued connections are taken and the server answers as before.
  REQUIRE(::prlimit(app.process.pid(), RLIMIT_NOFILE, &original, nullptr) == 0);
  hogs.close();
  const auto metrics = app.metrics_when_served();
  CHECK(counter(metrics, "mediabridge_accept_errors_total{reason=\"fd_exhausted\"}") >= 3);
  CHECK(counter(metrics, "mediabridge_accept_errors_total{reason=\"other\"}") == 0);
}

TEST_CASE("idle connections get no more than the socket budget: descriptors stay free for running calls and health "
          "checks",
          "[integration][fd_exhaustion]") {
  constexpr std::uint64_t limit = 96;
  server_under_test app({"UPSTREAM_ROLLOVER_S=1"}, limit);
  const auto budget = counter(app.metrics_when_served(), "mediabridge_socket_budget");
  REQUIRE(budget > 8);
  REQUIRE(budget < limit);

  // A call whose upstream session rolls over every second (in the pause after each answer), so that
  // it opens new sockets while the flood holds the budget.
  tools::twilio::call_options call;
  call.webhook_url = app.base + "/voice";
  for (int turn = 0; turn < 4; ++turn) {
    call.script.push_back({audio_kind::speech, 300});
    call.script.push_back({audio_kind::silence, 2200});
  }
  call.timeout_ms = 20000;
  auto pending = std::async(std::launch::async, [&] { return tools::twilio::run_calls({call}, 25000).at(0); });
  REQUIRE(poll_until(
      [&] { return test::http("GET", app.base + "/healthz").body.find("\"active_calls\":1") != std::string::npos; },
      5s));

  idle_connections hogs(app.port);
  hogs.open(limit);  // more than the server could ever accept
  // The server stops taking connections in full, at its budget (or, without one, out of descriptors).
  REQUIRE(poll_until(
      [&] {
        const auto log = read_file(app.log_path);
        return log.find("over the socket budget") != std::string::npos || log.find("accept failed") != std::string::npos;
      },
      5s));
  const auto rollovers_before = occurrences(read_file(app.log_path), "rolling over");

  // A health check queues behind the flood: once it is answered, every connection before it has been
  // taken, answered or shed. The first tries may be shed while silent connections hold every health slot.
  CHECK(test::wait_healthy(app.port, 5s));
  CHECK(test::http("GET", app.base + "/readyz").status == 503);
  CHECK(server::open_descriptor_count(app.proc) + 16 <= limit);  // the flood took only the budget
  const bool rolled_over =
      poll_until([&] { return occurrences(read_file(app.log_path), "rolling over") > rollovers_before; }, 6s);
  INFO(read_file(app.log_path));
  CHECK(rolled_over);

  hogs.close();
  const auto report = pending.get();
  CHECK(report.outcome == call_outcome::completed);
  const auto log = read_file(app.log_path);
  INFO(log.substr(0, 4000));
  CHECK(occurrences(log, "upstream connect failed") == 0);
  CHECK(occurrences(log, "accept failed") == 0);
  CHECK(occurrences(log, "over the socket budget") <= 2);

  const auto metrics = app.metrics_when_served();
  CHECK(counter(metrics, "mediabridge_accept_errors_total{reason=\"fd_exhausted\"}") == 0);
  CHECK(counter(metrics, "mediabridge_connections_limited_total{outcome=\"health_only\"}") >= 1);
  CHECK(counter(metrics, "mediabridge_connections_limited_total{outcome=\"shed\"}") >= 1);
}
