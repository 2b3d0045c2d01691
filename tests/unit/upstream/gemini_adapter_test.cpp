#include "upstream/gemini_adapter.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/g711.hpp"
#include "protocol/base64.hpp"
#include "protocol/tool_calls.hpp"
#include "tests/unit/support/adapter_steps.hpp"
#include "upstream/provider.hpp"

using namespace mb::upstream;
namespace json = boost::json;

// Steps the Gemini adapter message by message on a fake clock (ms) and checks the neutral events in
// order, one line each; model audio is real PCM16 at 24 kHz, transcoded to μ-law on the way
// (docs/protocols.md F3–F6).

namespace {

using mb::protocol::base64_decode;
using mb::protocol::base64_encode;

constexpr std::size_t frame_bytes = mb::codec::phone_frame_bytes;

// Model speech: a 440 Hz tone at 24 kHz, PCM16 little-endian, `samples` long from sample `from`.
std::string model_pcm(std::size_t samples, std::size_t from = 0) {
  std::string bytes(samples * 2, '\0');
  for (std::size_t i = 0; i < samples; ++i) {
    const auto v = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440 * double(from + i) / 24000));
    bytes[2 * i] = static_cast<char>(v & 0xFF);
    bytes[2 * i + 1] = static_cast<char>((v >> 8) & 0xFF);
  }
  return bytes;
}

std::string model_audio_b64(std::string_view pcm, std::string_view mime = "audio/pcm;rate=24000") {
  return R"({"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":")" + std::string(mime) +
         R"(","data":")" + base64_encode(pcm) + R"("}}]}}})";
}
std::string model_audio(std::size_t samples) { return model_audio_b64(model_pcm(samples)); }

std::string content(std::string_view fields) { return R"({"serverContent":{)" + std::string(fields) + "}}"; }
std::string said(std::string_view text, bool finished = false) {
  return content(R"("outputTranscription":{"text":")" + std::string(text) + R"(","finished":)" +
                 (finished ? "true" : "false") + "}");
}
std::string heard(std::string_view text, bool finished = false) {
  return content(R"("inputTranscription":{"text":")" + std::string(text) + R"(","finished":)" +
                 (finished ? "true" : "false") + "}");
}
const std::string setup_complete = R"({"setupComplete":{}})";
const std::string generation_complete = content(R"("generationComplete":true)");
const std::string turn_complete = content(R"("turnComplete":true)");
const std::string interrupted = content(R"("interrupted":true)");
std::string resumption(std::string_view handle, bool resumable = true) {
  return R"({"sessionResumptionUpdate":{"newHandle":")" + std::string(handle) + R"(","resumable":)" +
         (resumable ? "true" : "false") + "}}";
}

std::size_t decoded_size(std::string_view b64) { return base64_decode(b64).value_or("?").size(); }

// One line per event: its kind, the turn, and text when it has some (audio sizes are checked apart).
std::string line_of(const event& e) {
  std::string s(to_string(e.kind));
  if (!e.turn_id.empty()) s += " " + std::string(e.turn_id);
  if (e.kind == event_kind::response_started) s += " " + std::string(e.response_id);
  if (!e.response_id.empty() && e.response_id != e.turn_id && !e.turn_id.empty())
    s += " response=" + std::string(e.response_id);
  if (!e.text.empty() || e.kind == event_kind::assistant_transcript_final ||
      e.kind == event_kind::caller_transcript_final)
    s += " '" + std::string(e.text) + "'";
  return s;
}

using lines = std::vector<std::string>;

struct harness : mb::test::adapter_steps<gemini_adapter, line_of> {
  std::vector<std::string> commands;

  // The open_session commands, parsed.
  std::vector<json::object> open(std::span<const context_turn> history = {}) {
    commands.clear();
    adapter.open_session(config(), history, commands);
    std::vector<json::object> parsed;
    for (const auto& c : commands) parsed.push_back(json::parse(c).as_object());
    return parsed;
  }

  static mb::protocol::session_config config() {
    mb::protocol::session_config c;
    c.model = "gemini-3.8-live";
    c.instructions = "Be brief.";
    return c;
  }

