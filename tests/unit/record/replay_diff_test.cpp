#include "record/replay_diff.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace mb::record;

namespace {

log_entry entry(double t_ms, direction dir, payload_kind kind, std::string payload) {
  log_entry e;
  e.t_ms = t_ms;
  e.dir = dir;
  e.kind = kind;
  e.payload = std::move(payload);
  return e;
}

log_entry json_entry(double t_ms, direction dir, std::string json) {
  return entry(t_ms, dir, payload_kind::json, std::move(json));
}

// The values of a small Realtime call with one barge-in that the tests vary.
struct call_shape {
  int upstream_sessions = 1;
  int audio_frames = 3;
  int marks = 2;
  double clear_at_ms = 2000;
  double truncate_audio_end_ms = 900;
  double barge_in_audio_end_ms = 900;
  std::string assistant_text = "Your order has shipped";
  bool assistant_interrupted = true;
  std::string to_first_audio_ms = "630.5";
  std::string to_heard_ms = "905.0";
  std::string end_reason = "caller_hung_up";
  bool second_response_create = false;
};

std::vector<log_entry> call_log(const call_shape& shape) {
  std::vector<log_entry> log;
  for (int i = 0; i < shape.upstream_sessions; ++i)
    log.push_back(entry(0.5 + i, direction::upstream_open, payload_kind::none, {}));
  log.push_back(json_entry(1, direction::twilio_in, R"({"event":"start","start":{"streamSid":"MZ1"}})"));
  log.push_back(json_entry(2, direction::upstream_out, R"({"type":"session.update","session":{}})"));
  log.push_back(json_entry(3, direction::upstream_out, R"({"type":"response.create"})"));
  if (shape.second_response_create) log.push_back(json_entry(4, direction::upstream_out, R"({"type":"response.create"})"));
  for (int i = 0; i < shape.audio_frames; ++i) {
    log.push_back(json_entry(20.0 * i, direction::upstream_out, R"({"type":"input_audio_buffer.append","audio":"AA=="})"));
    log.push_back(json_entry(20.0 * i + 5, direction::upstream_in, R"({"type":"response.output_audio.delta","delta":"AA=="})"));
    log.push_back(json_entry(20.0 * i + 6, direction::twilio_out, R"({"event":"media","media":{"payload":"AA=="}})"));
  }
  for (int i = 0; i < shape.marks; ++i)
    log.push_back(json_entry(100.0 + i, direction::twilio_out, R"({"event":"mark","mark":{"name":"m)" +
                                                                    std::to_string(i) + R"("}})"));
  log.push_back(json_entry(1500, direction::event,
                           R"({"type":"turn.latency","turn":1,"to_first_delta_ms":412.25,"to_first_audio_ms":)" +
                               shape.to_first_audio_ms + R"(,"to_heard_ms":)" + shape.to_heard_ms +
                               R"(,"bridge_ms":0.183})"));
  if (shape.clear_at_ms >= 0)
    log.push_back(json_entry(shape.clear_at_ms, direction::twilio_out, R"({"event":"clear","streamSid":"MZ1"})"));
  if (shape.truncate_audio_end_ms >= 0)
    log.push_back(json_entry(2001, direction::upstream_out,
                             R"({"type":"conversation.item.truncate","item_id":"item_A","content_index":0,"audio_end_ms":)" +
                                 std::to_string(shape.truncate_audio_end_ms) + "}"));
  if (shape.barge_in_audio_end_ms >= 0)
    log.push_back(json_entry(2002, direction::event,
                             R"({"type":"barge_in","item_id":"item_A","audio_end_ms":)" +
                                 std::to_string(shape.barge_in_audio_end_ms) + "}"));
  log.push_back(json_entry(2500, direction::event, R"({"type":"transcript.final","role":"caller","text":"Wait"})"));
  log.push_back(json_entry(2600, direction::event,
                           R"({"type":"transcript.final","role":"assistant","text":")" + shape.assistant_text +
                               R"(","interrupted":)" + (shape.assistant_interrupted ? "true" : "false") + "}"));
  log.push_back(json_entry(3000, direction::event, R"({"type":"call.ended","reason":")" + shape.end_reason + R"("})"));
  return log;
}

