#include <catch2/catch.hpp>

#include <string>

#include "call/event_json.hpp"

using namespace mb::call;

namespace {

const event_context context{"CA0123456789abcdef0123456789abcdef", "MZ0123456789abcdef0123456789abcdef",
                            "+15005550006", "+15005550001", 1738326896789};

}  // namespace

TEST_CASE("event_writer writes each event exactly as event_json does, one after another", "[call]") {
  event_writer writer;
  const call_event events[] = {
      call_started{"MZ1", {{"From", "+15005550006"}, {"agent", "sales"}}, "sales", "media-stream"},
      transcript_delta{role::caller, "item_1", "say \"hi\"\n\u00e9"},
      dtmf{"", true},
      // Larger than the writer's fixed buffer: the rest comes from the heap, the text is the same.
      transcript_delta{role::assistant, "item_2", std::string(40000, 'x')},
      dtmf{"7", false},
  };
  for (const auto& e : events) CHECK(std::string(writer.write(context, e)) == event_json(context, e));
  const call_end end{end_reason::caller_hung_up, "Twilio sent stop", 12345, {10, 20, 30}};
  CHECK(std::string(writer.write(context, end)) == event_json(context, end));
}