  // The μ-law bytes of every assistant_audio event of the last step.
  [[nodiscard]] std::size_t audio_bytes() const {
    std::size_t n = 0;
    for (const auto& e : out)
      if (e.kind == event_kind::assistant_audio) n += decoded_size(e.audio_b64);
    return n;
  }
};

// A session that has been set up, at t = 0.
harness ready_harness() {
  harness h;
  h.open();
  h.step(setup_complete, 0);
  return h;
}

const context_turn taxi_history[] = {{speaker::caller, "I need a taxi."}, {speaker::assistant, "Where to?"}};

}  // namespace

TEST_CASE("gemini_adapter: capabilities, and make_adapter picks it for gemini", "[gemini_adapter]") {
  gemini_adapter a;
  CHECK(a.caps().provider == "gemini");
  CHECK(a.caps().audio_format == "audio/pcmu");
  CHECK(a.caps().interruption == interruption_model::local_flush_only);
  CHECK(a.caps().transcripts == transcript_model::chunks_finished);
  CHECK(a.caps().lifecycle.session_cap == gemini_live_lifecycle.session_cap);
  CHECK(a.caps().resumable);
  CHECK_FALSE(a.caps().acknowledges_close);
  CHECK(make_adapter(provider_kind::gemini_live)->caps().provider == "gemini");
}

TEST_CASE("gemini_adapter: commands: setup and history, greeting, nothing for heard, cancel or close",
          "[gemini_adapter]") {
  harness h;
  const auto sent = h.open(taxi_history);
  REQUIRE(sent.size() == 2);
  const auto& setup = sent[0].at("setup").as_object();
  CHECK(setup.at("model") == "models/gemini-3.8-live");
  CHECK(setup.at("sessionResumption") == json::object{});
  CHECK(setup.at("systemInstruction").at("parts").at(0).at("text") == "Be brief.");
  const auto& history = sent[1].at("clientContent").as_object();
  CHECK(history.at("turnComplete") == false);
  REQUIRE(history.at("turns").as_array().size() == 2);
  CHECK(history.at("turns").at(0).at("role") == "user");
  CHECK(history.at("turns").at(1).at("role") == "model");
  CHECK(history.at("turns").at(1).at("parts").at(0).at("text") == "Where to?");

  CHECK(h.open().size() == 1);  // no history, no clientContent

  std::vector<std::string> out;
  h.adapter.greet("Greet the caller.", out);
  REQUIRE(out.size() == 1);
  const auto greeting = json::parse(out[0]).at("clientContent").as_object();
  CHECK(greeting.at("turnComplete") == true);
  CHECK(greeting.at("turns").at(0).at("role") == "user");
  CHECK(greeting.at("turns").at(0).at("parts").at(0).at("text") == "Greet the caller.");

  out.clear();
  h.adapter.report_heard("gm_a1", 0, 1200, out);
  h.adapter.cancel_response(out);
  h.adapter.close_session(out);
  CHECK(out.empty());
}

TEST_CASE("gemini_adapter: setupComplete is session_ready with μ-law both ways", "[gemini_adapter]") {
  harness h;
  h.open();
  CHECK(h.step(setup_complete, 0) == lines{"session_ready"});
  CHECK(h.out[0].input_format == "audio/pcmu");
  CHECK(h.out[0].output_format == "audio/pcmu");
}

