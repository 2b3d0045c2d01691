#include "codec/resampler.hpp"

#include <algorithm>
#include <cmath>
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

// libsoxr filters in DFT blocks of at least 2^this samples (its default is 2^10). A block must fill
// before its output leaves, so at 8 kHz the default alone would hold back up to 128 ms; the short
// telephone filter needs no more than 2^8.
constexpr unsigned log2_min_dft_size = 8;

// The input libsoxr takes in one call. Its FIFOs grow to the largest call they have seen; a bounded
// piece keeps them at the size the first chunks gave them, whatever the provider's chunk size.
constexpr std::size_t piece_samples = 480;

}  // namespace

resampler::resampler(double in_rate, double out_rate, resample_preset preset) : ratio_(out_rate / in_rate) {
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
    : handle_(std::exchange(other.handle_, nullptr)), ratio_(other.ratio_) {}

resampler& resampler::operator=(resampler&& other) noexcept {
  if (this != &other) {
    soxr_delete(as_soxr(handle_));
    handle_ = std::exchange(other.handle_, nullptr);
    ratio_ = other.ratio_;
  }
  return *this;
}

std::size_t resampler::process(std::span<const std::int16_t> in, std::span<std::int16_t> out) {
  std::size_t total = 0;
  while (!in.empty()) {
    const std::size_t piece = std::min(in.size(), piece_samples);
    std::size_t used = 0;
    std::size_t written = 0;
    // libsoxr reads the whole piece when `out` has room for its output; it never writes more than
    // out.size() - total.
    soxr_process(as_soxr(handle_), in.data(), piece, &used, out.data() + total, out.size() - total, &written);
    total += written;
    if (used < piece) break;  // `out` is full
    in = in.subspan(piece);
  }
  return total;
}

std::size_t resampler::flush(std::span<std::int16_t> out) {
  std::size_t total = 0;
  // A null input is libsoxr's end of input: each call releases more of the tail until it is empty.
  while (total < out.size()) {
    std::size_t written = 0;
    soxr_process(as_soxr(handle_), nullptr, 0, nullptr, out.data() + total, out.size() - total, &written);
    if (written == 0) break;
    total += written;
  }
  reset();
  return total;
}

void resampler::reset() { soxr_clear(as_soxr(handle_)); }

std::size_t resampler::max_output(std::size_t in_samples) const noexcept {
  // The filter may release samples it held from earlier chunks: room for its whole tail as well.
  return static_cast<std::size_t>(std::ceil(static_cast<double>(in_samples) * ratio_)) + max_tail();
}

std::size_t resampler::max_tail() const noexcept {
  // libsoxr's flush releases exactly its delay rounded to the nearest sample: what it owes for the
  // input so far (samples in × ratio) minus what it gave.
  return static_cast<std::size_t>(std::ceil(delay_samples()));
}

double resampler::delay_samples() const noexcept { return soxr_delay(as_soxr(handle_)); }

}  // namespace mb::codec
