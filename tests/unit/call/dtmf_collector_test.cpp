#include "call/dtmf_collector.hpp"

#include <catch2/catch.hpp>

using namespace mb::call;

namespace {
dtmf_options options(int gap_ms, int max_digits) {
  dtmf_options o;
  o.gap_ms = gap_ms;
  o.max_digits = max_digits;
  return o;
}
}  // namespace

TEST_CASE("dtmf_collector: a pause of gap_ms ends the string, measured from the last key", "[call][dtmf]") {
  dtmf_collector c(options(2000, 32));
  CHECK_FALSE(c.next_wakeup());
  CHECK_FALSE(c.on_key('1', 1000));
  CHECK(c.next_wakeup() == 3000);
  CHECK_FALSE(c.on_key('2', 2500));
  CHECK(c.next_wakeup() == 4500);
  CHECK_FALSE(c.on_tick(4499));
  CHECK(c.on_tick(4500) == "12");
  CHECK_FALSE(c.next_wakeup());
  CHECK_FALSE(c.on_tick(9000));
}

TEST_CASE("dtmf_collector: '#' ends the string at once and is not part of it, a lone '#' gives nothing",
          "[call][dtmf]") {
  dtmf_collector c(options(2000, 32));
  CHECK_FALSE(c.on_key('#', 1000));
  CHECK_FALSE(c.on_key('4', 1100));
  CHECK_FALSE(c.on_key('*', 1200));
  CHECK(c.on_key('#', 1300) == "4*");
  CHECK_FALSE(c.next_wakeup());
}

TEST_CASE("dtmf_collector: max_digits hands the string over at that length", "[call][dtmf]") {
  dtmf_collector c(options(2000, 3));
  CHECK_FALSE(c.on_key('1', 0));
  CHECK_FALSE(c.on_key('2', 10));
  CHECK(c.on_key('3', 20) == "123");
  CHECK_FALSE(c.on_key('4', 30));
  CHECK(c.on_tick(2030) == "4");
}

TEST_CASE("dtmf_collector: masked strings keep one bullet per key, the model's text has the keys", "[call][dtmf]") {
  CHECK(masked_digits(0).empty());
  CHECK(masked_digits(3) == "\u2022\u2022\u2022");
  CHECK(dtmf_context_text("1234") == "The caller pressed these keys on the phone's keypad: 1234");
}
