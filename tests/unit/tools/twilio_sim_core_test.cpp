// The pure parts of the Twilio simulator: caller audio, the playback model and the wire format.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <string>

#include <boost/json.hpp>
#include <simdjson.h>

#include "codec/g711.hpp"
#include "tools/twilio_sim/caller_audio.hpp"
#include "tools/twilio_sim/playout.hpp"
#include "tools/twilio_sim/twilio_wire.hpp"

using namespace mb::tools::twilio;
using namespace std::chrono_literals;

namespace {

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xFF);
  return s;
}

bridge_message parse(std::string json) {
  json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  bridge_message m;
  parse_bridge_message(json, json.capacity(), m);
  return m;
}

}  // namespace

TEST_CASE("caller audio: speech frame is a -10 dBFS tone", "[tools][twilio_sim]") {
  const auto frame = speech_frame();
  REQUIRE(frame.size() == frame_bytes);
  double power = 0;
  int peak = 0;
  for (char c : frame) {
    const int v = mb::codec::ulaw_to_linear(static_cast<std::uint8_t>(c));
    power += double(v) * v;
    peak = std::max(peak, std::abs(v));
  }
  const double rms = std::sqrt(power / frame_bytes);
  const double dbfs = 20 * std::log10(rms / (32767.0 / std::sqrt(2.0)));
  CHECK(dbfs == Approx(-10.0).margin(0.3));
  CHECK(peak < 32000);
}

TEST_CASE("caller audio: script frames join segments sample-exactly", "[tools][twilio_sim]") {
  caller_audio audio({{audio_kind::silence, 30}, {audio_kind::speech, 50}, {audio_kind::silence, 0}});
  REQUIRE(audio.total_bytes() == 640);
  const std::string silence(frame_bytes, '\xFF');
  const auto speech = std::string(speech_frame());

  CHECK(std::string(audio.next_frame()) == silence);
  const std::string second(audio.next_frame());
  CHECK(second.substr(0, 80) == silence.substr(0, 80));
  CHECK(second.substr(80) == speech.substr(80));  // sample 240 of the call is speech[240 % 160]
  CHECK(std::string(audio.next_frame()) == speech);
  CHECK_FALSE(audio.done());
  CHECK(std::string(audio.next_frame()) == speech);
  CHECK(audio.done());
  CHECK(audio.next_frame().empty());
}

TEST_CASE("caller audio: recorded bytes, last frame padded with silence", "[tools][twilio_sim]") {
  const auto bytes = std::make_shared<const std::string>(pattern(400, 7));
  caller_audio audio(bytes);
  CHECK(std::string(audio.next_frame()) == bytes->substr(0, 160));
  CHECK(std::string(audio.next_frame()) == bytes->substr(160, 160));
  CHECK(std::string(audio.next_frame()) == bytes->substr(320) + std::string(80, '\xFF'));
  CHECK(audio.next_frame().empty());
  CHECK(caller_audio().next_frame().empty());
}

TEST_CASE("playout: a mark with nothing queued is due at once", "[tools][twilio_sim]") {
  playout p(true);
  const auto t0 = clock::time_point{} + 1h;
  p.add_mark("m", t0);
  REQUIRE(p.due_marks().size() == 1);
  CHECK(p.due_marks()[0].name == "m");
  CHECK_FALSE(p.due_marks()[0].cleared);
  CHECK_FALSE(p.next_mark_time());
}

TEST_CASE("playout: marks are due when the audio before them has played", "[tools][twilio_sim]") {
  playout p(true);
  const auto t0 = clock::time_point{} + 1h;
  const auto a = pattern(800, 1), b = pattern(160, 2);
  p.add_audio(a.size(), a, t0);             // 100 ms
  p.add_mark("after-a", t0 + 1ms);
  p.add_audio(b.size(), b, t0 + 2ms);       // +20 ms, queued behind a
  p.add_mark("after-b", t0 + 3ms);
  REQUIRE(p.next_mark_time() == t0 + 100ms);
  p.advance(t0 + 100ms - 1ns);
  CHECK(p.due_marks().empty());
  CHECK(p.played_bytes() == 799);
  p.advance(t0 + 100ms);
  REQUIRE(p.due_marks().size() == 1);
  CHECK(p.due_marks()[0].name == "after-a");
  CHECK(p.due_marks()[0].received == t0 + 1ms);
  p.due_marks().clear();
  CHECK(p.next_mark_time() == t0 + 120ms);
  p.advance(t0 + 500ms);
  REQUIRE(p.due_marks().size() == 1);
  CHECK(p.queued_bytes() == 0);
  CHECK(p.played_audio() == a + b);
}

