#pragma once
// Transcript lines as listeners, the bridge's event sink and the history API each report them, in one
// comparable form.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"

namespace mb::test {

struct line {
  std::string role;
  std::string item_id;
  std::string text;
  bool interrupted = false;
  std::int64_t heard_ms = -1;
  std::string heard_text;
  bool heard_text_estimated = false;
  bool operator==(const line&) const = default;
};
std::ostream& operator<<(std::ostream& os, const line& l);

// A transcript.final event, or a line of GET /v1/calls/{sid}'s transcript.
line line_from(const boost::json::object& o);
// The transcript.final lines a listener saw for one call, in order.
std::vector<line> finals(const listener_client::events_t& events, const std::string& call_sid);
// What the bridge published for one call, from the harness's recording sink.
std::vector<line> published_finals(bridge_harness& h, const std::string& call_sid);
// The transcript of GET /v1/calls/{sid}.
std::vector<line> stored_lines(const boost::json::object& call);

// A well-formed, recognisable call SID: "CA" and 32 digits ending in n.
std::string test_call_sid(int n);

}  // namespace mb::test
