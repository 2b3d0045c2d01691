#include "codec/resampler.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <utility>
#include <vector>

#include "codec/transcoder.hpp"
#include "tools/resampler_bench/resampler_measure.hpp"

namespace {

using namespace mb::codec;

using mb::tools::resampler_bench::sine;

// Appends what process() writes for `in` to `out`.
void process_into(resampler& r, std::span<const std::int16_t> in, std::vector<std::int16_t>& out) {
  std::vector<std::int16_t> buffer(r.max_output(in.size()));
  buffer.resize(r.process(in, buffer));
  out.insert(out.end(), buffer.begin(), buffer.end());
}

void flush_into(resampler& r, std::vector<std::int16_t>& out) {
  std::vector<std::int16_t> buffer(r.max_tail());
  buffer.resize(r.flush(buffer));
  out.insert(out.end(), buffer.begin(), buffer.end());
}

// `in` in chunks of the given sizes (cycled), then a flush.
std::vector<std::int16_t> run(resampler& r, std::span<const std::int16_t> in, std::vector<std::size_t> chunks) {
  std::vector<std::int16_t> out;
  for (std::size_t at = 0, k = 0; at < in.size(); ++k) {
    const std::size_t n = std::min(chunks[k % chunks.size()], in.size() - at);
    process_into(r, in.subspan(at, n), out);
    at += n;
  }
  flush_into(r, out);
  return out;
}

// The largest difference between two outputs of the same length. A drained resampler (flush,
// reset) runs its FFT blocks at other places in the stream than a fresh one, so their float
// rounding may differ by 1 LSB; what is left of an earlier signal differs by thousands.
int max_difference(const std::vector<std::int16_t>& a, const std::vector<std::int16_t>& b) {
  REQUIRE(a.size() == b.size());
  int most = 0;
  for (std::size_t i = 0; i < a.size(); ++i) most = std::max(most, std::abs(a[i] - b[i]));
  return most;
}

double rms(std::span<const std::int16_t> s) {
  double sum = 0;
  for (auto x : s) sum += static_cast<double>(x) * x;
  return std::sqrt(sum / static_cast<double>(s.size()));
}

struct direction_case {
  double in_rate;
  double out_rate;
  resample_preset preset;
};

// Both directions of a Gemini call with the bridge's presets, and presets whose filters are built
// differently (intermediate phase, the block-based medium filter).
const direction_case cases[] = {
    {8000, 16000, caller_preset},
    {24000, 8000, assistant_preset},
    {8000, 24000, caller_preset},
    {16000, 8000, assistant_preset},
    {8000, 16000, {resample_quality::medium, resample_phase::intermediate}},
    {24000, 8000, {resample_quality::medium, resample_phase::minimum}},
};

}  // namespace

TEST_CASE("resampler: after flush the output is the input's length times the ratio, to the sample", "[resampler]") {
  for (const auto& c : cases) {
    CAPTURE(c.in_rate, c.out_rate);
    for (std::size_t seconds_tenths : {3u, 7u, 21u}) {
      const std::size_t samples = static_cast<std::size_t>(c.in_rate) * seconds_tenths / 10 + 7;  // not a whole chunk
      const auto in = sine(440, c.in_rate, samples);
      resampler r(c.in_rate, c.out_rate, c.preset);
      const auto out = run(r, in, {static_cast<std::size_t>(c.in_rate / 50)});
      CHECK(std::abs(static_cast<double>(out.size()) - static_cast<double>(samples) * c.out_rate / c.in_rate) <= 1.0);
    }
  }
}

TEST_CASE("resampler: flush releases the whole tail, which max_tail() bounds exactly", "[resampler]") {
  for (const auto& c : cases) {
    CAPTURE(c.in_rate, c.out_rate);
    const auto in = sine(1000, c.in_rate, static_cast<std::size_t>(c.in_rate / 2));
    resampler exact(c.in_rate, c.out_rate, c.preset);
    resampler roomy(c.in_rate, c.out_rate, c.preset);
    std::vector<std::int16_t> ignored;
    process_into(exact, in, ignored);
    process_into(roomy, in, ignored);

    const std::size_t tail = exact.max_tail();
    CHECK(tail >= 1);  // the filter holds back some of a tone that was still playing
    std::vector<std::int16_t> exact_out(tail);
    exact_out.resize(exact.flush(exact_out));
    std::vector<std::int16_t> roomy_out(tail + 1000);
    roomy_out.resize(roomy.flush(roomy_out));
    // More room gets nothing more: the bound is not short of what libsoxr holds.
    CHECK(roomy_out == exact_out);
    // And it is not loose by more than libsoxr's rounding of its fractional delay.
    CHECK(exact_out.size() + 1 >= tail);
    // The tail is the tone, not silence: the last input samples made it out.
    CHECK(rms(exact_out) > 12000 / std::sqrt(2.0) * 0.8);
  }
}

