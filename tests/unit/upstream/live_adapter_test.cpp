#include "upstream/live_adapter.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codec/g711.hpp"
#include "protocol/base64.hpp"
#include "protocol/tool_calls.hpp"
#include "tests/unit/support/live_messages.hpp"
#include "tests/unit/support/padded.hpp"
#include "tests/unit/support/adapter_steps.hpp"
#include "upstream/provider.hpp"

using namespace mb::upstream;
namespace json = boost::json;

// Steps the GPT-Live adapter message by message on a fake clock (ms) and checks the neutral events,
// in order, as one line each. Turn grouping and the interruption rule: docs/protocols.md D5/D6.

namespace {


// One line per event: its kind, then the fields that are set.
std::string describe(const event& e) {
  std::string s(to_string(e.kind));
  const auto field = [&](std::string_view name, std::string_view value) {
    if (!value.empty()) s.append(" ").append(name).append("=").append(value);
  };
  field("turn", e.turn_id);
  if (e.response_id != e.turn_id) field("response", e.response_id);
  field("audio", e.audio_b64);
  if (e.kind == event_kind::assistant_transcript_final || e.kind == event_kind::caller_transcript_final)
    s.append(" text='").append(e.text).append("'");
  else
    field("text", e.text);
  field("format", e.input_format);
  return s;
}

using lines = std::vector<std::string>;

lines operator+(lines a, const lines& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The closing events of assistant turn `id`, whose transcript was `text`.
lines turn_end(std::string_view id, std::string_view text) {
  const std::string turn(id);
  return {"assistant_audio_done turn=" + turn,
          "assistant_transcript_final turn=" + turn + " text='" + std::string(text) + "'",
          "response_done turn=" + turn};
}

struct harness : mb::test::adapter_steps<live_adapter, describe> {
  // The numbers in these tests assume a 1000 ms caller gap.
  explicit harness(live_turn_timing timing = {.caller_gap = std::chrono::milliseconds(1000)})
      : adapter_steps("openai-live", timing) {}

  // The single event of the last step.
  const event& only() const {
    REQUIRE(out.size() == 1);
    return out.front();
  }
};

std::string audio(std::string_view b64) {
  return R"({"type":"session.output_audio.delta","delta":")" + std::string(b64) + R"("})";
}
std::string said(std::string_view text) {
  return R"({"type":"session.output_transcript.delta","delta":")" + std::string(text) +
         R"(","start_ms":0,"end_ms":100})";
}
std::string heard(std::string_view text) {
  return R"({"type":"session.input_transcript.delta","delta":")" + std::string(text) +
         R"(","start_ms":0,"end_ms":100})";
}
std::string started(std::string_view type = "audio/pcmu", int rate = 8000) {
  return R"({"type":"session.started","event_id":"e0","session":{"id":"live_1","model":"gpt-live-1",)"
         R"("expires_at":1767225600,"status":"active","audio":{"format":{"type":")" +
         std::string(type) + R"(","rate":)" + std::to_string(rate) + "}}}}";
}
std::string closed(std::string_view reason) {
  return R"({"type":"session.closed","reason":")" + std::string(reason) + R"(","usage":{"seconds":42}})";
}
std::string error_about(std::string_view client_event_id) {
  return R"({"type":"error","error":{"type":"invalid_request_error","code":"c","message":"m","client_event_id":")" +
         std::string(client_event_id) + R"("}})";
}

json::object parse_object(std::string_view text) { return json::parse(text).as_object(); }

}  // namespace

TEST_CASE("live_adapter: capabilities, and make_adapter picks it for openai-live", "[live_adapter]") {
  live_adapter a;
  CHECK(a.caps().provider == "openai-live");
  CHECK(a.caps().audio_format == "audio/pcmu");
  CHECK(a.caps().interruption == interruption_model::model_owned);
  CHECK(a.caps().transcripts == transcript_model::timed_deltas);
  CHECK_FALSE(a.caps().lifecycle.session_cap);
  CHECK(a.caps().acknowledges_close);
  CHECK_FALSE(a.caps().resumable);
  CHECK(make_adapter(provider_kind::openai_live)->caps().provider == "openai-live");
}

