#include "codec/g711.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <vector>

namespace {

using namespace mb::codec;

// Independent references, written in the style of the classic public-domain implementations rather
// than the production table construction.

// Sun Microsystems g711.c ulaw2linear: bit manipulation with the 0x84 bias in 16-bit units.
int sun_ulaw_decode(std::uint8_t code) {
  const int u = ~code & 0xFF;
  int t = ((u & 0x0F) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) != 0 ? (0x84 - t) : (t - 0x84);
}

// Sun Microsystems g711.c alaw2linear.
int sun_alaw_decode(std::uint8_t code) {
  const int a = code ^ 0x55;
  int t = (a & 0x0F) << 4;
  const int seg = (a & 0x70) >> 4;
  switch (seg) {
    case 0: t += 8; break;
    case 1: t += 0x108; break;
    default: t += 0x108; t <<= seg - 1; break;
  }
  return (a & 0x80) != 0 ? t : -t;
}

// ITU-T G.191 STL g711.c ulaw_compress for one 16-bit sample: segment found by a shift loop,
// nibbles built already inverted.
std::uint8_t g191_ulaw_encode(std::int16_t x) {
  int absno = x < 0 ? ((~x) >> 2) + 33 : (x >> 2) + 33;
  if (absno > 0x1FFF) absno = 0x1FFF;
  int i = absno >> 6;
  int segno = 1;
  while (i != 0) {
    ++segno;
    i >>= 1;
  }
  const int high_nibble = 0x8 - segno;
  const int low_nibble = 0xF - ((absno >> segno) & 0xF);
  int out = (high_nibble << 4) | low_nibble;
  if (x >= 0) out |= 0x80;
  return static_cast<std::uint8_t>(out);
}

// ITU-T G.191 STL g711.c alaw_compress for one 16-bit sample.
std::uint8_t g191_alaw_encode(std::int16_t x) {
  int ix = x < 0 ? (~x) >> 4 : x >> 4;
  if (ix > 15) {
    int iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      ++iexp;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (x >= 0) ix |= 0x80;
  return static_cast<std::uint8_t>(ix ^ 0x55);
}

// Reconstruction step (distance between neighbouring decoded values) of a code's segment, 16-bit units.
int ulaw_step(std::uint8_t code) { return 8 << ((~code >> 4) & 0x7); }
int alaw_step(std::uint8_t code) {
  const int seg = ((code ^ 0x55) >> 4) & 0x7;
  return seg <= 1 ? 16 : 16 << (seg - 1);
}

template <typename F>
void for_each_sample(F f) {
  for (int x = std::numeric_limits<std::int16_t>::min(); x <= std::numeric_limits<std::int16_t>::max(); ++x) {
    f(static_cast<std::int16_t>(x));
  }
}

}  // namespace

TEST_CASE("g711: known code/value pairs", "[codec]") {
  CHECK(ulaw_to_linear(0xFF) == 0);
  CHECK(ulaw_to_linear(0x7F) == 0);
  CHECK(ulaw_to_linear(0x00) == -32124);
  CHECK(ulaw_to_linear(0x80) == 32124);
  CHECK(ulaw_to_linear(0xFE) == 8);
  CHECK(ulaw_to_linear(0x7E) == -8);
  CHECK(ulaw_to_linear(0xEF) == 132);  // first code of segment 1

  CHECK(alaw_to_linear(0xD5) == 8);
  CHECK(alaw_to_linear(0x55) == -8);
  CHECK(alaw_to_linear(0x2A) == -32256);
  CHECK(alaw_to_linear(0xAA) == 32256);
  CHECK(alaw_to_linear(0xD4) == 24);

  CHECK(ulaw_silence == 0xFF);
  CHECK(ulaw_to_linear(ulaw_silence) == 0);
  CHECK(linear_to_ulaw(0) == ulaw_silence);

  CHECK(linear_to_ulaw(32767) == 0x80);
  CHECK(linear_to_ulaw(-32768) == 0x00);
  CHECK(linear_to_alaw(32767) == 0xAA);
  CHECK(linear_to_alaw(-32768) == 0x2A);
  CHECK(linear_to_alaw(0) == 0xD5);
  CHECK(linear_to_alaw(-1) == 0x55);
}

TEST_CASE("g711: every code decodes to the reference value", "[codec]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    INFO("code " << c);
    CHECK(ulaw_to_linear(code) == sun_ulaw_decode(code));
    CHECK(alaw_to_linear(code) == sun_alaw_decode(code));
  }
}

