// Calls bridged to Gemini Live end to end: simulated Twilio → mediabridge → the simulator's Gemini
// path, over loopback sockets. The bridge transcodes both ways (docs/protocols.md F3), groups
// transcription chunks into turns (F4), clears the caller's playback when the model is interrupted
// (F5), and moves to a new connection with the resumption handle when the service announces its end
// (F6).

#include <catch2/catch.hpp>

#include <algorithm>
#include <future>
#include <set>
#include <string_view>

#include <boost/json.hpp>

#include "tests/integration/support/call_results.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;

namespace {

constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;
constexpr auto gemini = upstream::provider_kind::gemini_live;
// The resampler holds back at most this much of the caller's audio (docs/performance.md, "Resampling").
constexpr std::size_t caller_resampler_hold_ms = 40;
// PCM16 at 16 kHz per μ-law byte at 8 kHz.
constexpr std::size_t pcm_bytes_per_ulaw_byte = 4;

// μ-law bytes that are not silence (0xFF and 0x7F both decode to zero).
std::size_t audible_bytes(std::string_view ulaw) {
  return static_cast<std::size_t>(
      std::count_if(ulaw.begin(), ulaw.end(), [](char c) { return c != '\xff' && c != '\x7f'; }));
}

}  // namespace

TEST_CASE("Gemini Live: a call is transcoded both ways, with its setup, the key in a header and one final per turn",
          "[integration][gemini_bridge]") {
  mb::simulator::simulator_options sim;  // the defaults: 2 s answers sent at 4x real time
  sim.session_updated_delay_ms = 400;    // caller audio arrives before setupComplete
  test::bridge_harness h({.simulator = sim, .provider = gemini});

  const auto [r, session] = test::run_to_the_end(h, {{speech, 400}, {silence, 3600}});
  CHECK(session.provider == gemini);
  CHECK(session.credentials == "x-goog-api-key");
  CHECK_FALSE(session.key_in_query);

  // The setup asks for audio, both transcriptions, compression (calls past 15 minutes) and resumption.
  REQUIRE(session.setups.size() == 1);
  CHECK(session.resumed_with.empty());
  const auto setup = boost::json::parse(session.setups[0]).at("setup").as_object();
  CHECK(setup.at("model").as_string() == "models/gemini-3.8-live");
  CHECK(setup.at("generationConfig").at("responseModalities") == boost::json::array{"AUDIO"});
  // Gemini's own voice (GEMINI_VOICE), not OpenAI's.
  CHECK(setup.at("generationConfig").at("speechConfig").at("voiceConfig").at("prebuiltVoiceConfig").at("voiceName") ==
        "Kore");
  CHECK(setup.contains("inputAudioTranscription"));
  CHECK(setup.contains("outputAudioTranscription"));
  CHECK(setup.contains("contextWindowCompression"));
  CHECK(setup.contains("sessionResumption"));

  // Caller → Gemini: every frame, the ones before setupComplete included, as 16 kHz PCM16: four
  // bytes per μ-law byte, less what the resampler still held when the call ended.
  const auto sent = r.sent_audio.size() * pcm_bytes_per_ulaw_byte;
  CHECK(session.input_audio_bytes <= sent);
  CHECK(session.input_audio_bytes >= sent - caller_resampler_hold_ms * 8 * pcm_bytes_per_ulaw_byte);

  // Gemini → caller: the whole 2 s answer as μ-law, in whole 20 ms frames, its tail flushed.
  REQUIRE(session.responses.size() == 1);
  CHECK(session.responses[0].status == "completed");
  CHECK(r.played_audio.size() % 160 == 0);
  CHECK(r.played_audio.size() >= 2000 * 8);
  CHECK(r.played_audio.size() <= 2000 * 8 + 2 * 160);
  CHECK(audible_bytes(r.played_audio) > r.played_audio.size() * 9 / 10);
  CHECK(r.clears.empty());

  // One final per turn, from the transcription chunks.
  const auto all = test::transcript_finals(h);
  REQUIRE(all.size() == 2);
  CHECK(all[0].speaker == call::role::caller);
  CHECK(all[0].item_id.starts_with("gm_c"));
  CHECK(all[0].text == "Caller utterance 1");
  CHECK(all[1].speaker == call::role::assistant);
  CHECK(all[1].item_id.starts_with("gm_a"));
  CHECK(all[1].text == session.responses[0].transcript);
  CHECK_FALSE(all[1].interrupted);
}

