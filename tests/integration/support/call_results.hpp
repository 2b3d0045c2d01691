#pragma once
// What a bridged call published, for the end-to-end tests of each provider.

#include <catch2/catch.hpp>

#include <chrono>
#include <utility>
#include <variant>
#include <vector>

#include "tests/integration/support/bridge_harness.hpp"

namespace mb::test {

// Every event of type Event the harness's calls published, in order.
template <class Event>
std::vector<Event> published(bridge_harness& h) {
  std::vector<Event> out;
  for (const auto& e : h.events().events())
    if (const auto* ev = std::get_if<Event>(&e.event)) out.push_back(*ev);
  return out;
}

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

// A call that speaks `script` and hangs up, through to its end on both sides: the caller's report,
// and the provider's one session once it has closed.
struct finished_call {
  tools::twilio::call_report report;
  simulator::session_snapshot session;
};
inline finished_call run_to_the_end(bridge_harness& h, std::vector<tools::twilio::audio_segment> script) {
  auto reports = h.run({h.call(std::move(script))});
  finished_call done{std::move(reports.at(0)), {}};
  INFO(done.report.failure);
  REQUIRE(done.report.ok());
  REQUIRE(ended_reason(h) == call::end_reason::caller_hung_up);
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].closed; },
                                   std::chrono::seconds(3)));
  done.session = h.simulator().sessions().at(0);
  return done;
}

}  // namespace mb::test