TEST_CASE("live_adapter: commands: session.start with history, greeting, close, nothing for heard or cancel",
          "[live_adapter]") {
  live_adapter a;
  mb::protocol::session_config config;
  config.model = "gpt-live-1";
  config.instructions = "Be brief.";
  config.voice = "cedar";
  const context_turn history[] = {{speaker::caller, "I need a taxi."}, {speaker::assistant, "Where to?"}};
  std::vector<std::string> out;
  a.open_session(config, history, out);
  REQUIRE(out.size() == 1);
  const auto start = parse_object(out[0]);
  CHECK(start.at("type") == "session.start");
  const auto& session = start.at("session").as_object();
  CHECK(session.at("model") == "gpt-live-1");
  CHECK(session.at("audio").at("output").at("voice") == "cedar");
  const auto& input = session.at("input").as_array();
  REQUIRE(input.size() == 2);
  CHECK(input[0].at("role") == "user");
  CHECK(input[0].at("content").at(0).at("text") == "I need a taxi.");
  CHECK(input[1].at("role") == "assistant");
  CHECK(input[1].at("content").at(0).at("type") == "output_text");

  out.clear();
  a.greet("Greet the caller.", out);
  REQUIRE(out.size() == 1);
  const auto greeting = parse_object(out[0]);
  CHECK(greeting.at("type") == "session.instructions.append");
  CHECK(greeting.at("content") == "Greet the caller.");
  CHECK(greeting.at("delegation_id").is_null());

  out.clear();
  a.report_heard("live_a1", 0, 1200, out);
  a.cancel_response(out);
  CHECK(out.empty());

  a.close_session(out);
  REQUIRE(out.size() == 1);
  CHECK(parse_object(out[0]).at("type") == "session.close");

  std::string frame;
  a.append_caller_audio(frame, "//79");
  CHECK(frame == R"({"type":"session.input_audio.append","audio":"//79"})");
}

TEST_CASE("live_adapter: history beyond 128 turns loses its oldest", "[live_adapter]") {
  live_adapter a;
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("turn " + std::to_string(i));
  std::vector<context_turn> history;
  for (const auto& t : texts) history.push_back({speaker::caller, t});
  std::vector<std::string> out;
  a.open_session({}, history, out);
  const auto input = parse_object(out.at(0)).at("session").at("input").as_array();
  REQUIRE(input.size() == 128);
  CHECK(input.front().at("content").at(0).at("text") == "turn 72");
  CHECK(input.back().at("content").at(0).at("text") == "turn 199");
}

TEST_CASE("live_adapter: session.started and the format guard's strings", "[live_adapter]") {
  harness h;
  CHECK(h.step(started(), 0) == lines{"session_ready format=audio/pcmu"});
  CHECK(h.only().output_format == "audio/pcmu");
  CHECK(h.step(started("audio/pcm", 16000), 0) == lines{"session_ready format=audio/pcm@16000"});
  CHECK(h.only().output_format == "audio/pcm@16000");
  CHECK(h.step(started("audio/pcmu", 16000), 0) == lines{"session_ready format=audio/pcmu@16000"});
  CHECK(h.step(started("audio/pcma", 8000), 0) == lines{"session_ready format=audio/pcma@8000"});
  CHECK(h.step(R"({"type":"session.started","session":{"id":"live_1","status":"active"}})", 0) ==
        lines{"session_ready format=no audio.format"});
  CHECK(h.step(R"({"type":"session.updated","session":{"audio":{"format":{"type":"audio/pcmu","rate":8000}}}})", 0) ==
        lines{"session_ready format=audio/pcmu"});
}

TEST_CASE("live_adapter: an assistant turn opens at its first delta and closes after the gap", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  // response_id = turn_id on every assistant event: describe() names the response only when they differ.
  CHECK(h.step(audio("AAAA"), 1000) ==
        lines{"response_started response=live_a1", "assistant_audio turn=live_a1 audio=AAAA"});
  CHECK(h.step(said("Hello"), 1100) == lines{"assistant_transcript_delta turn=live_a1 text=Hello"});
  CHECK(h.step(audio("BBBB"), 1200) == lines{"assistant_audio turn=live_a1 audio=BBBB"});
  CHECK(h.step(said(" there."), 1300) == lines{"assistant_transcript_delta turn=live_a1 text= there."});
  CHECK(h.adapter.next_wakeup() == 1800);
  CHECK(h.tick(1799).empty());
  CHECK(h.tick(1800) == turn_end("live_a1", "Hello there."));
  CHECK_FALSE(h.adapter.next_wakeup());
  CHECK(h.tick(5000).empty());
}

TEST_CASE("live_adapter: a turn may open with its transcript, each delta extends the gap", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  CHECK(h.step(said("Hi"), 100) ==
        lines{"response_started response=live_a1", "assistant_transcript_delta turn=live_a1 text=Hi"});
  CHECK(h.step(audio("AAAA"), 550) == lines{"assistant_audio turn=live_a1 audio=AAAA"});
  CHECK(h.adapter.next_wakeup() == 1050);
  CHECK(h.tick(1049).empty());
  CHECK(h.tick(1050).size() == 3);
}

TEST_CASE("live_adapter: a turn with no transcript still ends with an empty final", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(audio("AAAA"), 0);
  CHECK(h.tick(500) == turn_end("live_a1", ""));
}

TEST_CASE("live_adapter: a message after the gap closes the old turn first, without a tick", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(said("One."), 0);
  // The closing events view the closed turn while the new one opens in the same step.
  CHECK(h.step(said("Two."), 700) == turn_end("live_a1", "One.") + lines{"response_started response=live_a2",
                                           "assistant_transcript_delta turn=live_a2 text=Two."});
  CHECK(h.tick(1200) == turn_end("live_a2", "Two."));
}

TEST_CASE("live_adapter: a caller turn closes after its gap", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  // A caller turn that begins while the model is silent is the caller's cue (the core clears any
  // answer still queued for playback; here there is none).
  CHECK(h.step(heard("I need "), 100) ==
        lines{"caller_transcript_delta turn=live_c1 text=I need ", "caller_speech_started"});
  CHECK(h.step(heard("a taxi."), 900) == lines{"caller_transcript_delta turn=live_c1 text=a taxi."});
  CHECK(h.adapter.next_wakeup() == 1900);
  CHECK(h.tick(1899).empty());
  CHECK(h.tick(1900) == lines{"caller_transcript_final turn=live_c1 text='I need a taxi.'"});
  CHECK(h.step(heard("Hello?"), 3000) ==
        lines{"caller_transcript_delta turn=live_c2 text=Hello?", "caller_speech_started"});
}

TEST_CASE("live_adapter: a caller turn closes when the assistant's turn opens after it", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(heard("Where is it?"), 0);
  CHECK(h.step(audio("AAAA"), 300) == lines{"caller_transcript_final turn=live_c1 text='Where is it?'",
                                            "response_started response=live_a2",
                                            "assistant_audio turn=live_a2 audio=AAAA"});
  CHECK(h.adapter.next_wakeup() == 800);  // the caller's deadline is gone with its turn
}

TEST_CASE("live_adapter: next_wakeup is the earlier of both deadlines, and both close in order", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(audio("AAAA"), 0);
  h.step(heard("Wait"), 100);  // caller deadline 1100; talked over, the assistant's is 0 + 200
  h.step(audio("BBBB"), 150);  // within the yield gap: the same turn, deadline 350
  CHECK(h.adapter.next_wakeup() == 350);
  CHECK(h.tick(2000) == lines{"caller_speech_started"} + turn_end("live_a1", "") +
                            lines{"caller_transcript_final turn=live_c2 text='Wait'"});
}

TEST_CASE("live_adapter: the interruption rule: caller speech during the turn's audio cuts it at its close",
          "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(audio("AAAA"), 0);
  h.step(said("Your taxi will"), 50);
  CHECK(h.step(heard("No, stop"), 200) == lines{"caller_transcript_delta turn=live_c2 text=No, stop"});
  // Talked over, the turn ends after the shorter yield gap (200 ms after its last delta, not 500).
  CHECK(h.adapter.next_wakeup() == 250);
  CHECK(h.tick(249).empty());
  // caller_speech_started comes first, so the core clears the queued audio before the turn ends.
  CHECK(h.tick(250) == lines{"caller_speech_started"} + turn_end("live_a1", "Your taxi will"));
  CHECK(h.tick(1200) == lines{"caller_transcript_final turn=live_c2 text='No, stop'"});

  // The rule is per turn: the next one, without caller speech, closes normally.
  h.step(audio("BBBB"), 2000);
  CHECK(h.tick(2500) == turn_end("live_a3", ""));
}

TEST_CASE("live_adapter: caller speech before the turn's first audio does not cut it, after its close it is a cue at once",
          "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(said("Let me"), 0);    // the turn has no audio yet: the model is starting to talk
  CHECK(h.step(heard("Hm"), 100) == lines{"caller_transcript_delta turn=live_c2 text=Hm"});
  CHECK(h.tick(500) == turn_end("live_a1", "Let me"));
  h.step(audio("AAAA"), 600);   // closes the caller's turn, opens a new assistant turn
  CHECK(h.tick(1100).size() == 3);
  // After the close the model has sent all it will, but it may still be playing: the cue comes at once.
  CHECK(h.step(heard("Thanks"), 1200) ==
        lines{"caller_transcript_delta turn=live_c4 text=Thanks", "caller_speech_started"});
  CHECK(h.tick(2200) == lines{"caller_transcript_final turn=live_c4 text='Thanks'"});
}

TEST_CASE("live_adapter: talked over after the model has been silent for the yield gap, the turn is cut at once",
          "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(audio("AAAA"), 0);
  // 300 ms of silence from the model (more than the yield gap, less than the turn gap): it had sent
  // its whole answer ahead of playback; the caller's speech cuts it now, not 200 ms later.
  CHECK(h.step(heard("Stop"), 300) == lines{"caller_transcript_delta turn=live_c2 text=Stop", "caller_speech_started"} +
                                          turn_end("live_a1", ""));
}

TEST_CASE("live_adapter: session.closed closes open turns first, then ends the session by its reason",
          "[live_adapter]") {
  const std::pair<std::string_view, session_ending> reasons[] = {
      {"close_requested", session_ending::expected}, {"expired", session_ending::restart},
      {"connection_lost", session_ending::restart},  {"content", session_ending::end_call},
      {"remote_hangup", session_ending::end_call},   {"something_new", session_ending::end_call},
      {"", session_ending::end_call}};
  for (const auto& [reason, ending] : reasons) {
    INFO(reason);
    harness h;
    h.step(started(), 0);
    h.step(heard("Bye"), 0);
    h.step(audio("AAAA"), 100);
    h.step(said("Goodbye."), 100);
    const auto events = h.step(closed(reason), 200);
    REQUIRE(events.size() == 4);
    CHECK(events[0] == "assistant_audio_done turn=live_a2");
    CHECK(events[1] == "assistant_transcript_final turn=live_a2 text='Goodbye.'");
    CHECK(events[2] == "response_done turn=live_a2");
    const auto& ended = h.out.back();
    CHECK(ended.kind == event_kind::session_ended);
    CHECK(ended.ending == ending);
    CHECK(ended.text == reason);
    CHECK(ended.used.seconds == 42);
    CHECK_FALSE(h.adapter.next_wakeup());
  }
}

TEST_CASE("live_adapter: session.closed with both turns open closes both", "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(audio("AAAA"), 0);
  h.step(heard("Stop"), 50);
  CHECK(h.step(closed("close_requested"), 100) ==
        lines{"caller_speech_started"} + turn_end("live_a1", "") +
            lines{"caller_transcript_final turn=live_c2 text='Stop'", "session_ended text=close_requested"});
}

TEST_CASE("live_adapter: error scopes before and after session.started", "[live_adapter]") {
  harness h;
  h.step(error_about("mb_instructions_append"), 0);
  CHECK(h.only().kind == event_kind::error);
  CHECK(h.only().error.scope == error_scope::session);  // a startup error: the session never starts
  CHECK(h.only().error.code == "c");
  CHECK(h.only().error.message == "m");
  CHECK(h.only().error.type == "invalid_request_error");

  h.step(started(), 0);
  h.step(error_about("mb_instructions_append"), 0);
  CHECK(h.only().error.scope == error_scope::command);
  CHECK(h.only().error.client_event_id == "mb_instructions_append");
  h.step(R"({"type":"error","error":{"type":"invalid_request_error","code":"x","message":"y"}})", 0);
  CHECK(h.only().error.scope == error_scope::command);
  h.step(error_about("mb_session_start"), 0);
  CHECK(h.only().error.scope == error_scope::session);

  // A new session starts over: its errors before session.started are startup errors again.
  std::vector<std::string> commands;
  h.adapter.open_session({}, {}, commands);
  h.step(error_about("mb_instructions_append"), 0);
  CHECK(h.only().error.scope == error_scope::session);
}

TEST_CASE("live_adapter: turn ids stay unique across sessions, open_session drops open turns silently",
          "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  h.step(audio("AAAA"), 0);
  h.step(heard("Hi"), 10);
  std::vector<std::string> commands;
  h.adapter.open_session({}, {}, commands);
  CHECK_FALSE(h.adapter.next_wakeup());
  CHECK(h.tick(10000).empty());
  h.step(started(), 20000);
  CHECK(h.step(audio("BBBB"), 20000) ==
        lines{"response_started response=live_a3", "assistant_audio turn=live_a3 audio=BBBB"});
  CHECK(h.step(heard("Yes"), 20010) == lines{"caller_transcript_delta turn=live_c4 text=Yes"});
  // No caller_speech_started was carried over from the dropped turn, and this one had caller speech.
  CHECK(h.tick(20500).front() == "caller_speech_started");
}

TEST_CASE("live_adapter: usage, known events without use, unknown events, and parse errors", "[live_adapter]") {
  harness h;
  CHECK(h.step(R"({"type":"session.usage.updated","usage":{"seconds":60}})", 0) == lines{"ignored"});
  CHECK(h.step(R"({"type":"session.delegation.created","delegation":{"id":"d1","target":"client"}})", 0) ==
        lines{"ignored"});
  CHECK(h.step(R"({"type":"info","code":"x"})", 0) == lines{"ignored"});
  CHECK(h.step(R"({"type":"transport.ringing","session_id":"s"})", 0) == lines{"ignored"});
  CHECK(h.step(R"({"type":"session.created","event_id":"e"})", 0) == lines{"unknown"});
  CHECK(h.only().type_name == "session.created");

  h.step(said("Hi"), 0);
  // A malformed message yields nothing, not even the closing of a due turn (a tick does that).
  CHECK(h.step(R"({"type":"session.output_audio.delta"})", 1000).empty());
  REQUIRE(h.error);
  CHECK(h.error->what == "delta is missing");
  CHECK(h.tick(1000).size() == 3);
}

TEST_CASE("live_adapter: gaps are configurable", "[live_adapter]") {
  harness h(live_turn_timing{.assistant_gap = std::chrono::milliseconds(200),
                             .caller_gap = std::chrono::milliseconds(300)});
  h.step(heard("a"), 0);
  CHECK(h.adapter.next_wakeup() == 300);
  h.step(audio("AAAA"), 50);
  CHECK(h.adapter.next_wakeup() == 250);
  CHECK(h.tick(249).empty());
  CHECK(h.tick(250).size() == 3);
}

TEST_CASE("live_adapter: a turn's transcript stops growing at its bound", "[live_adapter]") {
  harness h;
  const std::string chunk(1000, 'x');
  for (int i = 0; i < 70; ++i) h.step(said(chunk), i);
  h.tick(1000);
  REQUIRE(h.out.size() == 3);
  CHECK(h.out[1].text.size() == 65000);  // 65 whole deltas fit in 64 KiB
}

// --- The transcoding fallback (docs/protocols.md G2) ------------------------------------------------

namespace {

constexpr std::string_view transcoding_line =
    "session_ready text=the session confirmed audio/pcm at 24000 Hz, not audio/pcmu: transcoding both ways "
    "format=audio/pcmu";

// `ms` of a 440 Hz tone as PCM16 LE at `rate`, from sample `first` on.
std::string tone_pcm(int rate, int ms, int first = 0) {
  std::string bytes;
  for (int i = first; i < first + rate * ms / 1000; ++i) {
    const auto v = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440.0 * i / rate));
    bytes.push_back(static_cast<char>(v & 0xFF));
    bytes.push_back(static_cast<char>((v >> 8) & 0xFF));
  }
  return bytes;
}

