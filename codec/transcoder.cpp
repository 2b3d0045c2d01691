#include "codec/transcoder.hpp"

#include <bit>
#include <cstring>

#include "codec/g711.hpp"

namespace mb::codec {
namespace {

// Buffers are sized at construction for chunks up to this long, so that a call's first chunks do not
// allocate either; a longer chunk grows them once.
constexpr std::size_t reserved_ms = 500;

std::size_t samples_in(std::size_t ms, int rate) { return ms * static_cast<std::size_t>(rate) / 1000; }

}  // namespace

static_assert(std::endian::native == std::endian::little, "PCM16 LE is copied as it is");

ulaw_to_pcm16::ulaw_to_pcm16(int provider_rate, resample_preset preset)
    : resampler_(phone_rate, provider_rate, preset) {
  linear_.reserve(samples_in(reserved_ms, phone_rate));
  // Room for the filter's tail as well: the delay it can hold is below the reserved stretch.
  resampled_.reserve(2 * samples_in(reserved_ms, provider_rate));
  bytes_.reserve(resampled_.capacity() * sizeof(std::int16_t));
}

std::string_view ulaw_to_pcm16::convert(std::span<const std::uint8_t> ulaw) {
  linear_.resize(ulaw.size());
  decode_ulaw(ulaw, linear_);
  resampled_.resize(resampler_.max_output(linear_.size()));
  const auto n = resampler_.process(linear_, resampled_);
  bytes_.resize(n * sizeof(std::int16_t));
  std::memcpy(bytes_.data(), resampled_.data(), bytes_.size());
  return bytes_;
}

pcm16_to_ulaw::pcm16_to_ulaw(int provider_rate, resample_preset preset)
    : resampler_(provider_rate, phone_rate, preset) {
  linear_.reserve(samples_in(reserved_ms, provider_rate));
  // Room for the filter's tail as well: the delay it can hold is below the reserved stretch.
  resampled_.reserve(2 * samples_in(reserved_ms, phone_rate));
  held_.reserve(phone_frame_bytes);
  out_.reserve(resampled_.capacity() + phone_frame_bytes);
}

std::string_view pcm16_to_ulaw::convert(std::string_view pcm) {
  out_.clear();
  if (pcm.empty()) return out_;
  // A sample split across chunks: its first byte waits for its second.
  const std::size_t lead = odd_byte_ ? 1 : 0;
  const std::size_t samples = (pcm.size() + lead) / 2;
  linear_.resize(samples);
  auto* dst = reinterpret_cast<char*>(linear_.data());
  if (odd_byte_) dst[0] = pending_byte_;
  std::memcpy(dst + lead, pcm.data(), samples * 2 - lead);
  odd_byte_ = (pcm.size() + lead) % 2 != 0;
  if (odd_byte_) pending_byte_ = pcm.back();
  resampled_.resize(resampler_.max_output(samples));
  emit(std::span(resampled_.data(), resampler_.process(linear_, resampled_)));
  return out_;
}

std::string_view pcm16_to_ulaw::flush() {
  out_.clear();
  resampled_.resize(resampler_.max_tail());
  emit(std::span(resampled_.data(), resampler_.flush(resampled_)));
  if (!held_.empty()) {
    out_ += held_;
    out_.append(phone_frame_bytes - held_.size(), static_cast<char>(ulaw_silence));
    held_.clear();
  }
  odd_byte_ = false;
  return out_;
}

void pcm16_to_ulaw::reset() {
  resampler_.reset();
  held_.clear();
  odd_byte_ = false;
}

void pcm16_to_ulaw::emit(std::span<const std::int16_t> samples) {
  const std::size_t start = out_.size();
  out_.resize(start + held_.size() + samples.size());
  std::memcpy(out_.data() + start, held_.data(), held_.size());
  encode_ulaw(samples, std::span(reinterpret_cast<std::uint8_t*>(out_.data() + start + held_.size()), samples.size()));
  const std::size_t whole = (out_.size() - start) / phone_frame_bytes * phone_frame_bytes;
  held_.assign(out_, start + whole);
  out_.resize(start + whole);
}

}  // namespace mb::codec