TEST_CASE("resampler: chunk borders change nothing: chunked output equals one-shot output", "[resampler]") {
  for (const auto& c : cases) {
    CAPTURE(c.in_rate, c.out_rate);
    const auto in = sine(700, c.in_rate, static_cast<std::size_t>(c.in_rate));
    resampler one_shot(c.in_rate, c.out_rate, c.preset);
    const auto expected = run(one_shot, in, {in.size()});
    for (const std::vector<std::size_t>& chunks : {std::vector<std::size_t>{160}, {1}, {7, 333, 1, 2400, 59}}) {
      resampler chunked(c.in_rate, c.out_rate, c.preset);
      CHECK(run(chunked, in, chunks) == expected);
    }
  }
}

TEST_CASE("resampler: reset forgets the signal before it", "[resampler]") {
  for (const auto& c : cases) {
    CAPTURE(c.in_rate, c.out_rate);
    const auto loud = sine(500, c.in_rate, static_cast<std::size_t>(c.in_rate / 10));
    const auto next = sine(900, c.in_rate, static_cast<std::size_t>(c.in_rate / 5), 3000);
    resampler fresh(c.in_rate, c.out_rate, c.preset);
    const auto expected = run(fresh, next, {160});

    resampler reused(c.in_rate, c.out_rate, c.preset);
    std::vector<std::int16_t> before;
    process_into(reused, loud, before);
    REQUIRE(reused.max_tail() > 0);  // it holds some of the loud tone now
    reused.reset();
    CHECK(reused.max_tail() == 0);
    CHECK(max_difference(run(reused, next, {160}), expected) <= 1);

    // Without the reset, the loud tone's tail comes out first: what the test above rules out.
    resampler kept(c.in_rate, c.out_rate, c.preset);
    process_into(kept, loud, before);
    auto leaked = run(kept, next, {160});
    leaked.resize(expected.size());
    CHECK(max_difference(leaked, expected) > 1000);
  }
}

TEST_CASE("resampler: a flush starts the next stretch afresh", "[resampler]") {
  const auto first = sine(500, 24000, 4800);
  const auto second = sine(800, 24000, 4800);
  resampler fresh(24000, 8000, assistant_preset);
  const auto expected = run(fresh, second, {480});
  resampler reused(24000, 8000, assistant_preset);
  (void)run(reused, first, {480});
  CHECK(max_difference(run(reused, second, {480}), expected) <= 1);
}

TEST_CASE("resampler: short stretches, each flushed, come out whole and as from a fresh resampler", "[resampler]") {
  for (const auto& c : cases) {
    CAPTURE(c.in_rate, c.out_rate);
    resampler reused(c.in_rate, c.out_rate, c.preset);
    // Shorter than what the filter holds back, a single sample, and lengths that end between two
    // output samples (24 → 8 kHz: 7 and 100 are not multiples of 3).
    for (std::size_t samples : {1u, 2401u, 7u, 100u, 1u, 3u, 160u}) {
      CAPTURE(samples);
      const auto in = sine(700, c.in_rate, samples);
      resampler fresh(c.in_rate, c.out_rate, c.preset);
      const auto expected = run(fresh, in, {160});
      const auto out = run(reused, in, {160});
      CHECK(std::abs(static_cast<double>(out.size()) - static_cast<double>(samples) * c.out_rate / c.in_rate) <= 1.0);
      CHECK(max_difference(out, expected) <= 1);
    }
  }
}

TEST_CASE("resampler: a moved resampler carries on the stream, the moved-from one is inert", "[resampler]") {
  const auto in = sine(600, 8000, 8000);
  const auto half = std::span(in).first(4000);
  const auto rest = std::span(in).subspan(4000);
  resampler reference(8000, 16000, caller_preset);
  const auto expected = run(reference, in, {160});

  SECTION("construction") {
    resampler original(8000, 16000, caller_preset);
    std::vector<std::int16_t> out;
    process_into(original, half, out);
    resampler moved(std::move(original));
    for (std::size_t at = 0; at < rest.size(); at += 160) process_into(moved, rest.subspan(at, 160), out);
    flush_into(moved, out);
    // The chunking differs from the reference's, which chunk-border invariance makes irrelevant.
    CHECK(out == expected);
    std::vector<std::int16_t> nothing(16);
    CHECK(original.process(half, nothing) == 0);  // NOLINT(bugprone-use-after-move): inert, not broken
    CHECK(original.flush(nothing) == 0);
    CHECK(original.max_tail() == 0);
  }
  SECTION("assignment") {
    resampler original(8000, 16000, caller_preset);
    std::vector<std::int16_t> out;
    process_into(original, half, out);
    resampler target(24000, 8000, assistant_preset);  // its own filter is released
    target = std::move(original);
    CHECK(target.max_output(160) >= 320);  // the ratio came along
    process_into(target, rest, out);
    flush_into(target, out);
    CHECK(out == expected);
    resampler reassigned(8000, 16000, caller_preset);
    original = std::move(reassigned);  // NOLINT(bugprone-use-after-move): a moved-from resampler can be assigned
    CHECK(run(original, in, {160}) == expected);
  }
}