TEST_CASE("g711: every 16-bit sample encodes like the ITU-T G.191 reference", "[codec]") {
  int ulaw_mismatches = 0;
  int alaw_mismatches = 0;
  for_each_sample([&](std::int16_t x) {
    ulaw_mismatches += linear_to_ulaw(x) != g191_ulaw_encode(x) ? 1 : 0;
    alaw_mismatches += linear_to_alaw(x) != g191_alaw_encode(x) ? 1 : 0;
  });
  CHECK(ulaw_mismatches == 0);
  CHECK(alaw_mismatches == 0);
}

TEST_CASE("g711: encode then decode stays within the quantisation step", "[codec]") {
  // Inside the coded range the decoder reconstructs the midpoint of each decision interval, so the
  // error is at most half a step; beyond the largest reconstruction value the encoder clips.
  int ulaw_failures = 0;
  int alaw_failures = 0;
  for_each_sample([&](std::int16_t x) {
    const std::uint8_t u = linear_to_ulaw(x);
    const int ulaw_error = std::abs(ulaw_to_linear(u) - x);
    const bool ulaw_clipped = std::abs(x) > 32124;
    if (ulaw_error > (ulaw_clipped ? ulaw_step(u) : ulaw_step(u) / 2)) ++ulaw_failures;

    const std::uint8_t a = linear_to_alaw(x);
    const int alaw_error = std::abs(alaw_to_linear(a) - x);
    const bool alaw_clipped = std::abs(x) > 32256;
    if (alaw_error > (alaw_clipped ? alaw_step(a) : alaw_step(a) / 2)) ++alaw_failures;
  });
  CHECK(ulaw_failures == 0);
  CHECK(alaw_failures == 0);
}

TEST_CASE("g711: the quantiser is monotonic", "[codec]") {
  int previous_ulaw = std::numeric_limits<int>::min();
  int previous_alaw = std::numeric_limits<int>::min();
  int violations = 0;
  for_each_sample([&](std::int16_t x) {
    const int u = ulaw_to_linear(linear_to_ulaw(x));
    const int a = alaw_to_linear(linear_to_alaw(x));
    if (u < previous_ulaw || a < previous_alaw) ++violations;
    previous_ulaw = u;
    previous_alaw = a;
  });
  CHECK(violations == 0);
}

TEST_CASE("g711: decode then encode gives the code back", "[codec]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    INFO("code " << c);
    // μ-law 0x7F is "negative zero": it decodes to 0, and 0 encodes to the positive zero 0xFF.
    CHECK(linear_to_ulaw(ulaw_to_linear(code)) == (code == 0x7F ? 0xFF : code));
    // A-law has no zero code, so every code has a distinct value and survives.
    CHECK(linear_to_alaw(alaw_to_linear(code)) == code);
  }
}

TEST_CASE("g711: span helpers match the scalar functions", "[codec]") {
  std::vector<std::uint8_t> codes(256);
  for (int c = 0; c < 256; ++c) codes[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c);

  std::vector<std::int16_t> pcm(codes.size());
  decode_ulaw(codes, pcm);
  for (std::size_t i = 0; i < codes.size(); ++i) CHECK(pcm[i] == sun_ulaw_decode(codes[i]));

  const std::vector<std::int16_t> samples{0, 1, -1, 100, -100, 4000, -4000, 32767, -32768};
  std::vector<std::uint8_t> encoded(samples.size());
  encode_ulaw(samples, encoded);
  for (std::size_t i = 0; i < samples.size(); ++i) CHECK(encoded[i] == g191_ulaw_encode(samples[i]));

  std::vector<std::int16_t> none;
  std::vector<std::uint8_t> no_codes;
  decode_ulaw(no_codes, none);
  encode_ulaw(none, no_codes);
  CHECK(none.empty());
}

TEST_CASE("g711: span helpers reject mismatched sizes without writing", "[codec]") {
  const std::vector<std::uint8_t> codes(160, 0x00);
  std::vector<std::int16_t> pcm(159, 7);
  CHECK_THROWS_AS(decode_ulaw(codes, pcm), std::length_error);
  CHECK(pcm == std::vector<std::int16_t>(159, 7));

  const std::vector<std::int16_t> samples(160, 1000);
  std::vector<std::uint8_t> out(161, 0x42);
  CHECK_THROWS_AS(encode_ulaw(samples, out), std::length_error);
  CHECK(out == std::vector<std::uint8_t>(161, 0x42));
}
