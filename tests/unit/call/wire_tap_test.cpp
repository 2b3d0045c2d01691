#include "call/wire_tap.hpp"

#include <catch2/catch.hpp>

using namespace mb::call;

TEST_CASE("wire_tap: off publishes nothing, on, types and sizes within the rate", "[call][wire]") {
  wire_tap off(false);
  CHECK_FALSE(off.on_message("twilio_in", "mark", 80, 0));

  wire_tap tap(true);
  const auto first = tap.on_message("upstream_in", "response.done", 812, 0);
  REQUIRE(first);
  CHECK(first->direction == "upstream_in");
  CHECK(first->type == "response.done");
  CHECK(first->bytes == 812);
  for (int i = 1; i < 200; ++i) REQUIRE(tap.on_message("twilio_in", "mark", 80, 0));
  CHECK_FALSE(tap.on_message("twilio_in", "mark", 80, 0));  // the burst is spent
  CHECK(tap.dropped() == 1);
  CHECK_FALSE(tap.on_message("twilio_in", "mark", 80, 49));
  CHECK(tap.on_message("twilio_in", "mark", 80, 100));  // 20 a second
}

TEST_CASE("wire_tap: a peer's type is cut and made printable", "[call][wire]") {
  wire_tap tap(true);
  const auto e = tap.on_message("twilio_in", std::string("a\nb\x01") + std::string(100, 'x'), 1, 0);
  REQUIRE(e);
  CHECK(e->type.size() == wire_tap::max_type_bytes);
  CHECK(e->type.starts_with("a?b?xx"));
}

TEST_CASE("wire_type_of: the type field, else the first key", "[call][wire]") {
  CHECK(wire_type_of(R"({"type":"session.update","session":{}})") == "session.update");
  CHECK(wire_type_of(R"( { "type" : "response.create" })") == "response.create");
  CHECK(wire_type_of(R"({"setup":{"model":"m"}})") == "setup");
  CHECK(wire_type_of(R"({"toolResponse":{}})") == "toolResponse");
  CHECK(wire_type_of("[]") == "?");
  CHECK(wire_type_of("") == "?");
  CHECK(wire_type_of(R"({"type":5})") == "?");
}