TEST_CASE("Gemini Live: a caller who talks over the answer hears it stop, the cut turn records what was heard",
          "[integration][gemini_bridge]") {
  // Sent ahead of real time, the answer is all in the bridge when the caller speaks: Gemini still
  // interrupts it (its turn lasts until the client would have played it), and the bridge clears it.
  const double speed = GENERATE(4.0, 1.0);
  INFO("model audio at " << speed << "x real time");
  mb::simulator::simulator_options sim;
  sim.response_ms = 3000;
  sim.speed = speed;
  test::bridge_harness h({.simulator = sim, .provider = gemini});

  auto reports = h.run({h.call({{speech, 400}, {silence, 1500}, {speech, 600}, {silence, 4500}})});
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());
  REQUIRE(test::ended_reason(h) == call::end_reason::caller_hung_up);
  const auto session = h.simulator().sessions().at(0);
  REQUIRE(session.responses.size() >= 2);
  CHECK(session.responses[0].status == "interrupted");
  CHECK(r.clears.size() == 1);
  REQUIRE(!r.stale_audio_ms.empty());
  INFO("stale audio after the caller spoke: " << r.stale_audio_ms[0] << " ms");
  CHECK(r.stale_audio_ms[0] < 500.0);

  const auto events = h.events().events();
  const auto barge = std::find_if(events.begin(), events.end(),
                                  [](const auto& e) { return std::holds_alternative<call::barge_in>(e.event); });
  REQUIRE(barge != events.end());
  const auto all = test::transcript_finals(h);
  const auto cut = std::find_if(all.begin(), all.end(), [](const auto& f) { return f.interrupted; });
  REQUIRE(cut != all.end());
  CHECK(cut->speaker == call::role::assistant);
  CHECK(cut->item_id == std::get<call::barge_in>(barge->event).item_id);
  CHECK(cut->heard_ms > 0);
  CHECK(cut->heard_ms < 3000);
  CHECK(cut->heard_text.size() < cut->text.size());
  // The second answer was heard in full.
  CHECK(std::any_of(all.begin(), all.end(), [&](const auto& f) {
    return f.speaker == call::role::assistant && !f.interrupted && f.item_id != cut->item_id;
  }));
}

TEST_CASE("Gemini Live: goAway moves the call to a resumed connection at a pause: no caller frame lost, no answer "
          "repeated",
          "[integration][gemini_bridge]") {
  test::bridge_harness h({.provider = gemini});
  auto options = h.call({{speech, 400}, {silence, 3500}, {speech, 400}, {silence, 3500}, {speech, 400}, {silence, 3500}});
  auto pending = std::async(std::launch::async, [&h, options] { return h.run({options}); });
  // The service announces its end while the first answer still plays: the bridge waits for the pause.
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1 && s[0].responses.size() == 1; }, 8s));
  h.simulator().go_away_all(5s);
  auto reports = pending.get();
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());
  REQUIRE(test::ended_reason(h) == call::end_reason::caller_hung_up);
  CHECK(h.logs().contains("rolling over the upstream session: the provider ends the connection in"));

  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].go_away_sent);
  // The bridge closed the old connection itself, before its time ran out.
  CHECK_FALSE(sessions[0].closed_by_simulator);
  // The new connection resumed the conversation with the newest handle, and was told nothing again.
  REQUIRE(!sessions[0].handles_sent.empty());
  CHECK(sessions[1].resumed_with == sessions[0].handles_sent.back());
  CHECK(sessions[1].conversation == sessions[0].conversation);
  CHECK(sessions[1].client_contents.empty());

  // Every caller frame reached Gemini, across both connections, less what the resampler held at the
  // end (the switch itself loses nothing: frames wait for the new connection).
  const auto received = sessions[0].input_audio_bytes + sessions[1].input_audio_bytes;
  const auto sent = r.sent_audio.size() * pcm_bytes_per_ulaw_byte;
  CHECK(received <= sent);
  CHECK(received >= sent - caller_resampler_hold_ms * 8 * pcm_bytes_per_ulaw_byte);

  // No answer twice: the conversation's reply numbers never repeat, and every answer was completed.
  std::set<std::uint32_t> indices;
  std::size_t replies = 0;
  for (const auto& s : sessions)
    for (const auto& response : s.responses) {
      CHECK(response.status == "completed");
      indices.insert(response.index);
      ++replies;
    }
  CHECK(replies == indices.size());
  CHECK(replies == 3);
  CHECK(!sessions[1].responses.empty());
}

