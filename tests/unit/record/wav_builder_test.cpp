#include "record/wav_builder.hpp"

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <deque>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "call/playback_ledger.hpp"
#include "codec/g711.hpp"
#include "protocol/base64.hpp"
#include "protocol/twilio_messages.hpp"
#include "tools/twilio_sim/twilio_wire.hpp"

using namespace mb;
using namespace mb::record;

namespace {

// Times are the log's t in ms (a fake clock: each entry says when it happened). The caller's audio is
// one loud μ-law code, the assistant's another, so each channel shows where its audio landed.
constexpr std::int16_t caller_level = 1000;
constexpr std::int16_t assistant_level = -2000;
constexpr std::string_view sid = "MZ00000000000000000000000000000001";

std::string audio_b64(std::int16_t level, int ms) {
  return protocol::base64_encode(std::string(static_cast<std::size_t>(ms) * 8,
                                             static_cast<char>(codec::linear_to_ulaw(level))));
}

using span = std::pair<double, double>;  // [from, to) in ms

struct recording {
  wav_builder builder;
  std::string data;  // what take_ready and finish appended
  std::uint64_t sequence = 0;
  bool streaming = true;  // take_ready after every entry, as the recorder's writer does

  void entry(direction dir, double t, const std::string& json) {
    builder.on_entry(dir, t, json);
    if (streaming) builder.take_ready(data);
  }
  void caller(double t, std::uint64_t timestamp_ms, int ms = 20) {
    std::string json;
    ++sequence;
    tools::twilio::build_media(json, sequence, sid, sequence, timestamp_ms, audio_b64(caller_level, ms));
    entry(direction::twilio_in, t, json);
  }
  // The caller's next 20 ms frames, up to `to_ms` (media timestamps), each arriving as it ends.
  std::uint64_t next_frame = 0;
  void caller_until(std::uint64_t to_ms) {
    for (; next_frame + 20 <= to_ms; next_frame += 20) caller(static_cast<double>(next_frame + 20), next_frame);
  }
  void send(double t, int ms, const std::string& mark) {
    std::string json;
    protocol::build_twilio_media(json, sid, audio_b64(assistant_level, ms));
    entry(direction::twilio_out, t, json);
    json.clear();
    protocol::build_twilio_mark(json, sid, mark);
    entry(direction::twilio_out, t, json);
  }
  void clear(double t) {
    std::string json;
    protocol::build_twilio_clear(json, sid);
    entry(direction::twilio_out, t, json);
  }
  void echo(double t, const std::string& mark) {
    std::string json;
    tools::twilio::build_mark_echo(json, ++sequence, sid, mark);
    entry(direction::twilio_in, t, json);
  }
  void tick(double t) { entry(direction::event, t, R"({"type":"tick"})"); }
  void finish(double t) { builder.finish(t, data); }

  [[nodiscard]] std::size_t samples() const { return data.size() / wav_bytes_per_sample; }
  [[nodiscard]] std::int16_t sample(std::size_t index, int channel) const {
    std::uint16_t v = 0;
    std::memcpy(&v, data.data() + index * wav_bytes_per_sample + static_cast<std::size_t>(channel) * 2, 2);
    if (std::endian::native == std::endian::big) v = static_cast<std::uint16_t>((v >> 8) | (v << 8));
    return static_cast<std::int16_t>(v);
  }
  // Where a channel (0 left, 1 right) is not silent, in ms; every sample there must be `level`.
  [[nodiscard]] std::vector<span> sounding(int channel, std::int16_t level) const {
    std::vector<span> spans;
    const auto expected = codec::ulaw_to_linear(codec::linear_to_ulaw(level));
    for (std::size_t i = 0; i < samples(); ++i) {
      const auto s = sample(i, channel);
      if (s == 0) continue;
      REQUIRE(s == expected);
      const auto at = static_cast<double>(i) / 8;
      if (!spans.empty() && spans.back().second == at) {
        spans.back().second = at + 0.125;
      } else {
        spans.emplace_back(at, at + 0.125);
      }
    }
    return spans;
  }
  [[nodiscard]] std::vector<span> heard() const { return sounding(1, assistant_level); }
  [[nodiscard]] std::vector<span> said() const { return sounding(0, caller_level); }
};

}  // namespace