replay_report compare(const call_shape& recorded, const call_shape& replayed, const replay_tolerance& tolerance = {}) {
  return compare_runs(call_log(recorded), call_log(replayed), tolerance);
}

std::vector<std::string> whats(const replay_report& report) {
  std::vector<std::string> out;
  for (const auto& d : report.differences) out.push_back(d.what);
  return out;
}

}  // namespace

TEST_CASE("replay_diff: identical runs pass and the summary says what was compared", "[record][replay_diff]") {
  const auto report = compare({}, {});
  CHECK(report.passed());
  CHECK(report.differences.empty());
  const auto text = format_report(report);
  CHECK_THAT(text, Catch::Matchers::Contains("barge-in (Twilio clear at): 1 recorded, 1 replayed"));
  CHECK_THAT(text, Catch::Matchers::Contains("marks sent to Twilio: 2 recorded, 2 replayed"));
  CHECK_THAT(text, Catch::Matchers::Contains("end reason: caller_hung_up recorded, caller_hung_up replayed"));
  CHECK_THAT(text, Catch::Matchers::Contains("upstream_out non-media messages: 3 recorded, 3 replayed"));
  CHECK_THAT(text, Catch::Matchers::EndsWith("\nPASS\n"));
}

TEST_CASE("replay_diff: timed values within their tolerances and a different amount of audio pass",
          "[record][replay_diff]") {
  call_shape replayed;
  replayed.clear_at_ms = 2000 + 119;
  replayed.truncate_audio_end_ms = 900 - 79;
  replayed.barge_in_audio_end_ms = 900 + 80;
  replayed.to_first_audio_ms = "830.0";
  replayed.to_heard_ms = "705.0";
  replayed.audio_frames = 5;
  const auto report = compare({}, replayed);
  CHECK(report.passed());
  INFO(format_report(report));
  CHECK(whats(report).empty());
}

TEST_CASE("replay_diff: a barge-in that moved beyond the tolerance is a difference", "[record][replay_diff]") {
  call_shape replayed;
  replayed.clear_at_ms = 2000 + 121;
  const auto report = compare({}, replayed);
  REQUIRE(report.differences.size() == 1);
  CHECK(report.differences[0].what == "barge-in (Twilio clear at) 1");
  CHECK(report.differences[0].expected == "2000.0 ms");
  CHECK(report.differences[0].actual == "2121.0 ms (+121.0 ms)");
  CHECK_FALSE(report.passed());

  SECTION("a wider tolerance accepts it") { CHECK(compare({}, replayed, {.clear_ms = 150}).passed()); }
}

TEST_CASE("replay_diff: a missing barge-in is a difference in its count", "[record][replay_diff]") {
  call_shape replayed;
  replayed.clear_at_ms = -1;
  const auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"barge-in (Twilio clear at) count", "twilio_out message types from #2"});
  CHECK(report.differences[0].expected == "1");
  CHECK(report.differences[0].actual == "0");
  CHECK(report.differences[1].expected == "clear");
  CHECK(report.differences[1].actual == "(end)");
}

TEST_CASE("replay_diff: a truncate's audio_end_ms beyond the tolerance is a difference", "[record][replay_diff]") {
  call_shape replayed;
  replayed.truncate_audio_end_ms = 900 + 81;
  const auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"truncate audio_end_ms 1"});
  CHECK(report.differences[0].actual == "981.0 ms (+81.0 ms)");
}

TEST_CASE("replay_diff: a barge_in event's audio_end_ms counts for providers without a truncate message",
          "[record][replay_diff]") {
  call_shape recorded;
  recorded.truncate_audio_end_ms = -1;  // GPT-Live and Gemini: nothing to truncate, the event says what was heard
  auto replayed = recorded;
  replayed.barge_in_audio_end_ms = 900 - 200;
  const auto report = compare(recorded, replayed);
  CHECK(whats(report) == std::vector<std::string>{"barge_in event audio_end_ms 1"});
  CHECK(report.differences[0].actual == "700.0 ms (-200.0 ms)");
}

