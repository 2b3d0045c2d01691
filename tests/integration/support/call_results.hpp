#pragma once
// What a bridged call published, for the end-to-end tests of each provider.

#include <catch2/catch.hpp>

#include <variant>
#include <vector>

#include "tests/integration/support/bridge_harness.hpp"

namespace mb::test {

// Every transcript final the harness's calls published, in order.
inline std::vector<call::transcript_final> transcript_finals(bridge_harness& h) {
  std::vector<call::transcript_final> out;
  for (const auto& e : h.events().events())
    if (const auto* f = std::get_if<call::transcript_final>(&e.event)) out.push_back(*f);
  return out;
}

// Why the harness's only call ended, once it has.
inline call::end_reason ended_reason(bridge_harness& h) {
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  return ended[0].second.reason;
}

}  // namespace mb::test
