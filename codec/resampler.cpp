#include "codec/resampler.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include <soxr.h>

namespace mb::codec {
namespace {

unsigned long recipe_of(resample_preset p) noexcept {
  unsigned long recipe = SOXR_MQ;
  switch (p.quality) {
    case resample_quality::quick: recipe = SOXR_QQ; break;
    case resample_quality::low: recipe = SOXR_LQ; break;
    case resample_quality::medium: recipe = SOXR_MQ; break;
    case resample_quality::high: recipe = SOXR_HQ; break;
    // 16 bits without MQ's medium rolloff (up to 0.35 dB down at the band edge); the band is set below.
    case resample_quality::telephone: recipe = SOXR_16_BITQ; break;
  }
  switch (p.phase) {
    case resample_phase::linear: recipe |= SOXR_LINEAR_PHASE; break;
    case resample_phase::intermediate: recipe |= SOXR_INTERMEDIATE_PHASE; break;
    case resample_phase::minimum: recipe |= SOXR_MINIMUM_PHASE; break;
  }
  return recipe;
}

soxr_quality_spec_t quality_of(resample_preset p) noexcept {
  soxr_quality_spec_t spec = soxr_quality_spec(recipe_of(p), 0);
  if (p.quality == resample_quality::telephone) {
    // G.712: 300-3400 Hz kept, 4600 Hz and above rejected, as fractions of 4 kHz (resampler.hpp).
    spec.passband_end = 0.85;
    spec.stopband_begin = 1.15;
  }
  return spec;
}

soxr_t as_soxr(void* handle) noexcept { return static_cast<soxr_t>(handle); }

// libsoxr filters in DFT blocks of at least 2^this samples, and a block must fill before its output
// leaves. With its default, 2^10, the telephone filter held back twice as much (32 ms on average
// instead of 16 at 8 → 16 kHz, 21 instead of 11 at 24 → 8 kHz); below 2^9 its own length sets the block.
constexpr unsigned log2_min_dft_size = 8;

// The input libsoxr takes in one call. Its FIFOs grow to the largest call they have seen; a bounded
// piece keeps them at the size the first chunks gave them, whatever the provider's chunk size.
constexpr std::size_t piece_samples = 480;

constexpr std::array<std::int16_t, piece_samples> silence{};

// Output libsoxr writes while draining, copied out or dropped from here.
constexpr std::size_t scratch_samples = 1024;

// The fewest input samples that make a whole number of output samples (3 for 24 → 8 kHz, 1 for
// 8 → 16 kHz); 1 when the ratio has no small fraction, where alignment is then to the nearest sample.
std::size_t input_period(double in_rate, double out_rate) noexcept {
  for (std::size_t n = 1; n <= 1000; ++n) {
    const double out = static_cast<double>(n) * out_rate / in_rate;
    if (std::abs(out - std::round(out)) < 1e-9) return n;
  }
  return 1;
}

}  // namespace

resampler::resampler(double in_rate, double out_rate, resample_preset preset)
    : ratio_(out_rate / in_rate), input_period_(input_period(in_rate, out_rate)) {
  // No dither: the output must be a function of the input (recorded calls replay byte for byte).
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;
  const soxr_quality_spec_t quality = quality_of(preset);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  runtime.log2_min_dft_size = log2_min_dft_size;
  soxr_error_t error = nullptr;
  handle_ = soxr_create(in_rate, out_rate, 1, &error, &io, &quality, &runtime);
  if (error != nullptr || handle_ == nullptr) {
    soxr_delete(as_soxr(handle_));
    throw std::runtime_error(std::string("libsoxr: ") + (error != nullptr ? error : "cannot create a resampler"));
  }
}

resampler::~resampler() { soxr_delete(as_soxr(handle_)); }

resampler::resampler(resampler&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      ratio_(other.ratio_),
      input_period_(other.input_period_),
      input_phase_(other.input_phase_),
      to_drop_(std::exchange(other.to_drop_, 0)) {}

resampler& resampler::operator=(resampler&& other) noexcept {
  if (this != &other) {
    soxr_delete(as_soxr(handle_));
    handle_ = std::exchange(other.handle_, nullptr);
    ratio_ = other.ratio_;
    input_period_ = other.input_period_;
    input_phase_ = other.input_phase_;
    to_drop_ = std::exchange(other.to_drop_, 0);
  }
  return *this;
}

std::size_t resampler::feed(std::span<const std::int16_t> in, std::span<std::int16_t> out, std::size_t& used) {
  used = 0;
  std::size_t written = 0;
  // libsoxr reads as much of `in` as `out` has room for the output of; it never writes more than out.size().
  soxr_process(as_soxr(handle_), in.data(), in.size(), &used, out.data(), out.size(), &written);
  input_phase_ = (input_phase_ + used) % input_period_;
  return written;
}

std::size_t resampler::process(std::span<const std::int16_t> in, std::span<std::int16_t> out) {
  std::size_t total = 0;
  while (!in.empty()) {
    std::size_t used = 0;
    const std::size_t written = feed(in.first(std::min(in.size(), piece_samples)), out.subspan(total), used);
    // The output of the silence a flush or reset fed comes first: drop it.
    const std::size_t dropped = std::min(to_drop_, written);
    const auto fresh = out.subspan(total, written);
    std::copy(fresh.begin() + static_cast<std::ptrdiff_t>(dropped), fresh.end(), fresh.begin());
    to_drop_ -= dropped;
    total += written - dropped;
    if (used == 0) break;  // `out` is full
    in = in.subspan(used);
  }
  return total;
}

// libsoxr has an end of input, after which it takes no more, and a reset (soxr_clear) that frees its
// filter and builds it anew: 17 heap blocks, and up to 2.7 ms of filter design for non-linear phases.
// So neither is used. Silence is fed instead until everything owed for the signal so far has come
// out; the signal's tail is written to `tail` (when keep_tail) and all output of the silence is
// dropped, now or as later input pushes it out. Enough silence to release the signal's last output
// also moves the signal out of the filter's window, so nothing of it reaches the next stretch; and
// the silence is a whole number of output samples long, so the next stretch is sampled at the same
// instants as in a fresh resampler.
std::size_t resampler::drain(std::span<std::int16_t> tail, bool keep_tail) {
  if (handle_ == nullptr) return 0;
  const std::size_t owed = owed_samples();
  const std::size_t earlier_silence = std::min(to_drop_, owed);
  const std::size_t signal_end = keep_tail ? std::min(owed, earlier_silence + tail.size()) : earlier_silence;
  std::array<std::int16_t, scratch_samples> scratch{};
  std::size_t produced = 0;
  std::size_t kept = 0;
  // The silence starts by completing the input period, so that it ends on a whole output sample; once
  // it has, everything owed (signal and silence so far) must come out.
  std::size_t align = (input_period_ - input_phase_) % input_period_;
  std::size_t target = align > 0 ? std::numeric_limits<std::size_t>::max() : owed;
  while (produced < target) {
    const std::size_t zeros = align > 0 ? align : piece_samples / input_period_ * input_period_;
    std::size_t used = 0;
    const std::size_t written = feed(std::span(silence).first(zeros), scratch, used);
    if (used == 0 && written == 0) break;  // libsoxr failed: give what came out
    // Of what came out, [earlier_silence, signal_end) in the count since the drain began is the signal.
    const std::size_t from = std::clamp(earlier_silence, produced, produced + written);
    const std::size_t to = std::clamp(signal_end, produced, produced + written);
    const auto signal = std::span(scratch).subspan(from - produced, to - from);
    std::copy(signal.begin(), signal.end(), tail.begin() + static_cast<std::ptrdiff_t>(kept));
    kept += to - from;
    produced += written;
    if (align > 0) {
      align -= std::min(align, used);
      if (align == 0) target = produced + owed_samples();
    }
  }
  // What libsoxr still owes now is the output of silence.
  to_drop_ = owed_samples();
  return kept;
}

std::size_t resampler::owed_samples() const noexcept {
  return static_cast<std::size_t>(std::lround(std::max(0.0, soxr_delay(as_soxr(handle_)))));
}

std::size_t resampler::flush(std::span<std::int16_t> out) { return drain(out, true); }

void resampler::reset() { (void)drain({}, false); }

std::size_t resampler::max_output(std::size_t in_samples) const noexcept {
  // The filter may release samples it held from earlier chunks: room for its whole tail as well.
  return static_cast<std::size_t>(std::ceil(static_cast<double>(in_samples) * ratio_)) + max_tail();
}

std::size_t resampler::max_tail() const noexcept {
  // flush() releases what libsoxr owes for the input so far (samples in × ratio, less what it gave)
  // rounded to the nearest sample, less the silence of an earlier drain.
  return static_cast<std::size_t>(std::max(0.0, std::ceil(delay_samples())));
}

double resampler::delay_samples() const noexcept {
  return soxr_delay(as_soxr(handle_)) - static_cast<double>(to_drop_);
}

}  // namespace mb::codec
