#include "codec/transcoder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "codec/g711.hpp"
#include "tools/resampler_bench/resampler_measure.hpp"

namespace {

using namespace mb::codec;

using mb::tools::resampler_bench::direction;
using mb::tools::resampler_bench::resample;
using mb::tools::resampler_bench::sine;

std::string as_bytes(const std::vector<std::int16_t>& samples) {
  std::string bytes(samples.size() * 2, '\0');
  std::memcpy(bytes.data(), samples.data(), bytes.size());  // little-endian, like the wire
  return bytes;
}

std::vector<std::uint8_t> ulaw_of(const std::vector<std::int16_t>& samples) {
  std::vector<std::uint8_t> out(samples.size());
  encode_ulaw(samples, out);
  return out;
}

// What a resampler alone makes of `linear`, flushed: the transcoder must add nothing but the G.711
// step and the byte layout (chunk borders change nothing, resampler_test.cpp).
std::vector<std::int16_t> resampled(double in_rate, double out_rate, resample_preset preset,
                                    const std::vector<std::int16_t>& linear) {
  return resample(direction{in_rate, out_rate}, preset, linear, linear.size());
}

// All of `pcm` through `t` in chunks of the given byte counts (cycled), then a flush.
std::string transcode(pcm16_to_ulaw& t, std::string_view pcm, std::vector<std::size_t> chunks) {
  std::string out;
  for (std::size_t at = 0, k = 0; at < pcm.size(); ++k) {
    const std::size_t n = std::min(chunks[k % chunks.size()], pcm.size() - at);
    const auto frames = t.convert(pcm.substr(at, n));
    CHECK(frames.size() % phone_frame_bytes == 0);
    out += frames;
    at += n;
  }
  const auto tail = t.flush();
  CHECK(tail.size() % phone_frame_bytes == 0);
  return out + std::string(tail);
}

}  // namespace

TEST_CASE("ulaw_to_pcm16: the caller's frames become the resampled PCM16 LE of their decoded samples", "[transcoder]") {
  for (int provider_rate : {16000, 24000}) {
    CAPTURE(provider_rate);
    const auto ulaw = ulaw_of(sine(1000, phone_rate, 8000));  // 1 s
    std::vector<std::int16_t> linear(ulaw.size());
    decode_ulaw(ulaw, linear);
    const auto flushed = as_bytes(resampled(phone_rate, provider_rate, caller_preset, linear));

    ulaw_to_pcm16 t(provider_rate, caller_preset);
    std::string out;
    for (std::size_t at = 0; at < ulaw.size(); at += phone_frame_bytes) {
      out += t.convert(std::span(ulaw).subspan(at, phone_frame_bytes));
    }
    // The caller's audio has no end, so no flush: what came out so far is the start of the flushed output.
    CHECK(out == flushed.substr(0, out.size()));
    // Most of a second at the provider's rate: only the filter's delay is still held.
    CHECK(out.size() > static_cast<std::size_t>(provider_rate) * 2 * 95 / 100);
  }
}

TEST_CASE("ulaw_to_pcm16: reset drops the caller audio the filter still holds", "[transcoder]") {
  const auto loud = ulaw_of(sine(1000, phone_rate, 1600));
  const std::vector<std::uint8_t> silence(phone_frame_bytes * 20, ulaw_silence);
  ulaw_to_pcm16 t(16000, caller_preset);
  (void)t.convert(loud);
  t.reset();
  std::string out;
  for (std::size_t at = 0; at < silence.size(); at += phone_frame_bytes) {
    out += t.convert(std::span(silence).subspan(at, phone_frame_bytes));
  }
  REQUIRE_FALSE(out.empty());
  CHECK(std::all_of(out.begin(), out.end(), [](char b) { return b == 0; }));
}

TEST_CASE("pcm16_to_ulaw: whole 20 ms frames of the resampled provider audio, the tail flushed", "[transcoder]") {
  for (int provider_rate : {24000, 16000}) {
    CAPTURE(provider_rate);
    // 1.03 s: the output ends in a partial frame (8240 samples = 51 frames and 80 samples).
    const auto linear = sine(440, provider_rate, static_cast<std::size_t>(provider_rate) * 103 / 100);
    const auto samples = resampled(provider_rate, phone_rate, assistant_preset, linear);
    REQUIRE(samples.size() % phone_frame_bytes != 0);
    std::vector<std::uint8_t> expected(samples.size());
    encode_ulaw(samples, expected);

    pcm16_to_ulaw t(provider_rate, assistant_preset);
    const auto out = transcode(t, as_bytes(linear), {4800});
    REQUIRE(out.size() == (samples.size() / phone_frame_bytes + 1) * phone_frame_bytes);
    // Every sample is there, the last ones included, in order ...
    CHECK(std::equal(expected.begin(), expected.end(), reinterpret_cast<const std::uint8_t*>(out.data())));
    // ... and the last frame is padded with μ-law silence.
    CHECK(std::all_of(out.begin() + static_cast<std::ptrdiff_t>(samples.size()), out.end(),
                      [](char b) { return static_cast<std::uint8_t>(b) == ulaw_silence; }));
  }
}

TEST_CASE("pcm16_to_ulaw: a partial frame waits for the next chunk", "[transcoder]") {
  pcm16_to_ulaw t(24000, assistant_preset);
  const auto pcm = as_bytes(sine(440, 24000, 24000));
  // 5 ms chunks: 40 μ-law samples each, so most chunks complete no frame.
  std::size_t frames = 0, empty = 0;
  for (std::size_t at = 0; at < pcm.size(); at += 240) {
    const auto out = t.convert(std::string_view(pcm).substr(at, 240));
    CHECK(out.size() % phone_frame_bytes == 0);
    frames += out.size() / phone_frame_bytes;
    empty += out.empty() ? 1 : 0;
  }
  CHECK(empty > 0);
  CHECK(frames >= 45);  // 50 frames in 1 s, less what the filter and the partial frame hold
  frames += t.flush().size() / phone_frame_bytes;
  CHECK(frames == 50);
}

TEST_CASE("pcm16_to_ulaw: a sample split between chunks is put back together", "[transcoder]") {
  const auto pcm = as_bytes(sine(440, 24000, 12000));
  pcm16_to_ulaw whole(24000, assistant_preset);
  const auto expected = transcode(whole, pcm, {pcm.size()});
  for (const std::vector<std::size_t>& chunks : {std::vector<std::size_t>{1}, {3}, {4801}, {7, 1, 333, 2, 999}}) {
    pcm16_to_ulaw split(24000, assistant_preset);
    CHECK(transcode(split, pcm, chunks) == expected);
  }
}

TEST_CASE("pcm16_to_ulaw: reset drops the held frame, the filter's tail and a pending odd byte", "[transcoder]") {
  const auto loud = as_bytes(sine(440, 24000, 3000));  // 1000 samples out: 6 frames and 40 held
  const auto quiet = as_bytes(std::vector<std::int16_t>(24000, 1000));
  pcm16_to_ulaw fresh(24000, assistant_preset);
  const auto expected = transcode(fresh, quiet, {4800});

  pcm16_to_ulaw t(24000, assistant_preset);
  (void)t.convert(std::string_view(loud).substr(0, loud.size() - 1));  // ends on an odd byte
  t.reset();
  CHECK(t.flush().empty());  // nothing of the cut turn is left to play
  (void)t.convert(std::string_view(loud).substr(0, 4801));
  t.reset();
  // A leftover odd byte would shift every sample by a byte: 1000 would read as 0xE803 (−6141).
  CHECK(transcode(t, quiet, {4800}) == expected);
}
