#include "containers/ring.hpp"

#include <string>

#include <catch2/catch.hpp>

using mb::containers::ring;

TEST_CASE("ring: first in, first out across the wrap", "[containers][ring]") {
  ring<int> r(4);
  CHECK(r.empty());
  int next_in = 0;
  int next_out = 0;
  // Three in, two out, repeatedly: the head walks round the four slots many times.
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 3 && r.size() < 4; ++i) r.append() = next_in++;
    CHECK(r.back() == next_in - 1);
    for (int i = 0; i < 2; ++i) {
      CHECK(r.front() == next_out++);
      r.pop_front();
    }
  }
  CHECK(r.slots() == 4);  // never full when appending: no growth
  while (!r.empty()) {
    CHECK(r.front() == next_out++);
    r.pop_front();
  }
  CHECK(next_out == next_in);
}

TEST_CASE("ring: growth keeps the order, from any head position", "[containers][ring]") {
  ring<int> r(2);
  r.append() = -1;
  r.pop_front();  // the head is now in the middle of the slots
  for (int i = 0; i < 11; ++i) r.append() = i;
  CHECK(r.size() == 11);
  CHECK(r.slots() == 16);  // 2, 4, 8, 16
  for (int i = 0; i < 11; ++i) {
    CHECK(r.front() == i);
    r.pop_front();
  }
  CHECK(r.empty());
}

TEST_CASE("ring: a reused slot keeps its memory", "[containers][ring]") {
  ring<std::string> r(1);
  r.append().assign(1000, 'a');
  const auto& popped = r.front();
  const auto* buffer = popped.data();
  r.pop_front();
  CHECK(popped == std::string(1000, 'a'));  // still there until the next append (callers' views rely on it)
  auto& again = r.append();
  CHECK(r.slots() == 1);
  CHECK(again.data() == buffer);
  CHECK(again == std::string(1000, 'a'));  // as left: the caller overwrites it
  again.assign(500, 'b');
  CHECK(again.data() == buffer);  // it fits: no allocation
}

TEST_CASE("ring: clear empties without releasing the slots", "[containers][ring]") {
  ring<std::string> r(4);
  for (int i = 0; i < 3; ++i) r.append() = std::string(100, static_cast<char>('x' + i));
  r.clear();
  CHECK(r.empty());
  CHECK(r.slots() == 4);
  CHECK(r.append().capacity() >= 100);  // the first slot again, with its buffer
}

TEST_CASE("ring: the first growth makes at least one slot", "[containers][ring]") {
  ring<int> r(0);
  r.append() = 7;
  CHECK(r.slots() == 1);
  r.append() = 8;
  CHECK(r.slots() == 2);
  CHECK(r.front() == 7);
  CHECK(r.back() == 8);
}
