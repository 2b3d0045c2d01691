#include "codec/resampler.hpp"

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
  }
  switch (p.phase) {
    case resample_phase::linear: recipe |= SOXR_LINEAR_PHASE; break;
    case resample_phase::intermediate: recipe |= SOXR_INTERMEDIATE_PHASE; break;
    case resample_phase::minimum: recipe |= SOXR_MINIMUM_PHASE; break;
  }
  return recipe;
}

soxr_t as_soxr(void* handle) noexcept { return static_cast<soxr_t>(handle); }

// Samples the filter can hold back and release on flush, at most: its delay plus a margin, rounded up.
constexpr double tail_margin_samples = 64;

}  // namespace

resampler::resampler(double in_rate, double out_rate, resample_preset preset) : ratio_(out_rate / in_rate) {
  // No dither: the output must be a function of the input (recorded calls replay byte for byte).
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;
  const soxr_quality_spec_t quality = soxr_quality_spec(recipe_of(preset), 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
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
  if (in.empty()) return 0;
  std::size_t used = 0;
  std::size_t written = 0;
  // libsoxr reads all of `in` when `out` has room; it never writes more than out.size().
  soxr_process(as_soxr(handle_), in.data(), in.size(), &used, out.data(), out.size(), &written);
  return written;
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
  return static_cast<std::size_t>(std::ceil(delay_samples() + tail_margin_samples));
}

double resampler::delay_samples() const noexcept { return soxr_delay(as_soxr(handle_)); }

}  // namespace mb::codec