TEST_CASE("gemini_adapter: caller audio: μ-law 8 kHz in, PCM16 16 kHz realtimeInput out", "[gemini_adapter]") {
  harness h;
  h.open();
  // One second of a 1 kHz tone as Twilio sends it: 50 frames of 160 μ-law bytes.
  std::size_t pcm_bytes = 0;
  double energy = 0;
  std::string message;
  int withheld = 0;
  for (int f = 0; f < 50; ++f) {
    std::string ulaw(frame_bytes, '\0');
    for (std::size_t i = 0; i < frame_bytes; ++i)
      ulaw[i] = static_cast<char>(mb::codec::linear_to_ulaw(
          static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 1000 * double(f * 160 + i) / 8000))));
    message.clear();
    h.adapter.append_caller_audio(message, base64_encode(ulaw));
    if (message.empty()) {  // the resampler is gathering a block: no message rather than an empty one
      ++withheld;
      continue;
    }
    const auto audio = json::parse(message).at("realtimeInput").at("audio").as_object();
    REQUIRE(audio.at("mimeType") == "audio/pcm;rate=16000");
    const auto pcm = *base64_decode(audio.at("data").as_string());
    REQUIRE(pcm.size() % 2 == 0);
    pcm_bytes += pcm.size();
    for (std::size_t i = 0; i + 1 < pcm.size(); i += 2) {
      const auto v = static_cast<std::int16_t>(static_cast<std::uint8_t>(pcm[i]) |
                                               static_cast<std::uint8_t>(pcm[i + 1]) << 8);
      energy += double(v) * v;
    }
  }
  // Twice the samples, less what the resampler still holds (its delay: under 40 ms, 32 bytes a ms).
  CHECK(pcm_bytes <= 50 * 640);
  CHECK(pcm_bytes >= 50 * 640 - 40 * 32);
  CHECK(withheld < 25);  // most frames are sent at once
  // The tone came through: its RMS near 8000 / √2.
  const double rms = std::sqrt(energy / double(pcm_bytes / 2));
  CHECK(rms > 5000);
  CHECK(rms < 6200);
}

TEST_CASE("gemini_adapter: model audio in odd chunks comes out as whole μ-law frames, the end flushes",
          "[gemini_adapter]") {
  auto h = ready_harness();
  // 24 kHz samples in chunks of odd byte counts: samples split across messages.
  const auto pcm = model_pcm(24000);  // one second
  const std::size_t chunk_bytes[] = {1001, 333, 4799, 7, 20000, 12345};
  std::size_t offset = 0;
  std::size_t total = 0;
  std::int64_t now = 100;
  for (const auto n : chunk_bytes) {
    h.step(model_audio_b64(std::string_view(pcm).substr(offset, n)), now += 20);
    offset += n;
    for (const auto& e : h.out)
      if (e.kind == event_kind::assistant_audio) {
        CHECK(decoded_size(e.audio_b64) % frame_bytes == 0);
        CHECK(e.turn_id == "gm_a1");
      }
    total += h.audio_bytes();
  }
  const auto rest = std::string_view(pcm).substr(offset);
  h.step(model_audio_b64(rest), now += 20);
  total += h.audio_bytes();
  CHECK(total < 8000);  // the resampler holds its delay, the transcoder a partial frame

  // generationComplete: the tail, padded to a frame, then the end of the audio.
  const auto end = h.step(generation_complete, now += 20);
  REQUIRE(end.size() == 2);
  CHECK(end[1] == "assistant_audio_done gm_a1");
  CHECK(h.audio_bytes() % frame_bytes == 0);
  total += h.audio_bytes();
  // A third of the samples, rounded up to a whole frame: nothing lost, nothing added.
  CHECK(total == 8000);
}

TEST_CASE("gemini_adapter: a turn, from the caller's words to response_done with its usage", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(heard("I need "), 100) == lines{"caller_transcript_delta gm_c1 'I need '"});
  CHECK(h.step(heard("a taxi."), 400) == lines{"caller_transcript_delta gm_c1 'a taxi.'"});
  // The model's first audio closes the caller's turn and opens the assistant's.
  CHECK(h.step(model_audio(4800), 900) == lines{"caller_transcript_final gm_c1 'I need a taxi.'",
                                                "response_started gm_a2", "assistant_audio gm_a2"});
  CHECK(h.step(said("Where "), 950) == lines{"assistant_transcript_delta gm_a2 'Where '"});
  CHECK(h.step(said("to?"), 1000) == lines{"assistant_transcript_delta gm_a2 'to?'"});
  CHECK(h.step(generation_complete, 1000) ==
        lines{"assistant_audio gm_a2", "assistant_audio_done gm_a2"});
  // turnComplete, with the turn's usage; the transcript was not marked finished: it waits for more.
  CHECK(h.step(R"({"serverContent":{"turnComplete":true},"usageMetadata":{"promptTokenCount":100,)"
               R"("responseTokenCount":20,"totalTokenCount":120}})",
               1500) == lines{"ignored"});
  CHECK(h.adapter.next_wakeup() == 2500);
  CHECK(h.tick(2499).empty());
  CHECK(h.tick(2500) == lines{"assistant_transcript_final gm_a2 'Where to?'", "response_done gm_a2"});
  const auto& done = h.out.back();
  CHECK(done.response_id == "gm_a2");
  CHECK(done.used.input_tokens == 100);
  CHECK(done.used.output_tokens == 20);
  CHECK(done.used.total_tokens == 120);
  CHECK_FALSE(h.adapter.next_wakeup());
}

