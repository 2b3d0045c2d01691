#include "admission/pre_start.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <variant>

using namespace mb::admission;
using mb::metrics::stream_refusal;

// Messages shaped like docs/protocols.md B3, as Twilio sends them before and at the start of a stream.

namespace {

const std::string stream_sid = "MZ0123456789abcdef0123456789abcdef";
const std::string call_sid = "CA0123456789abcdef0123456789abcdef";

std::string start_json(std::string_view call, std::string_view stream) {
  return R"({"event":"start","streamSid":")" + std::string(stream) + R"(","start":{"streamSid":")" +
         std::string(stream) + R"(","callSid":")" + std::string(call) +
         R"(","mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})";
}

// Owns the padded input and the parser, as the shell's read buffer does.
struct judged {
  mb::protocol::twilio_parser parser;
  std::string buffer;
  mb::protocol::twilio_message msg;
  pre_start_decision decision;

  judged(std::string_view frame, bool binary = false) {
    buffer.reserve(frame.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(frame);
    decision = decide_before_start(binary, buffer, buffer.capacity(), parser, msg);
  }
  [[nodiscard]] const refusal* refused() const { return std::get_if<refusal>(&decision); }
};

}  // namespace

TEST_CASE("pre-start: connected waits for the start", "[admission][pre_start]") {
  judged j(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  CHECK(std::holds_alternative<wait_for_start>(j.decision));
}

TEST_CASE("pre-start: a start with Twilio's SIDs is admitted", "[admission][pre_start]") {
  judged j(start_json(call_sid, stream_sid));
  REQUIRE(std::holds_alternative<admit_start>(j.decision));
  REQUIRE(j.msg.start);
  CHECK(j.msg.start->call_sid == call_sid);
}

TEST_CASE("pre-start: a start with a malformed SID is refused", "[admission][pre_start]") {
  for (const auto& [call, stream] : {std::pair<std::string, std::string>{"CA with spaces", stream_sid},
                                     std::pair<std::string, std::string>{call_sid, "MZ\\u0007bell"}}) {
    judged j(start_json(call, stream));
    REQUIRE(j.refused());
    CHECK(j.refused()->why == stream_refusal::bad_message);
    CHECK(j.refused()->detail == "start carries a malformed callSid or streamSid");
  }
}

TEST_CASE("pre-start: any other event is refused, named in our own words", "[admission][pre_start]") {
  judged media(R"({"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA"}})");
  REQUIRE(media.refused());
  CHECK(media.refused()->why == stream_refusal::bad_message);
  CHECK(media.refused()->detail == "'media' before start");

  // An unknown event's name is the peer's text: it never reaches the log line.
  judged unknown(R"({"event":"\u001b[31mred"})");
  REQUIRE(unknown.refused());
  CHECK(unknown.refused()->detail == "'an unknown event' before start");
}

TEST_CASE("pre-start: binary and unreadable frames are refused", "[admission][pre_start]") {
  judged binary(R"({"event":"connected"})", true);
  REQUIRE(binary.refused());
  CHECK(binary.refused()->why == stream_refusal::bad_message);
  CHECK(binary.refused()->detail == "a binary frame before start");

  judged garbage("not json");
  REQUIRE(garbage.refused());
  CHECK(garbage.refused()->why == stream_refusal::bad_message);
  CHECK(garbage.refused()->detail.rfind("an unreadable message before start: ", 0) == 0);
}

TEST_CASE("pre-start: the ledger's answer to an authorised start", "[admission][pre_start]") {
  CHECK_FALSE(refusal_for(admit_result::admitted));
  const auto live = refusal_for(admit_result::already_live);
  REQUIRE(live);
  CHECK(live->why == stream_refusal::already_live);
  CHECK(live->detail == "a stream for this call is already running");
  const auto full = refusal_for(admit_result::full);
  REQUIRE(full);
  CHECK(full->why == stream_refusal::full);
  CHECK(full->detail == "no free call slot (MAX_CONCURRENT_CALLS) and none reserved");
}

TEST_CASE("pre-start: only a full server says try again later", "[admission][pre_start]") {
  CHECK(close_code_for(stream_refusal::full) == 1013);
  for (auto why : {stream_refusal::unauthorized, stream_refusal::already_live, stream_refusal::too_many_pending,
                   stream_refusal::no_start, stream_refusal::bad_message})
    CHECK(close_code_for(why) == 1008);
}