TEST_CASE("playout: an underrun pauses the play clock", "[tools][twilio_sim]") {
  playout p(true);
  const auto t0 = clock::time_point{} + 1h;
  const auto a = pattern(160, 3), b = pattern(160, 4);
  p.add_audio(a.size(), a, t0);  // plays until t0 + 20 ms
  p.add_audio(b.size(), b, t0 + 50ms);  // after a 30 ms gap: plays from t0 + 50 ms
  p.add_mark("m", t0 + 50ms);
  CHECK(p.next_mark_time() == t0 + 70ms);
  p.advance(t0 + 60ms);
  CHECK(p.played_bytes() == 160 + 80);
  CHECK(p.due_marks().empty());
  p.advance(t0 + 70ms);
  CHECK(p.due_marks().size() == 1);
  CHECK(p.played_audio() == a + b);
}

TEST_CASE("playout: stale audio is what plays after the caller starts speaking, until a clear or the end of the queue", "[tools][twilio_sim]") {
  playout p(false);
  const auto t0 = clock::time_point{} + 1h;
  p.watch_stale_audio(t0, t0);  // nothing playing: nothing to watch
  p.add_audio(8 * 500, {}, t0);  // 500 ms queued
  p.watch_stale_audio(t0 + 100ms, t0 + 120ms);  // learnt 20 ms after the onset
  p.watch_stale_audio(t0 + 150ms, t0 + 150ms);  // the same interruption: still counted from 100 ms
  p.clear(t0 + 180ms);
  // The queue runs dry instead: everything queued after the speech began was heard, and a gap
  // shorter than stopped_after (jitter) does not end the watch; a longer one does.
  p.add_audio(8 * 200, {}, t0 + 1s);
  p.watch_stale_audio(t0 + 1s + 50ms, t0 + 1s + 70ms);
  p.add_audio(8 * 100, {}, t0 + 1s + 300ms);  // 100 ms after running dry: the same answer
  p.add_audio(8 * 100, {}, t0 + 2s);          // 600 ms after: a new one
  p.advance(t0 + 2s + 100ms);
  // Audio that began playing after the onset counts from its start.
  p.add_audio(8 * 100, {}, t0 + 3s);
  p.watch_stale_audio(t0 + 3s - 40ms, t0 + 3s + 10ms);
  p.clear(t0 + 3s + 30ms);
  // A watch still open when the call ends counts what played until then.
  p.add_audio(8 * 100, {}, t0 + 4s);
  p.watch_stale_audio(t0 + 4s, t0 + 4s);
  p.finish_stale_watch(t0 + 4s + 40ms);
  REQUIRE(p.stale_audio().size() == 4);
  CHECK(p.stale_audio()[0] == 8 * 80);
  CHECK(p.stale_audio()[1] == 8 * (150 + 100));
  CHECK(p.stale_audio()[2] == 8 * 30);
  CHECK(p.stale_audio()[3] == 8 * 40);
}

TEST_CASE("caller audio: reports the frame where scripted speech begins", "[tools][twilio_sim]") {
  caller_audio audio({{audio_kind::silence, 30}, {audio_kind::speech, 40}, {audio_kind::silence, 20}, {audio_kind::speech, 20}});
  std::vector<int> began;  // byte offset in the frame, -1: none
  while (!audio.next_frame().empty()) began.push_back(audio.speech_began_at() ? static_cast<int>(*audio.speech_began_at()) : -1);
  CHECK(began == std::vector<int>{-1, 80, -1, -1, 80, -1});
}

TEST_CASE("playout: clear discards the queue and flushes pending marks", "[tools][twilio_sim]") {
  playout p(true);
  const auto t0 = clock::time_point{} + 1h;
  const auto a = pattern(8000, 5), b = pattern(400, 6);
  p.add_audio(a.size(), a, t0);  // 1 s
  p.add_mark("a", t0);
  p.add_mark("b", t0);
  const auto stats = p.clear(t0 + 300ms);
  CHECK(stats.played_bytes == 2400);
  CHECK(stats.discarded_bytes == 5600);
  CHECK(stats.marks_flushed == 2);
  REQUIRE(p.due_marks().size() == 2);
  CHECK(p.due_marks()[0].cleared);
  CHECK(p.due_marks()[1].name == "b");
  p.due_marks().clear();
  CHECK(p.queued_bytes() == 0);
  CHECK(p.played_audio() == a.substr(0, 2400));

  p.add_audio(b.size(), b, t0 + 400ms);
  p.add_mark("c", t0 + 400ms);
  CHECK(p.next_mark_time() == t0 + 450ms);
  const auto again = p.clear(t0 + 425ms);  // counted since the previous clear
  CHECK(again.played_bytes == 200);
  CHECK(p.played_audio() == a.substr(0, 2400) + b.substr(0, 200));
  CHECK(p.played_bytes() == 2600);
}