// One 20 ms Twilio frame of the same tone, μ-law, base64.
std::string tone_frame_b64(int frame) {
  const auto pcm = tone_pcm(8000, 20, frame * 160);
  std::vector<std::int16_t> samples(160);
  std::memcpy(samples.data(), pcm.data(), pcm.size());
  std::string ulaw(160, '\0');
  mb::codec::encode_ulaw(samples, std::span(reinterpret_cast<std::uint8_t*>(ulaw.data()), ulaw.size()));
  return mb::protocol::base64_encode(ulaw);
}

std::string pcm_audio(std::string_view pcm) { return audio(mb::protocol::base64_encode(pcm)); }

// The decoded bytes of every assistant_audio event of the last step.
std::size_t audio_bytes(const harness& h) {
  std::size_t n = 0;
  for (const auto& e : h.out)
    if (e.kind == event_kind::assistant_audio) {
      const auto bytes = mb::protocol::base64_decode(e.audio_b64);
      REQUIRE(bytes);
      CHECK(bytes->size() % 160 == 0);  // whole 20 ms frames only
      n += bytes->size();
    }
  return n;
}

double rms_of_pcm(std::string_view pcm) {
  double sum = 0;
  const std::size_t samples = pcm.size() / 2;
  for (std::size_t i = 0; i < samples; ++i) {
    std::int16_t v;
    std::memcpy(&v, pcm.data() + 2 * i, 2);
    sum += double(v) * v;
  }
  return samples ? std::sqrt(sum / samples) : 0;
}

}  // namespace

