// Calls bridged to Azure OpenAI end to end, on the simulator's Azure paths: the Realtime API at
// /openai/v1/realtime?model=<deployment> (docs/protocols.md G1) and GPT-Live at AZURE_OPENAI_LIVE_PATH,
// transcoded when the session confirms PCM16 instead of μ-law (G2). The URLs and credential headers
// are the ones upstream_for builds for demo mode (the harness's provider option).

#include <catch2/catch.hpp>

#include <algorithm>

#include <boost/json.hpp>

#include "tests/integration/support/call_results.hpp"

using namespace mb;
using namespace std::chrono_literals;
using tools::twilio::audio_kind;

namespace {

constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;

}  // namespace

TEST_CASE("Azure Realtime: the deployment in the URL, the key in a header, barge-in truncates at what was heard",
          "[integration][azure_bridge]") {
  mb::simulator::simulator_options sim;
  sim.response_ms = 3000;
  test::bridge_harness h({.simulator = sim, .provider = upstream::provider_kind::azure_realtime});

  const auto [r, session] = test::run_to_the_end(h, {{speech, 400}, {silence, 2000}, {speech, 600}, {silence, 4000}});
  CHECK(session.provider == upstream::provider_kind::azure_realtime);
  CHECK(session.target == "/openai/v1/realtime?model=demo");  // demo mode's deployment
  CHECK(session.credentials == "api-key");
  CHECK_FALSE(session.key_in_query);
  // OpenAI's GA events: session.update, then the caller's audio byte for byte.
  REQUIRE(!session.session_updates.empty());
  CHECK(boost::json::parse(session.session_updates[0]).at("session").at("type").as_string() == "realtime");
  REQUIRE(session.input_audio.size() == r.sent_audio.size());
  CHECK(std::equal(session.input_audio.begin(), session.input_audio.end(),
                   reinterpret_cast<const std::uint8_t*>(r.sent_audio.data())));

  REQUIRE(r.clears.size() == 1);
  REQUIRE(!session.truncates.empty());
  CHECK(session.truncates.front().accepted);
  CHECK(std::abs(static_cast<double>(session.truncates.front().audio_end_ms) - r.clears.front().played_ms) <= 40.0);
  const auto all = test::transcript_finals(h);
  CHECK(std::any_of(all.begin(), all.end(), [](const auto& f) { return f.interrupted && f.heard_ms > 0; }));
}

TEST_CASE("Azure GPT-Live: a session confirmed as PCM16 at 24 kHz is transcoded both ways instead of failing",
          "[integration][azure_bridge]") {
  mb::simulator::simulator_options sim;  // the defaults: 2 s answers sent at 4x real time
  sim.force_output_format = "audio/pcm";
  test::bridge_harness h({.simulator = sim, .provider = upstream::provider_kind::azure_live});

  const auto [r, session] = test::run_to_the_end(h, {{speech, 400}, {silence, 3600}});
  CHECK(session.provider == upstream::provider_kind::azure_live);
  CHECK(session.target == "/openai/v1/live");
  CHECK(session.credentials == "api-key");
  // μ-law was asked for; PCM16 at 24 kHz was confirmed, and the caller's audio went as that: six
  // bytes per μ-law byte, less what the resampler held at the end (under 40 ms).
  const auto start = boost::json::parse(session.session_starts.at(0)).as_object();
  CHECK(start.at("session").at("audio").at("format").at("type").as_string() == "audio/pcmu");
  const auto sent = r.sent_audio.size() * 6;
  CHECK(session.input_audio_bytes <= sent);
  CHECK(session.input_audio_bytes >= sent - 40 * 8 * 6);
  // The 2 s answer reached the caller as μ-law, in whole frames, tail included.
  CHECK(r.played_audio.size() % 160 == 0);
  CHECK(r.played_audio.size() >= 2000 * 8);
  CHECK(r.played_audio.size() <= 2000 * 8 + 2 * 160);
  CHECK(h.logs().contains("transcod"));
  const auto all = test::transcript_finals(h);
  REQUIRE(all.size() == 2);
  CHECK(all[0].text == "Caller utterance 1");
  CHECK(!all[1].text.empty());
}
