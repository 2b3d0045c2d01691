// What counts as a call that completed as a call should (mediabridge-call's exit code, the load
// generator's success count): tools/twilio_sim/call_report.hpp.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tools/twilio_sim/call_report.hpp"

using namespace mb::tools::twilio;

namespace {

// A call that streamed, heard an answer and ended the way `outcome` says, with the bridge's `close_code`.
call_report streamed_call(call_outcome outcome, int close_code) {
  call_report r;
  r.outcome = outcome;
  r.close_code = close_code;
  r.stream_sid = "MZ00000000000000000000000000000001";
  r.stream_url = "wss://bridge.example.com/media-stream";
  r.media_frames_sent = 100;
  r.media_frames_received = 20;
  r.played_bytes = 8 * 400;
  return r;
}

bool mentions(const std::vector<std::string>& problems, std::string_view text) {
  for (const auto& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

call_expectations expecting_answer() {
  call_expectations e;
  e.answer = true;
  return e;
}

constexpr audio_segment speech(int ms) { return {audio_kind::speech, ms}; }
constexpr audio_segment silence(int ms) { return {audio_kind::silence, ms}; }

}  // namespace

TEST_CASE("call report: a call succeeds only when the bridge's close code is 1000", "[tools][call_report]") {
  CHECK(streamed_call(call_outcome::completed, 1000).ok());
  CHECK(streamed_call(call_outcome::bridge_closed, 1000).ok());
  for (const int code : {0, 1001, 1008, 1009, 1011}) {
    INFO("close code " << code);
    CHECK_FALSE(streamed_call(call_outcome::completed, code).ok());
    CHECK_FALSE(streamed_call(call_outcome::bridge_closed, code).ok());
  }
  for (const auto outcome : {call_outcome::rejected, call_outcome::webhook_failed, call_outcome::connect_failed,
                             call_outcome::stream_failed, call_outcome::timed_out}) {
    INFO(to_string(outcome));
    CHECK_FALSE(streamed_call(outcome, 1000).ok());
  }
}

TEST_CASE("call report: problems name what went wrong", "[tools][call_report]") {
  SECTION("a normal call has none, even when every expectation is on") {
    auto r = streamed_call(call_outcome::completed, 1000);
    r.clears.push_back({});
    auto all = expecting_answer();
    all.stream_url_prefix = "wss://bridge.example.com/";
    all.audio_both_ways = true;
    all.barge_in = true;
    CHECK(call_problems(r, all).empty());
  }
  SECTION("a call the bridge cut with 1011 and no audio: the close and the missing answer") {
    auto r = streamed_call(call_outcome::bridge_closed, 1011);
    r.failure = "the bridge closed the stream with code 1011 'format_mismatch', not 1000";
    r.media_frames_received = 0;
    r.played_bytes = 0;
    const auto problems = call_problems(r, expecting_answer());
    REQUIRE(problems.size() == 2);
    CHECK(problems[0] == "bridge_closed: the bridge closed the stream with code 1011 'format_mismatch', not 1000");
    CHECK(mentions(problems, "no answer"));
  }
  SECTION("no answer is a problem only when one was expected, and only once a stream was open") {
    auto r = streamed_call(call_outcome::completed, 1000);
    r.media_frames_received = 0;
    r.played_bytes = 0;
    CHECK(call_problems(r, {}).empty());
    CHECK(call_problems(r, expecting_answer()) ==
          std::vector<std::string>{"no answer: the caller spoke and stayed on the line, but the bridge sent no audio"});
    auto refused = streamed_call(call_outcome::connect_failed, 0);
    refused.stream_sid.clear();
    refused.failure = "media stream: HTTP 403";
    CHECK(call_problems(refused, expecting_answer()) == std::vector<std::string>{"connect_failed: media stream: HTTP 403"});
  }
  SECTION("invalid messages, a wrong stream URL, one-way audio and a missing barge-in") {
    auto r = streamed_call(call_outcome::completed, 1000);
    r.invalid_count = 2;
    r.invalid_messages.push_back({{}, "unknown event", "{}"});
    r.played_bytes = 0;
    call_expectations expect;
    expect.stream_url_prefix = "wss://other.example.com/";
    expect.audio_both_ways = true;
    expect.barge_in = true;
    const auto problems = call_problems(r, expect);
    REQUIRE(problems.size() == 4);
    CHECK(problems[0] == "2 invalid message(s) from the bridge, first: unknown event");
    CHECK(mentions(problems, "does not start with 'wss://other.example.com/'"));
    CHECK(mentions(problems, "audio did not flow both ways"));
    CHECK(mentions(problems, "never sent clear"));
  }
}

TEST_CASE("call report: an answer is expected when the caller stays on the line after speaking", "[tools][call_report]") {
  const std::vector<audio_segment> answerable{speech(1000), silence(3000)};
  CHECK(answer_expected(answerable, 0, 2000));
  CHECK(answer_expected(answerable, 0, 3000));
  CHECK_FALSE(answer_expected(answerable, 0, 3001));
  // A hang-up before the script ends shortens the wait.
  CHECK_FALSE(answer_expected(answerable, 2500, 2000));
  CHECK(answer_expected(answerable, 3000, 2000));
  // ... and one after it does not lengthen it: the caller hangs up when its audio ends.
  CHECK_FALSE(answer_expected(answerable, 60000, 3001));
  // The first speech counts, split into several segments or not; later speech does not move it.
  CHECK(answer_expected(std::vector{speech(400), speech(600), silence(2000)}, 0, 2000));
  CHECK(answer_expected(std::vector{speech(400), silence(2000), speech(600), silence(100)}, 0, 2700));
  CHECK_FALSE(answer_expected(std::vector{speech(400), silence(2000), speech(600), silence(100)}, 0, 2701));
  // No speech, no answer to expect; speech to the very end leaves no time for one.
  CHECK_FALSE(answer_expected(std::vector{silence(5000)}, 0, 1));
  CHECK_FALSE(answer_expected(std::vector{silence(1000), speech(400)}, 0, 1));
  CHECK_FALSE(answer_expected({}, 0, 1));
}