TEST_CASE("replay_diff: a different transcript is a difference, quoted", "[record][replay_diff]") {
  call_shape replayed;
  replayed.assistant_text = "Your order is lost";
  auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"assistant transcript 1"});
  CHECK(report.differences[0].expected == "\"Your order has shipped\" (interrupted)");
  CHECK(report.differences[0].actual == "\"Your order is lost\" (interrupted)");

  SECTION("so is a turn no longer interrupted") {
    replayed = {};
    replayed.assistant_interrupted = false;
    report = compare({}, replayed);
    CHECK(whats(report) == std::vector<std::string>{"assistant transcript 1"});
    CHECK(report.differences[0].actual == "\"Your order has shipped\"");
  }
}

TEST_CASE("replay_diff: marks differing by more than one per barge-in are a difference", "[record][replay_diff]") {
  call_shape replayed;
  replayed.marks = 4;  // the recording has 2 marks and 1 clear
  const auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"marks sent to Twilio"});
  CHECK(report.differences[0].expected == "2");
  CHECK(report.differences[0].actual == "4");
}

TEST_CASE("replay_diff: one mark more or less per barge-in passes, a run of marks is one step of the sequence",
          "[record][replay_diff]") {
  call_shape replayed;
  replayed.marks = 3;  // a pacing release that raced the clear
  auto report = compare({}, replayed);
  INFO(format_report(report));
  CHECK(report.passed());
  CHECK_THAT(format_report(report), Catch::Matchers::Contains("marks sent to Twilio: 2 recorded, 3 replayed, tolerance 1"));

  // Without a barge-in there is nothing to race: one mark more is a difference.
  call_shape no_clear;
  no_clear.clear_at_ms = -1;
  auto more = no_clear;
  more.marks = 3;
  report = compare(no_clear, more);
  CHECK(whats(report) == std::vector<std::string>{"marks sent to Twilio"});

  // Marks where the recording had none change the sequence.
  call_shape unmarked;
  unmarked.marks = 0;
  call_shape one_mark;
  one_mark.marks = 1;
  report = compare(unmarked, one_mark);
  CHECK(whats(report) == std::vector<std::string>{"twilio_out message types from #1"});
  CHECK(report.differences[0].expected == "clear");
  CHECK(report.differences[0].actual == "mark, clear");
}

TEST_CASE("replay_diff: a different end reason is a difference", "[record][replay_diff]") {
  call_shape replayed;
  replayed.end_reason = "upstream_closed";
  const auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"end reason"});
  CHECK(report.differences[0].expected == "caller_hung_up");
  CHECK(report.differences[0].actual == "upstream_closed");
}

TEST_CASE("replay_diff: turn latency beyond the tolerance, or heard in one run only, is a difference",
          "[record][replay_diff]") {
  call_shape replayed;
  replayed.to_first_audio_ms = "831.0";
  replayed.to_heard_ms = "null";
  const auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"turn 1 to_first_audio_ms", "turn 1 to_heard_ms"});
  CHECK(report.differences[0].actual == "831.0 ms (+200.5 ms)");
  CHECK(report.differences[1].expected == "905.0 ms");
  CHECK(report.differences[1].actual == "null");
}

TEST_CASE("replay_diff: a changed sequence of messages to the provider is a difference", "[record][replay_diff]") {
  call_shape replayed;
  replayed.second_response_create = true;
  const auto report = compare({}, replayed);
  CHECK(whats(report) == std::vector<std::string>{"upstream_out message types from #3"});
  CHECK(report.differences[0].expected == "conversation.item.truncate");
  CHECK(report.differences[0].actual == "response.create, conversation.item.truncate");
}

TEST_CASE("replay_diff: a reconnect that did not happen in the replay is a difference", "[record][replay_diff]") {
  call_shape recorded;
  recorded.upstream_sessions = 2;
  const auto report = compare(recorded, {});
  CHECK(whats(report) == std::vector<std::string>{"upstream sessions"});
}