TEST_CASE("playout: without recording only counts", "[tools][twilio_sim]") {
  playout p(false);
  const auto t0 = clock::time_point{} + 1h;
  p.add_audio(1600, {}, t0);
  p.advance(t0 + 150ms);
  CHECK(p.played_bytes() == 1200);
  CHECK(p.played_audio().empty());
}

TEST_CASE("twilio wire: messages Twilio sends", "[tools][twilio_sim]") {
  const stream_identity id{"MZ00", "CA11", "AC22"};
  std::string out;
  build_connected(out);
  CHECK(boost::json::parse(out) == boost::json::parse(R"({"event":"connected","protocol":"Call","version":"1.0.0"})"));

  out.clear();
  build_start(out, 1, id, {{"tenant", "acme"}, {"q\"uote", "line\nbreak\\"}});
  CHECK(boost::json::parse(out) == boost::json::parse(R"({"event":"start","sequenceNumber":"1","streamSid":"MZ00",
      "start":{"streamSid":"MZ00","accountSid":"AC22","callSid":"CA11","tracks":["inbound"],
               "customParameters":{"tenant":"acme","q\"uote":"line\nbreak\\"},
               "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})"));

  out.clear();
  build_media(out, 4, id.stream_sid, 3, 40, "/w==");
  CHECK(boost::json::parse(out) == boost::json::parse(R"({"event":"media","sequenceNumber":"4","streamSid":"MZ00",
      "media":{"track":"inbound","chunk":"3","timestamp":"40","payload":"/w=="}})"));

  out.clear();
  build_mark_echo(out, 5, id.stream_sid, "item_9:320:m\"7");
  CHECK(boost::json::parse(out) == boost::json::parse(R"({"event":"mark","sequenceNumber":"5","streamSid":"MZ00",
      "mark":{"name":"item_9:320:m\"7"}})"));

  out.clear();
  build_dtmf(out, 6, id.stream_sid, '#');
  CHECK(boost::json::parse(out) == boost::json::parse(R"({"event":"dtmf","sequenceNumber":"6","streamSid":"MZ00",
      "dtmf":{"track":"inbound_track","digit":"#"}})"));

  out.clear();
  build_stop(out, 7, id);
  CHECK(boost::json::parse(out) == boost::json::parse(R"({"event":"stop","sequenceNumber":"7","streamSid":"MZ00",
      "stop":{"accountSid":"AC22","callSid":"CA11"}})"));
}

TEST_CASE("twilio wire: parsing what a bridge sends", "[tools][twilio_sim]") {
  auto media = parse(R"({"media":{"payload":"\/w=="},"streamSid":"MZ1","event":"media"})");
  CHECK(media.kind == bridge_message_kind::media);
  CHECK(media.stream_sid == "MZ1");
  CHECK(media.payload == "/w==");

  auto mark = parse(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"a\"b"}})");
  CHECK(mark.kind == bridge_message_kind::mark);
  CHECK(mark.mark_name == "a\"b");

  CHECK(parse(R"({"event":"clear","streamSid":"MZ1"})").kind == bridge_message_kind::clear);

  for (const char* bad : {
           "hello",
           "[1]",
           R"({"event":"clear"})",
           R"({"event":"bogus","streamSid":"MZ1"})",
           R"({"streamSid":"MZ1"})",
           R"({"event":"mark","streamSid":"MZ1"})",
           R"({"event":"mark","streamSid":"MZ1","mark":{}})",
           R"({"event":"media","streamSid":"MZ1","media":{"payload":5}})",
           R"({"event":"media","streamSid":"MZ1"})",
           R"({"event":"media","streamSid":7})",
           R"({"event":"clear","streamSid":"MZ1","x":"y":"z"})",
           R"({"event":"clear","streamSid":"MZ1","x":{"y":"z"}}})",
       }) {
    INFO(bad);
    const auto m = parse(bad);
    CHECK(m.kind == bridge_message_kind::invalid);
    CHECK_FALSE(m.error.empty());
  }
}

TEST_CASE("a frame leaves at its due time, or on the send grid at the next multiple of its period", "[twilio_sim]") {
  using time_point = std::chrono::steady_clock::time_point;
  const time_point due{12'345us};
  CHECK(send_time_on_grid(due, 0us) == due);
  CHECK(send_time_on_grid(due, 1000us) == time_point{13'000us});
  CHECK(send_time_on_grid(time_point{13'000us}, 1000us) == time_point{13'000us});  // on the grid: not later
  CHECK(send_time_on_grid(time_point{13'001us}, 1000us) == time_point{14'000us});
  // Frames of different calls due within one period leave together; the next period's do not.
  CHECK(send_time_on_grid(time_point{20'001us}, 500us) == send_time_on_grid(time_point{20'499us}, 500us));
  CHECK(send_time_on_grid(time_point{20'501us}, 500us) > send_time_on_grid(time_point{20'499us}, 500us));
}
