#include "call/call_state.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/support/padded.hpp"
#include "upstream/provider.hpp"

// A provider's note on its session (session_ready's text: GPT-Live on Azure transcoding, docs/protocols.md
// G2) reaches the call's log once, at info, and the call goes on.

using namespace mb::call;
namespace proto = mb::protocol;
namespace up = mb::upstream;

namespace {

proto::twilio_message start_message() {
  proto::twilio_start start;
  start.stream_sid = "MZ0123456789abcdef0123456789abcdef";
  start.call_sid = "CA0123456789abcdef0123456789abcdef";
  start.encoding = "audio/x-mulaw";
  start.sample_rate = 8000;
  start.channels = 1;
  proto::twilio_message msg;
  msg.event = proto::twilio_event::start;
  msg.start = start;
  return msg;
}

// The session.started of an Azure GPT-Live session in `type` at `rate`, through the call's adapter.
std::vector<action> started(call_state& state, std::string_view type, int rate) {
  std::string json = R"({"type":"session.started","session":{"id":"live_1","model":"dep","status":"active",)"
                     R"("audio":{"format":{"type":")" +
                     std::string(type) + R"(","rate":)" + std::to_string(rate) + "}}}}";
  std::string buffer;
  mb::test::assign_padded(buffer, json);
  std::vector<up::event> events;
  REQUIRE_FALSE(state.upstream().translate(buffer, buffer.capacity(), 1100, events));
  std::vector<action> out;
  for (const auto& ev : events) state.on_upstream(ev, 1100, out);
  return out;
}

template <class T>
std::vector<T> only(const std::vector<action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  return out;
}

call_state connected_azure_live_call() {
  call_state state({}, {}, up::make_adapter(up::provider_kind::azure_live));
  std::vector<action> out;
  state.on_twilio(start_message(), 1000, out);
  out.clear();
  state.on_upstream_connected(out);
  return state;
}

}  // namespace

TEST_CASE("call_state logs a provider's session note at info, the transcoded session goes on", "[call][transcoding]") {
  auto state = connected_azure_live_call();
  const auto out = started(state, "audio/pcm", 24000);
  CHECK(only<end_call>(out).empty());
  const auto logged = only<log_line>(out);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].level == log_level::info);
  CHECK(logged[0].text == "the session confirmed audio/pcm at 24000 Hz, not audio/pcmu: transcoding both ways");
}

TEST_CASE("call_state: a session without a note logs nothing, another format still ends the call", "[call][transcoding]") {
  auto passthrough = connected_azure_live_call();
  const auto out = started(passthrough, "audio/pcmu", 8000);
  CHECK(only<log_line>(out).empty());
  CHECK(only<end_call>(out).empty());

  auto alaw = connected_azure_live_call();
  const auto ended = only<end_call>(started(alaw, "audio/pcma", 8000));
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].reason == end_reason::format_mismatch);
}