TEST_CASE("replay_diff: Gemini's caller audio is media, its other messages are typed by their key",
          "[record][replay_diff]") {
  const std::vector<log_entry> recorded{
      json_entry(1, direction::upstream_out, R"({"setup":{"model":"m"}})"),
      json_entry(2, direction::upstream_out, R"({"realtimeInput":{"audio":{"mimeType":"audio/pcm","data":"AA=="}}})"),
      json_entry(3, direction::upstream_out, R"({"toolResponse":{"functionResponses":[]}})"),
  };
  auto replayed = recorded;
  replayed.push_back(json_entry(4, direction::upstream_out, R"({"realtimeInput":{"audioStreamEnd":true}})"));
  const auto report = compare_runs(recorded, replayed, {});
  CHECK(whats(report) == std::vector<std::string>{"upstream_out message types from #3"});
  CHECK(report.differences[0].expected == "(end)");
  CHECK(report.differences[0].actual == "realtimeInput");
}

TEST_CASE("replay_diff: masked messages count by their type, messages that are not JSON as such",
          "[record][replay_diff]") {
  const std::vector<log_entry> recorded{
      entry(1, direction::upstream_out, payload_kind::masked, "conversation.item.create"),
      entry(2, direction::twilio_out, payload_kind::raw, "not json"),
  };
  const std::vector<log_entry> replayed{
      json_entry(1, direction::upstream_out, R"({"type":"conversation.item.create","item":{}})"),
      json_entry(2, direction::twilio_out, R"({"event":"mark","mark":{"name":"x"}})"),
  };
  const auto report = compare_runs(recorded, replayed, {});
  CHECK(whats(report) == std::vector<std::string>{"marks sent to Twilio", "twilio_out message types from #1"});
  CHECK(report.differences[1].expected == "(not JSON)");
  CHECK(report.differences[1].actual == "mark");
}

TEST_CASE("replay_diff: the report is bounded and peer text in it is escaped", "[record][replay_diff]") {
  std::vector<log_entry> recorded;
  std::vector<log_entry> replayed;
  for (int i = 0; i < 100; ++i) {
    recorded.push_back(json_entry(1000.0 * i, direction::twilio_out, R"({"event":"clear"})"));
    replayed.push_back(json_entry(1000.0 * i + 500, direction::twilio_out, R"({"event":"clear"})"));
  }
  recorded.push_back(json_entry(1, direction::event, R"({"type":"transcript.final","role":"caller","text":"a\nb"})"));
  replayed.push_back(json_entry(1, direction::event, R"({"type":"transcript.final","role":"caller","text":"a\u001b[2Jb"})"));
  const auto report = compare_runs(recorded, replayed, {});
  // Ten barge-ins listed, one line for the other ninety, and the transcript.
  REQUIRE(report.differences.size() == 12);
  CHECK(report.differences[10].what == "barge-in (Twilio clear at): more differences");
  CHECK(report.differences[10].actual == "90 not listed");
  CHECK(report.differences[11].what == "caller transcript 1");
  CHECK(report.differences[11].expected == "\"a\\nb\"");
  CHECK(report.differences[11].actual == "\"a\\x1b[2Jb\"");
  const auto text = format_report(report);
  CHECK(std::count(text.begin(), text.end(), '\n') == static_cast<long>(report.summary_lines.size() + 12 + 1));
  CHECK_THAT(text, Catch::Matchers::EndsWith("\nFAIL: 12 differences\n"));
}

namespace {

// The entries of a JSONL log as record/log_format reads them (a header line first).
std::vector<log_entry> parsed_log(std::string_view jsonl) {
  std::vector<log_entry> entries;
  std::string error;
  bool header = true;
  while (!jsonl.empty()) {
    const auto end = jsonl.find('\n');
    const auto line = jsonl.substr(0, end);
    jsonl = end == std::string_view::npos ? std::string_view{} : jsonl.substr(end + 1);
    if (std::exchange(header, false)) {
      REQUIRE(parse_header(line, error));
      continue;
    }
    auto entry = parse_entry(line, error);
    INFO(error);
    REQUIRE(entry);
    entries.push_back(std::move(*entry));
  }
  return entries;
}

constexpr std::string_view recorded_jsonl =
    R"({"type":"mediabridge.recording","version":1,"call_sid":"CA1","stream_sid":"MZ1","agent":"default","provider":"gemini","started_at":1765000000000,"dtmf_masked":false}
{"t":0.100,"dir":"upstream_open","connection":1}
{"t":0.200,"dir":"upstream_out","msg":{"setup":{"model":"models/gemini"}}}
{"t":900.000,"dir":"twilio_out","msg":{"event":"mark","streamSid":"MZ1","mark":{"name":"1"}}}
{"t":1500.250,"dir":"twilio_out","msg":{"event":"clear","streamSid":"MZ1"}}
{"t":1500.300,"dir":"event","msg":{"type":"barge_in","call_sid":"CA1","item_id":"t1","audio_end_ms":640}}
{"t":1600.000,"dir":"upstream_closed","connection":1,"detail":"goAway"}
{"t":1700.000,"dir":"upstream_open","connection":2}
{"t":3000.000,"dir":"event","msg":{"type":"call.ended","call_sid":"CA1","reason":"caller_hung_up"}}
)";

}  // namespace