TEST_CASE("gemini_adapter: a finished transcript closes the turn at turnComplete", "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(480), 100);
  h.step(said("Hello.", true), 150);
  // turnComplete without generationComplete: it ends the audio too, with the tail.
  CHECK(h.step(turn_complete, 400) == lines{"assistant_audio gm_a1", "assistant_audio_done gm_a1", "assistant_transcript_final gm_a1 'Hello.'",
                                            "response_done gm_a1"});
  CHECK(h.out.back().used.total_tokens == 0);  // no usageMetadata came
  CHECK_FALSE(h.adapter.next_wakeup());
}

TEST_CASE("gemini_adapter: output transcription after turnComplete still belongs to the turn",
          "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(480), 100);
  h.step(said("Your taxi "), 120);
  h.step(generation_complete, 200);
  h.step(turn_complete, 300);
  CHECK(h.adapter.next_wakeup() == 1300);
  // A late chunk: the turn waits on from it.
  CHECK(h.step(said("is booked"), 900) == lines{"assistant_transcript_delta gm_a1 'is booked'"});
  CHECK(h.adapter.next_wakeup() == 1900);
  // The last chunk closes it at once.
  CHECK(h.step(said(".", true), 1200) ==
        lines{"assistant_transcript_delta gm_a1 '.'", "assistant_transcript_final gm_a1 'Your taxi is booked.'",
              "response_done gm_a1"});
  // The next chunk is a new turn.
  CHECK(h.step(said("Anything else?"), 5000) ==
        lines{"response_started gm_a2", "assistant_transcript_delta gm_a2 'Anything else?'"});
}

TEST_CASE("gemini_adapter: a turn may open with its transcript, and audio continues it", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(said("Hi"), 100) == lines{"response_started gm_a1", "assistant_transcript_delta gm_a1 'Hi'"});
  CHECK(h.step(model_audio(4800), 150) == lines{"assistant_audio gm_a1"});
}

TEST_CASE("gemini_adapter: the next turn's audio closes a turn still waiting for its transcript",
          "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(480), 100);
  h.step(said("One."), 100);
  h.step(turn_complete, 200);
  // Both turns' closing and opening events in one step: the first turn's id and text must survive.
  CHECK(h.step(R"({"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":")" + base64_encode(model_pcm(480)) +
                   R"("}}]},"turnComplete":true,"outputTranscription":{"text":"Two.","finished":true}}})",
               300) == lines{"assistant_transcript_final gm_a1 'One.'", "response_done gm_a1", "response_started gm_a2",
                             "assistant_transcript_delta gm_a2 'Two.'", "assistant_audio gm_a2",
                             "assistant_audio_done gm_a2", "assistant_transcript_final gm_a2 'Two.'",
                             "response_done gm_a2"});
}

TEST_CASE("gemini_adapter: generationComplete ends the audio, later audio is the next turn's", "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(480), 100);
  h.step(generation_complete, 150);
  CHECK(h.step(model_audio(480), 400) ==
        lines{"assistant_transcript_final gm_a1 ''", "response_done gm_a1", "response_started gm_a2"});
  CHECK(h.step(turn_complete, 500) ==
        lines{"assistant_audio gm_a2", "assistant_audio_done gm_a2"});
}

