#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "log/line_budget.hpp"

using namespace mb::log;

TEST_CASE("a connection's lines are limited by its own budget and counted when suppressed", "[log]") {
  connection_lines lines(nullptr, {.burst = 3, .refill_interval_ms = 1000});
  for (int i = 0; i < 3; ++i) {
    const auto a = lines.admit(0);
    REQUIRE(a);
    CHECK(suppression_note(*a).empty());
  }
  for (int i = 0; i < 997; ++i) CHECK_FALSE(lines.admit(i));
  CHECK(lines.suppressed() == 997);
  const auto next = lines.admit(1000);
  REQUIRE(next);
  CHECK(next->this_peer == 997);
  CHECK(next->all_peers == 0);
  CHECK(suppression_note(*next) == " (log lines suppressed: 997 from this peer)");
  CHECK(lines.suppressed() == 997);  // the total stays, for the connection's summary
}

TEST_CASE("many connections together are limited by the shared budget", "[log]") {
  shared_line_budget shared({.burst = 4, .refill_interval_ms = 100});
  std::vector<connection_lines> connections(10, connection_lines(&shared, {.burst = 2, .refill_interval_ms = 50}));
  int written = 0;
  for (auto& c : connections)
    for (int i = 0; i < 5; ++i) written += c.admit(0) ? 1 : 0;
  CHECK(written == 4);
  CHECK(shared.suppressed_total() == 46);
  CHECK(connections[0].suppressed() == 3);  // 2 written, 3 over its own budget
  CHECK(connections[9].suppressed() == 5);  // own budget left, the shared one spent

  // The next line written after the shared budget refills reports both counts: this peer's since its
  // last written line, all peers' since the last line written (connection 1's second: 3 + 8 * 5 after it).
  const auto a = connections[9].admit(100);
  REQUIRE(a);
  CHECK(a->this_peer == 5);
  CHECK(a->all_peers == 43);
  CHECK(suppression_note(*a) == " (log lines suppressed: 5 from this peer, 43 from all peers)");
  const auto b = connections[8].admit(100);
  CHECK_FALSE(b);  // the shared budget had one line back, not two
  CHECK(shared.suppressed_total() == 47);
}

TEST_CASE("a connection's closing line needs only the shared budget", "[log]") {
  shared_line_budget shared({.burst = 1, .refill_interval_ms = 1000});
  connection_lines flooding(&shared, {.burst = 1, .refill_interval_ms = 1000});
  REQUIRE(flooding.admit(0));
  CHECK_FALSE(flooding.admit(1));  // own budget spent
  const auto closing = flooding.admit_closing(1000);
  REQUIRE(closing);
  CHECK(closing->this_peer == 1);
  connection_lines other(&shared);
  CHECK_FALSE(other.admit_closing(1001));  // the shared budget spent: many closing lines do not flood either
  CHECK(other.suppressed() == 1);
}

TEST_CASE("the shared budget holds across threads", "[log]") {
  shared_line_budget shared({.burst = 50, .refill_interval_ms = 1'000'000});
  std::vector<std::thread> threads;
  std::atomic<int> written{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      connection_lines lines(&shared, {.burst = 1000, .refill_interval_ms = 1000});
      for (int i = 0; i < 1000; ++i) written += lines.admit(0) ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  CHECK(written.load() == 50);
  CHECK(shared.suppressed_total() == 8 * 1000 - 50);
}
