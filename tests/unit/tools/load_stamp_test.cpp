#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <string>
#include <thread>

#include "codec/g711.hpp"
#include "simulator/audio_pattern.hpp"
#include "tools/load_gen/latency.hpp"
#include "tools/load_gen/stamp.hpp"
#include "tools/twilio_sim/caller_audio.hpp"

using namespace mb::tools;

TEST_CASE("stamps round-trip and reject audio without one", "[tools][load]") {
  const load::stamp s{1999, 4'000'000'001U, 0xFFFFFFF0U, 65535, 123456789};
  std::array<std::uint8_t, load::stamp_bytes> bytes{};
  load::write_stamp(s, bytes);
  const auto back = load::read_stamp(bytes);
  REQUIRE(back);
  CHECK(back->call == s.call);
  CHECK(back->seq == s.seq);
  CHECK(back->sent_us == s.sent_us);
  CHECK(back->response == s.response);
  CHECK(back->offset == s.offset);

  auto corrupt = bytes;
  corrupt[10] ^= 1;  // still a stamp code, wrong checksum
  CHECK_FALSE(load::read_stamp(corrupt));
  CHECK_FALSE(load::read_stamp(std::span<const std::uint8_t>(bytes).first(load::stamp_bytes - 1)));

  // Neither the simulator's assistant audio nor silence nor caller speech reads as a stamp.
  std::array<std::uint8_t, 160> pattern{};
  mb::simulator::fill_assistant_audio(0, 0, pattern);
  CHECK_FALSE(load::read_stamp(pattern));
  std::array<std::uint8_t, 160> silence{};
  silence.fill(mb::codec::ulaw_silence);
  CHECK_FALSE(load::read_stamp(silence));
  const auto speech = twilio::speech_frame();
  CHECK_FALSE(load::read_stamp({reinterpret_cast<const std::uint8_t*>(speech.data()), speech.size()}));
}

TEST_CASE("a stamp is quiet: far below the simulator's speech threshold", "[tools][load]") {
  std::array<std::uint8_t, load::stamp_bytes> bytes{};
  load::write_stamp({7, 8, 9, 10, 11}, bytes);
  for (const auto b : bytes) CHECK(std::abs(mb::codec::ulaw_to_linear(b)) <= 120);  // below -48 dBFS
}

TEST_CASE("the 32-bit µs clock survives its wrap", "[tools][load]") {
  CHECK(load::elapsed_us(0xFFFFFF00U, 0x00000100U) == 0x200);
  CHECK(load::elapsed_us(1000, 400) == -600);
}

TEST_CASE("latency histograms give µs percentiles", "[tools][load]") {
  load::latency_histogram h;
  for (int us = 1; us <= 1000; ++us) h.record(us);
  h.record(250'000);  // 100 µs buckets above 10 ms
  CHECK(h.count() == 1001);
  CHECK(h.percentile_us(0.5) == 501);
  CHECK(h.percentile_us(0.99) == 991);
  CHECK(h.max_us() == 250'000);
  CHECK(h.percentile_us(1.0) == 250'000);
  CHECK(h.count_above(5000) == 1);

  load::latency_set set;
  set.record(10);
  std::thread([&set] { set.record(30); }).join();
  const auto merged = set.merged();
  CHECK(merged.count() == 2);
  CHECK(merged.max_us() == 30);
}