TEST_CASE("gemini_adapter: interrupted: the caller's speech at once, no tail, the turn closes after",
          "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(24000), 100);  // the resampler and the transcoder now hold some
  h.step(said("Let me tell you about"), 150);
  CHECK(h.step(interrupted, 600) == lines{"caller_speech_started"});
  // No generationComplete on an interrupted turn; turnComplete brings no tail: it was dropped.
  CHECK(h.step(turn_complete, 620).size() == 1);
  CHECK(h.described() == lines{"ignored"});
  CHECK(h.step(heard("Stop."), 700) == lines{"caller_transcript_delta gm_c2 'Stop.'"});
  CHECK(h.adapter.next_wakeup() == 1600);
  CHECK(h.tick(1600) == lines{"assistant_audio_done gm_a1", "assistant_transcript_final gm_a1 'Let me tell you about'",
                              "response_done gm_a1"});
  // The next turn starts from a clean transcoder: a third of its samples, padded to a frame, nothing
  // of the cut turn.
  std::size_t total = 0;
  h.step(model_audio(480 * 3), 2000);
  total += h.audio_bytes();
  h.step(generation_complete, 2100);
  total += h.audio_bytes();
  CHECK(total == 480);
}

TEST_CASE("gemini_adapter: interrupted with no turn open still clears playback", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(interrupted, 100) == lines{"caller_speech_started"});
  CHECK_FALSE(h.adapter.next_wakeup());
}

TEST_CASE("gemini_adapter: audio after interrupted opens the next turn", "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(480), 100);
  h.step(interrupted, 200);
  CHECK(h.step(model_audio(4800), 300) ==
        lines{"assistant_audio_done gm_a1", "assistant_transcript_final gm_a1 ''", "response_done gm_a1",
              "response_started gm_a2", "assistant_audio gm_a2"});
}

TEST_CASE("gemini_adapter: playback_cleared drops what the transcoder holds", "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(600), 100);  // 200 samples at 8 kHz: a frame out, the rest held
  h.adapter.playback_cleared();
  h.step(generation_complete, 200);
  CHECK(h.audio_bytes() == 0);
  CHECK(h.described() == lines{"assistant_audio_done gm_a1"});

  // Without the clear, the same turn ends with its held rest: 200 samples, padded to two frames.
  auto kept = ready_harness();
  kept.step(model_audio(600), 100);
  auto total = kept.audio_bytes();
  kept.step(generation_complete, 200);
  total += kept.audio_bytes();
  CHECK(total == 2 * frame_bytes);
}

TEST_CASE("gemini_adapter: caller turns close when finished, when the model answers, or after the gap",
          "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(heard("Hello", true), 100) ==
        lines{"caller_transcript_delta gm_c1 'Hello'", "caller_transcript_final gm_c1 'Hello'"});
  // A finished mark without text closes the open turn.
  h.step(heard("Is anyone"), 200);
  CHECK(h.step(content(R"("inputTranscription":{"finished":true})"), 300) ==
        lines{"caller_transcript_final gm_c2 'Is anyone'"});
  CHECK(h.step(content(R"("inputTranscription":{"finished":true})"), 310) == lines{"ignored"});
  // The gap.
  h.step(heard("there?"), 1000);
  CHECK(h.adapter.next_wakeup() == 3500);
  CHECK(h.tick(3499).empty());
  CHECK(h.tick(3500) == lines{"caller_transcript_final gm_c3 'there?'"});
}

TEST_CASE("gemini_adapter: goAway asks for a renewal with the time left", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(R"({"goAway":{"timeLeft":"59.5s"}})", 100) == lines{"session_renewal_due"});
  CHECK(h.out[0].time_left_ms == 59500);
}

TEST_CASE("gemini_adapter: a resumption handle resumes the next session instead of a replay", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(resumption("h1"), 100) == lines{"ignored"});
  CHECK(h.step(resumption("", false), 200) == lines{"ignored"});  // not resumable now: h1 stays
  const auto sent = h.open(taxi_history);
  REQUIRE(sent.size() == 1);  // no clientContent: the resumed session has the conversation
  CHECK(sent[0].at("setup").at("sessionResumption") == json::object{{"handle", "h1"}});

  // The newest handle counts; one beyond the bound is not kept.
  h.step(setup_complete, 300);
  h.step(resumption("h2"), 400);
  h.step(resumption(std::string(mb::protocol::max_gemini_handle_bytes + 1, 'x')), 500);
  CHECK(h.open().at(0).at("setup").at("sessionResumption") == json::object{{"handle", "h2"}});
}

