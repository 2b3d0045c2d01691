// Hostile and broken input on a live call: a log line, a clean close where fatal, never a crash,
// and another call running at the same time is unaffected.

#include <catch2/catch.hpp>

#include <future>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/raw_stream.hpp"

using namespace mb;
using tools::twilio::audio_kind;

namespace {
constexpr auto silence = audio_kind::silence;
constexpr auto speech = audio_kind::speech;
const std::string bad_call = "CA33333333333333333333333333333333";
const std::string stream = "MZ33";
const std::string silence_frame_b64 = std::string(212, 'A') + "AA==";  // 160 zero bytes, base64
}  // namespace

TEST_CASE("bad input from Twilio and the upstream is logged and survived, another call is unaffected",
          "[integration][bad-input]") {
  mb::simulator::simulator_options sim;
  sim.response_ms = 1000;
  test::bridge_harness h({.simulator = sim});

  // The call that must not notice anything.
  auto good = std::async(std::launch::async, [&] { return h.run({h.call({{speech, 400}, {silence, 3500}})}); });

  // The good call's upstream session comes first, so the bad call's is sessions()[1].
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));
  const auto& logs = h.logs();
  // Before an authorised start only connected and start may come: anything else ends the stream.
  test::raw_stream early(h.port());
  REQUIRE(early.send(test::raw_stream::media_message(stream, 1, silence_frame_b64)));
  CHECK(early.wait_closed() == 1008);
  CHECK(logs.contains("stream refused (bad_message): 'media' before start"));

  test::raw_stream bad(h.port());
  REQUIRE(bad.connected());
  REQUIRE(bad.send(test::raw_stream::start_message(
      bad_call, stream, {{std::string(protocol::stream_token_parameter), h.context().tokens.issue(bad_call)}})));
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 2; }, std::chrono::seconds(5)));

  REQUIRE(bad.send("{this is not json"));
  CHECK(logs.wait_for("ignoring bad message from Twilio: malformed JSON"));
  REQUIRE(bad.send_binary(std::string("\x00\x01\x02", 3)));
  CHECK(logs.wait_for("binary frame"));
  REQUIRE(bad.send(R"({"event":"media","streamSid":"MZ33","media":{"track":"inbound"}})"));
  CHECK(logs.wait_for("media.payload is missing"));
  REQUIRE(bad.send(R"({"event":"media","streamSid":"MZ33","media":{"payload":42}})"));
  CHECK(logs.wait_for("media.payload is not a string"));
  REQUIRE(bad.send(R"({"event":"surprise","streamSid":"MZ33"})"));
  CHECK(logs.wait_for("ignoring unknown Twilio event 'surprise'"));
  REQUIRE(bad.send(test::raw_stream::media_message(stream, 2, "not base64!")));
  CHECK(logs.wait_for("invalid base64"));
  REQUIRE(bad.send(test::raw_stream::start_message(bad_call, stream, {})));
  CHECK(logs.wait_for("ignoring a second Twilio start"));
  REQUIRE(bad.send(R"({"event":"mark","streamSid":"MZ33","mark":{"name":"not-ours"}})"));
  CHECK(logs.wait_for("unknown name 'not-ours'"));

  // The upstream misbehaves too (to both calls).
  h.simulator().send_to_all("garbage that is not JSON");
  CHECK(logs.wait_for("ignoring bad message from upstream"));
  h.simulator().send_to_all(R"({"type":"response.output_audio.done","response_id":"resp_x","item_id":"item_nobody"})");
  CHECK(logs.wait_for("unknown item item_nobody"));
  h.simulator().send_to_all(R"({"type":"brand.new.event","x":1})");

  // Still alive after all that: valid audio is relayed.
  const auto before = h.simulator().sessions()[1].input_audio_bytes;
  REQUIRE(bad.send(test::raw_stream::media_message(stream, 3, silence_frame_b64)));
  CHECK(h.simulator().wait_until([&](const auto& s) { return s[1].input_audio_bytes == before + 160; },
                                 std::chrono::seconds(5)));

  // An oversized message is fatal for this call only: closed with 1009 (message too big).
  // The bridge fails the stream while the message is still arriving, so our write may fail too.
  (void)bad.send(test::raw_stream::media_message(stream, 4, std::string(96 * 1024, 'A')));
  CHECK(logs.wait_for("CA33333333333333333333333333333333: ended reason=bad_input"));
  CHECK(logs.contains("larger than the limit"));

  auto reports = good.get();
  const auto& r = reports.at(0);
  INFO(r.failure);
  REQUIRE(r.ok());
  REQUIRE(h.events().wait_ended(2));
  const auto sessions = h.simulator().sessions();
  const auto& good_session = sessions[0];
  REQUIRE(good_session.input_audio.size() == r.sent_audio.size());
  CHECK(std::equal(good_session.input_audio.begin(), good_session.input_audio.end(),
                   reinterpret_cast<const std::uint8_t*>(r.sent_audio.data())));
  CHECK(r.played_audio == test::assistant_audio(0, 1000 * 8));
}