TEST_CASE("replay_diff: logs read by record/log_format compare", "[record][replay_diff]") {
  const auto recorded = parsed_log(recorded_jsonl);
  REQUIRE(recorded.size() == 8);
  CHECK(compare_runs(recorded, recorded, {}).passed());

  SECTION("a replay without the reconnect and with a later barge-in differs in both") {
    std::string replayed_jsonl(recorded_jsonl);
    const auto erase_line = [&](std::string_view start) {
      const auto at = replayed_jsonl.find(start);
      REQUIRE(at != std::string::npos);
      replayed_jsonl.erase(at, replayed_jsonl.find('\n', at) + 1 - at);
    };
    erase_line(R"({"t":1700.000,"dir":"upstream_open")");
    replayed_jsonl.replace(replayed_jsonl.find("1500.250"), 8, "1700.000");
    const auto report = compare_runs(recorded, parsed_log(replayed_jsonl), {});
    CHECK(whats(report) == std::vector<std::string>{"barge-in (Twilio clear at) 1", "upstream sessions"});
    CHECK(report.differences[0].actual == "1700.0 ms (+199.8 ms)");
  }
}

TEST_CASE("replay_diff: a message without a type shows as ?", "[record][replay_diff]") {
  const std::vector<log_entry> recorded{json_entry(1, direction::twilio_out, R"({"event":"clear"})")};
  const std::vector<log_entry> replayed{json_entry(1, direction::twilio_out, R"({"streamSid":"MZ1"})")};
  const auto report = compare_runs(recorded, replayed, {});
  CHECK(whats(report) == std::vector<std::string>{"barge-in (Twilio clear at) count", "twilio_out message types from #1"});
  CHECK(report.differences[1].actual == "?");
}

TEST_CASE("replay_diff: transcripts compare per role, whatever their interleaving", "[record][replay_diff]") {
  const auto final_line = [](double t_ms, std::string_view role, std::string_view text) {
    return json_entry(t_ms, direction::event,
                      R"({"type":"transcript.final","role":")" + std::string(role) + R"(","text":")" + std::string(text) +
                          R"("})");
  };
  const std::vector<log_entry> recorded{final_line(1, "assistant", "Hello"), final_line(2, "caller", "Hi"),
                                        final_line(3, "assistant", "Bye")};
  const std::vector<log_entry> replayed{final_line(1, "caller", "Hi"), final_line(2, "assistant", "Hello"),
                                        final_line(3, "assistant", "Bye")};
  CHECK(compare_runs(recorded, replayed, {}).passed());

  const std::vector<log_entry> reordered{final_line(1, "caller", "Hi"), final_line(2, "assistant", "Bye"),
                                         final_line(3, "assistant", "Hello")};
  CHECK(whats(compare_runs(recorded, reordered, {})) ==
        std::vector<std::string>{"assistant transcript 1", "assistant transcript 2"});
}