TEST_CASE("gemini_adapter: a resumption that never completes drops the handle, the next session replays",
          "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(resumption("h1"), 100);
  CHECK(h.open(taxi_history).size() == 1);  // resumes with h1
  // The connection closes before setupComplete: the core opens another session.
  const auto sent = h.open(taxi_history);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].at("setup").at("sessionResumption") == json::object{});
  CHECK(sent[1].at("clientContent").at("turns").as_array().size() == 2);

  // A session that completes keeps the handle it resumed with, and any newer one.
  h.open();
  h.step(setup_complete, 200);
  h.step(resumption("h2"), 300);
  h.open();
  h.step(setup_complete, 400);
  CHECK(h.open().at(0).at("setup").at("sessionResumption") == json::object{{"handle", "h2"}});
}

TEST_CASE("gemini_adapter: errors: the setup's, a refused resumption's, a session's", "[gemini_adapter]") {
  const std::string error =
      R"({"error":{"code":400,"message":"Invalid resumption handle","status":"INVALID_ARGUMENT"}})";
  harness h;
  h.open();
  // Before setupComplete of a fresh session: the configuration was refused.
  CHECK(h.step(error, 0) == lines{"error"});
  CHECK(h.out[0].error.scope == error_scope::session);
  CHECK(h.out[0].error.code == "INVALID_ARGUMENT");
  CHECK(h.out[0].error.message == "Invalid resumption handle");

  h.open();
  h.step(setup_complete, 0);
  // After it: the connection is lost, and the next session resumes.
  h.step(resumption("h1"), 10);
  h.step(error, 20);
  CHECK(h.out[0].error.scope == error_scope::session_lost);
  CHECK(h.open().at(0).at("setup").at("sessionResumption") == json::object{{"handle", "h1"}});
  // Refused resumption: start afresh, with the replay.
  h.step(error, 30);
  CHECK(h.out[0].error.scope == error_scope::session_lost);
  const auto sent = h.open(taxi_history);
  CHECK(sent.at(0).at("setup").at("sessionResumption") == json::object{});
  CHECK(sent.size() == 2);
}

TEST_CASE("gemini_adapter: turn ids are never reused, a new session forgets the assistant turn, not the caller's",
          "[gemini_adapter]") {
  auto h = ready_harness();
  h.step(model_audio(480), 100);
  h.open();
  h.step(setup_complete, 200);
  CHECK(h.step(heard("Hello"), 300) == lines{"caller_transcript_delta gm_c2 'Hello'"});
  h.open();
  h.step(setup_complete, 400);
  CHECK(h.step(heard(" again", true), 500) ==
        lines{"caller_transcript_delta gm_c2 ' again'", "caller_transcript_final gm_c2 'Hello again'"});
  CHECK(h.step(model_audio(4800), 600) == lines{"response_started gm_a3", "assistant_audio gm_a3"});
  CHECK_FALSE(h.adapter.next_wakeup());  // the forgotten turn waits for nothing
}

TEST_CASE("gemini_adapter: other messages: unknown ones named", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(R"({"toolCall":{}})", 0) == lines{"ignored"});
  CHECK(h.step(R"({"voiceActivity":{"voiceActivityType":"ACTIVITY_START"}})", 0) == lines{"unknown"});
  CHECK(h.out[0].type_name == "voiceActivity");
  CHECK(h.step(R"({"serverContent":{"modelTurn":{"parts":[{"text":"x"}]}}})", 0) == lines{"ignored"});
  CHECK(h.step("{", 0).empty());
  CHECK(h.error);
}

TEST_CASE("gemini_adapter: model audio it cannot play is dropped, said once per session", "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(model_audio_b64(model_pcm(480), "audio/pcm;rate=16000"), 100) == lines{"error"});
  CHECK(h.out[0].error.scope == error_scope::command);
  CHECK(h.out[0].error.message == "dropping model audio: not PCM16 at 24 kHz but 'audio/pcm;rate=16000'");
  CHECK(h.step(model_audio_b64(model_pcm(480), "audio/wav"), 200) == lines{"ignored"});
  CHECK(h.step(model_audio_b64(model_pcm(4800), "audio/pcm"), 300) ==
        lines{"response_started gm_a1", "assistant_audio gm_a1"});
  h.open();
  h.step(setup_complete, 400);
  CHECK(h.step(R"({"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":"@@@@"}}]}}})", 500) ==
        lines{"error"});
  CHECK(h.out[0].error.message == "dropping model audio: data that is not base64");
}