TEST_CASE("wav_builder: the header says 16-bit 8 kHz stereo PCM and the data's length", "[record]") {
  auto h = wav_header(32000);
  auto u32 = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(h[at])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(h[at + 1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(h[at + 2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(h[at + 3])) << 24;
  };
  auto u16 = [&](std::size_t at) { return u32(at) & 0xFFFF; };
  CHECK(std::string_view(h.data(), 4) == "RIFF");
  CHECK(u32(4) == 32000 + 36);
  CHECK(std::string_view(h.data() + 8, 8) == "WAVEfmt ");
  CHECK(u32(16) == 16);
  CHECK(u16(20) == 1);  // PCM
  CHECK(u16(22) == 2);  // channels
  CHECK(u32(24) == 8000);
  CHECK(u32(28) == 32000);  // bytes per second
  CHECK(u16(32) == 4);      // bytes per sample frame
  CHECK(u16(34) == 16);     // bits per sample
  CHECK(std::string_view(h.data() + 36, 4) == "data");
  CHECK(u32(40) == 32000);

  // RIFF sizes are 32-bit: a longer data chunk is clamped, never wrapped.
  h = wav_header(std::uint64_t{1} << 40);
  CHECK(u32(4) == std::numeric_limits<std::uint32_t>::max());
  CHECK(u32(40) == std::numeric_limits<std::uint32_t>::max() - 36);
}

TEST_CASE("wav_builder: sample 0 is t = 0, caller frames sit at their timestamps, gaps are silence", "[record]") {
  recording r;
  r.caller_until(1000);
  r.next_frame = 2000;  // Twilio had nothing to send for a second
  r.caller_until(2100);
  r.tick(2500);
  r.finish(3000);

  CHECK(r.samples() == 3000 * 8);
  CHECK(r.builder.data_bytes() == r.data.size());
  CHECK(r.said() == std::vector<span>{{0, 1000}, {2000, 2100}});
  CHECK(r.heard().empty());
}

TEST_CASE("wav_builder: caller frames that arrive before their timestamp move earlier", "[record]") {
  // The bridge's Twilio clock: a frame is never placed after it reached the bridge.
  recording r;
  r.caller(400, 500);  // 100 ms ahead of the bridge's clock
  r.caller(420, 520);
  r.caller(600, 640);  // on time again: the lead stays
  r.finish(1000);
  CHECK(r.said() == std::vector<span>{{400, 440}, {540, 560}});
}

TEST_CASE("wav_builder: the assistant plays from when it was sent and ends at its mark's echo", "[record]") {
  recording r;
  r.caller_until(200);
  r.send(200, 300, "1.1");
  r.caller_until(500);
  r.echo(500, "1.1");
  r.caller_until(700);
  r.send(700, 100, "1.2");
  r.caller_until(800);
  r.echo(800, "1.2");
  r.caller_until(1000);
  r.finish(1000);

  // Both channels on one clock: the caller's frames and the assistant's audio where they happened.
  CHECK(r.said() == std::vector<span>{{0, 1000}});
  CHECK(r.heard() == std::vector<span>{{200, 500}, {700, 800}});
}

TEST_CASE("wav_builder: a late mark echo re-anchors the assistant audio", "[record]") {
  recording r;
  // Two chunks sent together: the second queues behind the first.
  r.send(1000, 200, "1.1");
  r.send(1000, 200, "1.2");
  SECTION("both echoes come late: each chunk ends at its echo") {
    r.echo(1500, "1.1");  // 300 ms later than playing from the send would say
    r.echo(1700, "1.2");
    r.finish(2000);
    CHECK(r.heard() == std::vector<span>{{1300, 1700}});
  }
  SECTION("the second echo never comes: it plays on from the first echo") {
    r.echo(1500, "1.1");
    r.finish(2000);
    CHECK(r.heard() == std::vector<span>{{1300, 1700}});
  }
  SECTION("an echo confirms the chunks before it whose echoes were lost") {
    r.echo(1700, "1.2");
    r.finish(2000);
    CHECK(r.heard() == std::vector<span>{{1300, 1700}});
  }
  SECTION("no echo at all: played in order from when it was sent") {
    r.finish(2000);
    CHECK(r.heard() == std::vector<span>{{1000, 1400}});
  }
}

TEST_CASE("wav_builder: a barge-in's clear cuts the assistant where it took effect", "[record]") {
  recording r;
  // A second of assistant audio sent at once, in five chunks with a mark after each.
  for (int i = 1; i <= 5; ++i) r.send(0, 200, "1." + std::to_string(i));
  r.caller_until(200);
  r.echo(200, "1.1");
  r.caller_until(400);
  r.echo(400, "1.2");
  r.caller_until(500);  // the caller talks over it
  r.clear(500);

  SECTION("Twilio echoes the marks still pending when the clear takes effect") {
    r.echo(530, "1.3");
    r.echo(530, "1.4");
    r.echo(530, "1.5");
    // The next answer, in the bridge's next mark generation.
    r.send(800, 100, "2.1");
    r.echo(900, "2.1");
    r.finish(1200);
    CHECK(r.heard() == std::vector<span>{{0, 530}, {800, 900}});
    CHECK(r.builder.stats().dropped_samples == (1000 - 530) * 8);  // the unheard rest of the answer
  }
  SECTION("without those echoes the cut is the clear itself") {
    r.send(800, 100, "2.1");
    r.echo(900, "2.1");
    r.finish(1200);
    CHECK(r.heard() == std::vector<span>{{0, 500}, {800, 900}});
  }
  SECTION("a second barge-in: each clear cuts what was queued before it") {
    r.send(600, 400, "2.1");
    r.clear(700);
    r.echo(720, "2.1");  // the second clear's echo; the first one's never came
    r.finish(1200);
    CHECK(r.heard() == std::vector<span>{{0, 500}, {600, 720}});
  }
  SECTION("without any echo after it, the cut is the clear itself") {
    r.finish(1200);
    CHECK(r.heard() == std::vector<span>{{0, 500}});
  }
  CHECK(r.said() == std::vector<span>{{0, 500}});
}

TEST_CASE("wav_builder: the cut agrees with the bridge's own barge-in arithmetic", "[record]") {
  // The bridge's mark names and heard estimate (call/playback_ledger): 200 ms chunks paced 400 ms
  // ahead, each echoed 70 ms late, the caller barging in at 1130 ms.
  call::playback_ledger ledger;
  const auto item = ledger.on_audio_received("item_1", "resp_1", 0, 2000 * call::ulaw_bytes_per_ms);
  recording r;
  std::vector<std::string> marks;
  auto send = [&](std::int64_t t) {
    marks.push_back(ledger.on_sent(item, 200 * call::ulaw_bytes_per_ms, t));
    r.send(static_cast<double>(t), 200, marks.back());
  };
  auto echo = [&](std::int64_t t, std::size_t chunk) {
    CHECK(ledger.on_mark(marks[chunk], t) == call::playback_ledger::mark_result::played);
    r.echo(static_cast<double>(t), marks[chunk]);
  };
  send(0);
  send(0);
  for (std::int64_t k = 1; k <= 5; ++k) {
    send(200 * k);
    echo(200 * k + 70, static_cast<std::size_t>(k - 1));
  }
  const auto cuts = ledger.cut_all(1130);
  REQUIRE(cuts.size() == 1);
  CHECK(cuts.front().audio_end_ms == 1060);
  r.clear(1130);
  auto heard_ms = [](const std::vector<span>& spans) {
    double total = 0;
    for (const auto& [from, to] : spans) total += to - from;
    return total;
  };
  SECTION("no echo after the clear: what the bridge told the model is what the WAV holds") {
    r.finish(2000);
    CHECK(heard_ms(r.heard()) == static_cast<double>(cuts.front().audio_end_ms));
    CHECK(r.heard() == std::vector<span>{{70, 1130}});
  }
  SECTION("the pending marks' echoes show the clear took effect 20 ms later") {
    for (std::size_t chunk = 5; chunk < marks.size(); ++chunk) {
      CHECK(ledger.on_mark(marks[chunk], 1150) == call::playback_ledger::mark_result::stale);
      r.echo(1150, marks[chunk]);
    }
    r.finish(2000);
    CHECK(heard_ms(r.heard()) == static_cast<double>(cuts.front().audio_end_ms + 20));
  }
}

TEST_CASE("wav_builder: a clear with no mark pending cuts at once", "[record]") {
  recording r;
  std::string json;
  protocol::build_twilio_media(json, sid, audio_b64(assistant_level, 1000));
  r.entry(direction::twilio_out, 0, json);
  r.clear(300);
  r.finish(1200);
  CHECK(r.heard() == std::vector<span>{{0, 300}});
}

namespace {

// Caller frames throughout, one chunk echoed, and one whose echo never comes.
void stream_scenario(recording& r, std::size_t& samples_before_echo, std::size_t& samples_after_echo) {
  r.caller_until(1000);
  r.send(1000, 400, "1.1");
  r.caller_until(1580);
  samples_before_echo = r.samples();
  r.echo(1600, "1.1");
  r.caller_until(2000);
  samples_after_echo = r.samples();
  r.send(2000, 200, "1.2");
  r.caller_until(13000);
  r.finish(13000);
}

}  // namespace

TEST_CASE("wav_builder: output streams as soon as it is final, and no sooner", "[record]") {
  recording r;
  r.caller_until(1000);
  CHECK(r.samples() == 1000 * 8);  // nothing the assistant could still change

  std::size_t before_echo = 0;
  std::size_t after_echo = 0;
  recording streamed;
  stream_scenario(streamed, before_echo, after_echo);
  CHECK(before_echo == 1000 * 8);  // where the chunk played is not known until its echo
  CHECK(after_echo == 2000 * 8);
  CHECK(streamed.heard() == std::vector<span>{{1200, 1600}, {2000, 2200}});
  CHECK(streamed.said() == std::vector<span>{{0, 13000}});

  // An echo that never comes holds the output back for wav_hold_ms at most.
  recording held;
  held.send(0, 200, "1.1");
  held.caller_until(static_cast<std::uint64_t>(wav_hold_ms) + 1000);
  CHECK(held.samples() == static_cast<std::size_t>((wav_hold_ms + 1000) * 8));

  // The same log built in one go gives the same WAV.
  recording once;
  once.streaming = false;
  stream_scenario(once, before_echo, after_echo);
  CHECK(before_echo == 0);
  CHECK(once.data == streamed.data);
}

TEST_CASE("wav_builder: output keeps going when the caller's frames stop", "[record]") {
  recording r;
  r.caller_until(1000);
  r.tick(1000 + wav_hold_ms + 5000);
  CHECK(r.samples() == static_cast<std::size_t>((5000 + 1000) * 8));
  r.finish(20000);
  CHECK(r.samples() == 20000 * 8);
}

TEST_CASE("wav_builder: malformed messages are ignored", "[record]") {
  auto build = [](bool with_garbage) {
    recording r;
    r.caller_until(100);
    r.send(100, 100, "1.1");
    r.caller_until(140);
    if (with_garbage) {
      const std::string huge =
          R"({"event":"media","media":{"payload":")" + std::string(wav_max_message_bytes, 'A') + R"("}})";
      for (const auto& [dir, json] : std::vector<std::pair<direction, std::string>>{
               {direction::twilio_in, "not json"},
               {direction::twilio_in, "[1,2]"},
               {direction::twilio_in, R"({"event":"media"})"},
               {direction::twilio_in, R"({"event":"media","media":{"timestamp":"220","payload":"%%%%"}})"},
               {direction::twilio_in, R"({"event":"media","media":{"timestamp":"-40","payload":"/w=="}})"},
               {direction::twilio_in, R"({"event":"media","media":{"timestamp":"99999999","payload":"/w=="}})"},
               {direction::twilio_in, R"({"event":"mark","mark":{}})"},
               {direction::twilio_out, R"({"event":"media","media":{"payload":"not base64"}})"},
               {direction::twilio_out, R"({"event":"mark","mark":{"name":")" + std::string(100, 'x') + R"("}})"},
               {direction::twilio_out, huge},
               {direction::twilio_out, ""},
           })
        r.entry(dir, 150, json);
      // Neither counted nor used: not the caller's track, an echo of a mark never sent, a clear
      // received from Twilio, and entries whose time is not a time.
      r.entry(direction::twilio_in, 150,
              R"({"event":"media","media":{"track":"outbound","timestamp":"0","payload":"AAAA"}})");
      r.echo(160, "9.9");
      r.entry(direction::twilio_in, 160, R"({"event":"clear"})");
      r.entry(direction::twilio_out, std::nan(""), R"({"event":"clear"})");
      r.entry(direction::twilio_out, std::numeric_limits<double>::infinity(), R"({"event":"clear"})");
      r.entry(direction::twilio_out, 1e300, R"({"event":"clear"})");
      CHECK(r.builder.stats().ignored_messages == 11);
    }
    r.caller_until(200);
    r.echo(200, "1.1");
    r.caller_until(400);
    r.finish(500);
    CHECK(r.heard() == std::vector<span>{{100, 200}});
    return r.data;
  };
  const auto clean = build(false);
  CHECK(clean.size() == 500 * 8 * wav_bytes_per_sample);
  CHECK(build(true) == clean);
}

TEST_CASE("wav_builder: a one-hour call stays within its memory bound", "[record]") {
  recording r;
  std::size_t held_most = 0;
  std::uint64_t written = 0;
  std::deque<std::pair<double, std::string>> echoes;  // due time, mark
  // Every 5 s a 2 s answer in 100 ms chunks, each echoed 160 ms after it was sent; the first
  // chunk of every other answer has its echo lost, and every minute an answer is cut by a clear
  // whose echoes never come.
  for (std::uint64_t ts = 0; ts < std::uint64_t{3600} * 1000; ts += 20) {
    const auto t = static_cast<double>(ts + 20);
    while (!echoes.empty() && echoes.front().first <= t) {
      r.echo(echoes.front().first, echoes.front().second);
      echoes.pop_front();
    }
    r.caller(t, ts);
    const auto in_turn = ts % 5000;
    if (in_turn < 2000 && in_turn % 100 == 0) {
      const auto mark = std::to_string(ts / 5000) + "." + std::to_string(in_turn);
      r.send(t, 100, mark);
      if (ts % 10000 != 0) echoes.emplace_back(t + 160, mark);
    }
    if (ts % 60000 == 1000) {
      r.clear(t);
      echoes.clear();
    }
    held_most = std::max(held_most, r.builder.held_bytes());
    written += r.data.size();
    r.data.clear();
  }
  r.finish(3600 * 1000);
  written += r.data.size();

  CHECK(written == std::uint64_t{3600} * 8000 * wav_bytes_per_sample);
  CHECK(r.builder.data_bytes() == written);
  CHECK(r.builder.stats().ignored_messages == 0);
  // A steady call holds well under a second of audio: what waits for the next echo.
  CHECK(held_most < 8000);
  CHECK(held_most <= wav_max_held_bytes);
}

TEST_CASE("wav_builder: a flood of audio and marks stays within the bound", "[record]") {
  recording r;
  std::size_t held_most = 0;
  // Ten minutes of assistant audio sent at once, none of it echoed, and far more marks than fit.
  for (int i = 0; i < 6000; ++i) {
    r.send(0, 100, "1." + std::to_string(i));
    held_most = std::max(held_most, r.builder.held_bytes());
  }
  for (int i = 0; i < 20000; ++i) {
    std::string json;
    protocol::build_twilio_mark(json, sid, "2." + std::to_string(i));
    r.entry(direction::twilio_out, 1, json);
    held_most = std::max(held_most, r.builder.held_bytes());
  }
  CHECK(held_most <= wav_max_held_bytes);
  CHECK(r.builder.stats().dropped_samples > 0);
  r.finish(700000);
  CHECK(r.samples() == 700000 * 8);
  // What fitted plays from the start, in order, without a gap.
  const auto heard = r.heard();
  REQUIRE(heard.size() == 1);
  CHECK(heard.front().first == 0);
  CHECK(heard.front().second >= 100000);
}