TEST_CASE("live_adapter: PCM16 at 24 kHz confirmed: the core gets μ-law both ways, and a note for its log",
          "[live_adapter][transcoding]") {
  harness h;
  CHECK(h.step(started("audio/pcm", 24000), 0) == lines{std::string(transcoding_line)});
  CHECK(h.only().input_format == "audio/pcmu");
  // Told once per session: session.updated repeating the format adds no second note.
  CHECK(h.step(R"({"type":"session.updated","session":{"audio":{"format":{"type":"audio/pcm","rate":24000}}}})", 0) ==
        lines{"session_ready format=audio/pcmu"});
  // Other formats still fail the call at the core's format guard.
  CHECK(h.step(started("audio/pcma", 8000), 0) == lines{"session_ready format=audio/pcma@8000"});
  CHECK(h.step(started("audio/pcm", 16000), 0) == lines{"session_ready format=audio/pcm@16000"});
}

TEST_CASE("live_adapter: transcoding the caller: μ-law 8 kHz in, PCM16 24 kHz out, the signal kept",
          "[live_adapter][transcoding]") {
  harness h;
  h.step(started("audio/pcm", 24000), 0);
  std::string frame;
  std::string pcm;
  for (int i = 0; i < 50; ++i) {
    frame.clear();
    h.adapter.append_caller_audio(frame, tone_frame_b64(i));
    if (frame.empty()) continue;  // the resampler is gathering a block: no message rather than an empty one
    const auto message = parse_object(frame);
    CHECK(message.at("type") == "session.input_audio.append");
    const auto bytes = mb::protocol::base64_decode(std::string_view(message.at("audio").as_string()));
    REQUIRE(bytes);
    pcm += *bytes;
  }
  // One second in, one second out, less what the resampler still holds (its delay and block).
  CHECK(pcm.size() <= 48000);
  CHECK(pcm.size() >= 48000 * 9 / 10);
  // The tone's level survives (8000 peak: RMS about 5657), after the resampler's start-up.
  CHECK(rms_of_pcm(std::string_view(pcm).substr(pcm.size() / 2)) == Approx(5657).epsilon(0.1));

  // A new session confirming μ-law goes back to passthrough.
  std::vector<std::string> ignored;
  h.adapter.open_session({}, {}, ignored);
  h.step(started(), 0);
  frame.clear();
  h.adapter.append_caller_audio(frame, "//79");
  CHECK(frame == R"({"type":"session.input_audio.append","audio":"//79"})");
}

TEST_CASE("live_adapter: transcoding the model: whole μ-law frames, the tail flushed at the turn's end",
          "[live_adapter][transcoding]") {
  harness h;
  h.step(started("audio/pcm", 24000), 0);
  std::size_t total = 0;
  std::vector<const char*> buffers;
  for (int i = 0; i < 3; ++i) {
    // 110 ms per delta: never a whole number of frames, so each leaves a partial frame behind. The
    // resampler works in blocks: a delta may yield no whole frame yet, and then has no audio event.
    h.step(pcm_audio(tone_pcm(24000, 110, i * 2640)), 100 * i);
    total += audio_bytes(h);
    for (const auto& e : h.out)
      if (e.kind == event_kind::assistant_audio) buffers.push_back(e.audio_b64.data());
  }
  REQUIRE(buffers.size() >= 2);
  // The same buffer each time: deltas allocate nothing once it has grown.
  CHECK(std::all_of(buffers.begin(), buffers.end(), [&](const char* b) { return b == buffers.front(); }));
  CHECK(total % 160 == 0);
  CHECK(total < 2640);  // 330 ms is 2640 bytes: a partial frame (and the resampler's delay) still held

  // The turn closes after the gap: the tail first, padded to a whole frame, then the turn's end.
  const auto closing = h.tick(200 + 500);
  REQUIRE(closing.size() == 4);
  CHECK(closing[0].starts_with("assistant_audio turn=live_a1 audio="));
  CHECK(lines(closing.begin() + 1, closing.end()) == turn_end("live_a1", ""));
  total += audio_bytes(h);
  CHECK(total >= 2640);
  CHECK(total <= 2640 + 160);

  // The next turn starts afresh: nothing of the last one left to flush.
  h.step(pcm_audio(tone_pcm(24000, 40)), 1000);
  CHECK(audio_bytes(h) <= 320);
}

TEST_CASE("live_adapter: transcoding: playback_cleared drops what is held, a cut turn leaves no tail",
          "[live_adapter][transcoding]") {
  SECTION("playback_cleared") {
    harness h;
    h.step(started("audio/pcm", 24000), 0);
    h.step(pcm_audio(tone_pcm(24000, 50)), 0);  // two frames and a partial one
    h.adapter.playback_cleared();
    CHECK(h.tick(600) == turn_end("live_a1", ""));
  }
  SECTION("a turn the caller talked over") {
    harness h;
    h.step(started("audio/pcm", 24000), 0);
    h.step(pcm_audio(tone_pcm(24000, 50)), 0);
    h.step(heard("wait"), 50);
    CHECK(h.tick(250) == lines{"caller_speech_started"} + turn_end("live_a1", ""));
  }
  SECTION("the same turn without transcoding has no extra event either way") {
    harness h;
    h.step(started(), 0);
    h.step(audio("AAAA"), 0);
    CHECK(h.tick(600) == turn_end("live_a1", ""));
  }
}

using mb::test::delegated_call;

TEST_CASE("live_adapter: a delegated function call is one tool_call, the turns go on (docs/protocols.md I2)",
          "[live_adapter]") {
  harness h;
  h.step(started(), 0);
  CHECK(h.step(said("Let me check."), 100) == lines{"response_started response=live_a1",
                                                     "assistant_transcript_delta turn=live_a1 text=Let me check."});
  CHECK(h.step(delegated_call("call_7", "lookup_order", R"({"order":"42"})"), 200) == lines{"tool_call"});
  const auto& call = h.only();
  CHECK(call.tool_call_id == "call_7");
  CHECK(call.tool_name == "lookup_order");
  CHECK(call.tool_arguments == R"({"order":"42"})");
  CHECK(call.type_name == "response.event");
  // The assistant's turn is still open, and closes after its gap as before.
  CHECK(h.tick(700) == turn_end("live_a1", "Let me check."));

  // Other delegation events are ignored; an oversize call is an error, not a call (I5).
  CHECK(h.step(R"({"type":"response.event","event":{"type":"response.created","response":{"id":"r"}}})", 800) ==
        lines{"ignored"});
  CHECK(h.step(delegated_call("call_8", "f", std::string(mb::protocol::max_tool_arguments_bytes + 1, ' ')), 900) ==
        lines{"error"});
  CHECK(h.only().error.code == "tool_arguments_too_large");
  CHECK(h.only().error.scope == error_scope::command);
}

TEST_CASE("live_adapter: tool results, and context text as a session instruction (docs/protocols.md I2, I4)",
          "[live_adapter]") {
  live_adapter a;
  std::vector<std::string> out;
  a.send_tool_result("call_7", "lookup_order", R"({"status":"shipped"})", false, out);
  REQUIRE(out.size() == 1);
  CHECK(parse_object(out[0]) == json::object{{"type", "response.item.create"},
                                             {"event_id", "mb_tool_result"},
                                             {"item",
                                              {{"type", "function_call_output"},
                                               {"call_id", "call_7"},
                                               {"output", R"({"status":"shipped"})"}}}});
  out.clear();
  a.send_tool_result("call_8", "f", "{}", true, out);
  REQUIRE(out.size() == 2);
  CHECK(parse_object(out[1]).at("type") == "response.create");

  for (const bool respond : {false, true}) {
    out.clear();
    a.add_context_text("The caller pressed \"4 2 #\".", respond, out);
    REQUIRE(out.size() == 1);  // the model takes its turns itself: nothing asks it to answer
    const auto append = parse_object(out[0]);
    CHECK(append.at("type") == "session.instructions.append");
    CHECK(append.at("content") == "The caller pressed \"4 2 #\".");
    CHECK(append.at("delegation_id").is_null());
  }
}

TEST_CASE("live_adapter: a SIP call's sideband: no session.start, DTMF keys, transcripts without audio "
          "(docs/protocols.md J3, J4)",
          "[live_adapter]") {
  harness h;
  // The call's accept started the session: there is no session.started to wait for, and errors from
  // now on concern single commands.
  h.adapter.attach_sideband();
  h.step(error_about("mb_instructions_append"), 0);
  CHECK(h.only().error.scope == error_scope::command);

  CHECK(h.step(R"({"type":"transport.dtmf.received","event_id":"e1","event":"7"})", 0) ==
        lines{"caller_dtmf text=7"});
  CHECK(h.step(R"({"type":"transport.dtmf.received","event_id":"e2","event":"x"})", 0) == lines{"ignored"});
  CHECK(h.step(R"({"type":"transport.dtmf.received","event_id":"e3"})", 0).empty());
  REQUIRE(h.error);
  // The reflected caller audio and the SIP leg's own events are known and of no use.
  CHECK(h.step(R"({"type":"session.input_audio.append","audio":"AAAA","start_ms":0,"end_ms":10})", 0) ==
        lines{"ignored"});
  CHECK(h.step(R"({"type":"transport.dtmf.send","event":"1"})", 0) == lines{"ignored"});

  // Without audio deltas the transcript makes the turn, and the caller talking over it cuts it.
  CHECK(h.step(said("Your order"), 100) ==
        lines{"response_started response=live_a1", "assistant_transcript_delta turn=live_a1 text=Your order"});
  CHECK(h.step(heard("Wait"), 200) == lines{"caller_transcript_delta turn=live_c2 text=Wait"});
  CHECK(h.tick(300) == lines{"caller_speech_started"} + turn_end("live_a1", "Your order"));
  CHECK(h.tick(1200) == lines{"caller_transcript_final turn=live_c2 text='Wait'"});

  // A new sideband forgets the open turns; its ids stay unique.
  h.step(said("Hm"), 2000);
  h.adapter.attach_sideband();
  CHECK_FALSE(h.adapter.next_wakeup());
  CHECK(h.step(said("So"), 3000).front() == "response_started response=live_a4");
}