TEST_CASE("Gemini Live: a lost connection resumes with the handle, a refused handle falls back to the conversation",
          "[integration][gemini_bridge]") {
  const bool refuse = GENERATE(false, true);
  INFO((refuse ? "the service refuses the handle" : "the service resumes"));
  mb::simulator::simulator_options sim;
  sim.gemini_refuse_resumption = refuse;
  test::bridge_harness h({.simulator = sim, .provider = gemini,
                          .tweak = [](auto&, auto& b) { b.lifecycle.backoff_base = 50ms; }});
  auto options = h.call({{speech, 400}, {silence, 3500}, {speech, 400}, {silence, 3000}});
  auto pending = std::async(std::launch::async, [&h, options] { return h.run({options}); });
  REQUIRE(h.simulator().wait_until(
      [](const auto& s) { return s.size() == 1 && !s[0].responses.empty() && s[0].responses[0].status == "completed"; },
      8s));
  REQUIRE(h.events().wait_for_final(call::role::assistant, 3s));
  h.simulator().drop_all();
  auto reports = pending.get();
  const auto& r = reports.at(0);
  INFO(r.failure);
  CHECK(r.outcome == tools::twilio::call_outcome::completed);
  CHECK(test::ended_reason(h) == call::end_reason::caller_hung_up);

  const auto sessions = h.simulator().sessions();
  const auto& first = sessions.at(0);
  const auto& last = sessions.back();
  REQUIRE(!first.handles_sent.empty());
  // The newest handle the bridge had read: the drop can overtake the update the service sent last, so
  // the last handle or the one before it (an older one would be a stale handle kept).
  const auto issued = [&](std::string_view text) {
    const auto& sent = first.handles_sent;
    const auto recent = sent.end() - static_cast<std::ptrdiff_t>(std::min<std::size_t>(2, sent.size()));
    return std::any_of(recent, sent.end(),
                       [&](const std::string& handle) { return text.find(handle) != std::string_view::npos; });
  };
  if (!refuse) {
    REQUIRE(sessions.size() == 2);
    CHECK(!last.resumed_with.empty());
    CHECK(issued(last.resumed_with));
    CHECK(last.client_contents.empty());  // the service still knows the conversation
  } else {
    // The resumed setup is refused; the next connection starts afresh and is told the conversation.
    REQUIRE(sessions.size() == 3);
    REQUIRE(sessions[1].setups.size() == 1);
    CHECK(issued(sessions[1].setups[0]));
    CHECK_FALSE(sessions[1].setup_complete);
    CHECK(last.resumed_with.empty());
    REQUIRE(last.client_contents.size() == 1);
    const auto content = boost::json::parse(last.client_contents[0]).at("clientContent").as_object();
    CHECK(content.at("turns").as_array().size() >= 2);
    CHECK(content.at("turnComplete") == false);
  }
  CHECK(last.setup_complete);
  CHECK(!last.responses.empty());
}