TEST_CASE("gemini_adapter: one tool_call per function call, one tool_call_cancelled per id (docs/protocols.md I3)",
          "[gemini_adapter]") {
  auto h = ready_harness();
  CHECK(h.step(R"({"toolCall":{"functionCalls":[{"id":"fc1","name":"lookup_order","args":{"order":"42"}},)"
               R"({"id":"fc2","name":"end_call"}]}})",
               100) == lines{"tool_call", "tool_call"});
  CHECK(h.out[0].tool_call_id == "fc1");
  CHECK(h.out[0].tool_name == "lookup_order");
  CHECK(h.out[0].tool_arguments == R"({"order":"42"})");
  CHECK(h.out[0].type_name == "toolCall");
  CHECK(h.out[1].tool_call_id == "fc2");
  CHECK(h.out[1].tool_arguments == "{}");

  // An id no call could have had is skipped.
  CHECK(h.step(R"({"toolCallCancellation":{"ids":["fc1","","fc2"]}})", 200) ==
        lines{"tool_call_cancelled", "tool_call_cancelled"});
  CHECK(h.out[0].tool_call_id == "fc1");
  CHECK(h.out[1].tool_call_id == "fc2");
  CHECK(h.out[1].type_name == "toolCallCancellation");
}

TEST_CASE("gemini_adapter: tool calls beyond a bound are errors, the rest still calls (docs/protocols.md I5)",
          "[gemini_adapter]") {
  auto h = ready_harness();
  const std::string big(mb::protocol::max_tool_arguments_bytes, 'x');
  CHECK(h.step(R"({"toolCall":{"functionCalls":[{"id":"fc1","name":"f","args":{"a":")" + big + R"("}},)"
               R"({"id":"fc2","name":"bad name"},{"id":"fc3","name":"f"}]}})",
               100) == lines{"error", "error", "tool_call"});
  CHECK(h.out[0].error.code == "tool_arguments_too_large");
  CHECK(h.out[1].error.code == "invalid_tool_name");
  CHECK(h.out[0].error.scope == error_scope::command);
  CHECK(h.out[2].tool_call_id == "fc3");

  std::string calls;
  for (std::size_t i = 0; i < mb::protocol::max_tool_calls_per_message + 1; ++i)
    calls += (i ? "," : "") + std::string(R"({"id":"c)") + std::to_string(i) + R"(","name":"f"})";
  const auto events = h.step(R"({"toolCall":{"functionCalls":[)" + calls + "]}}", 200);
  REQUIRE(events.size() == mb::protocol::max_tool_calls_per_message + 1);
  CHECK(events.back() == "error");
  CHECK(h.out.back().error.code == "too_many_tool_calls");
  CHECK(h.out[mb::protocol::max_tool_calls_per_message - 1].kind == event_kind::tool_call);
}

TEST_CASE("gemini_adapter: tool results by id, context text as a user turn (docs/protocols.md I3, I4)",
          "[gemini_adapter]") {
  gemini_adapter a;
  std::vector<std::string> out;
  for (const bool respond : {false, true}) {
    out.clear();
    a.send_tool_result("fc1", "lookup_order", R"({"status":"shipped"})", respond, out);
    REQUIRE(out.size() == 1);  // the model goes on by itself
    CHECK(json::parse(out[0]) == json::parse(R"({"toolResponse":{"functionResponses":[{"id":"fc1","name":"lookup_order",)"
                                             R"("response":{"output":{"status":"shipped"}}}]}})"));
  }
  for (const bool respond : {false, true}) {
    out.clear();
    a.add_context_text("Keys: \"1#\"", respond, out);
    REQUIRE(out.size() == 1);
    const auto content = json::parse(out[0]).at("clientContent");
    CHECK(content.at("turnComplete") == respond);
    CHECK(content.at("turns") ==
          json::array{json::object{{"parts", json::array{json::object{{"text", "Keys: \"1#\""}}}}, {"role", "user"}}});
  }
}
