#include "tools/twilio_sim/caller_audio.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "codec/g711.hpp"

namespace mb::tools::twilio {
namespace {

std::array<char, frame_bytes> make_speech_frame() {
  constexpr std::array<double, 3> hz{450.0, 1150.0, 2350.0};
  // -10 dBFS RMS = 10^(-10/20) × the RMS of a full-scale sine (32767/√2); three equal tones add their
  // powers, so each gets 1/√3 of the RMS, i.e. a peak of rms·√2/√3.
  const double rms = std::pow(10.0, -10.0 / 20.0) * 32767.0 / std::numbers::sqrt2;
  const double peak_each = rms * std::numbers::sqrt2 / std::sqrt(3.0);
  std::array<char, frame_bytes> frame{};
  for (std::size_t n = 0; n < frame_bytes; ++n) {
    double v = 0;
    for (double f : hz) v += peak_each * std::sin(2.0 * std::numbers::pi * f * static_cast<double>(n) / 8000.0);
    frame[n] = static_cast<char>(codec::linear_to_ulaw(static_cast<std::int16_t>(std::lround(v))));
  }
  return frame;
}

}  // namespace

std::string_view speech_frame() {
  static const std::array<char, frame_bytes> frame = make_speech_frame();
  return {frame.data(), frame.size()};
}

caller_audio::caller_audio(std::vector<audio_segment> script) : script_(std::move(script)) {
  for (const auto& s : script_) total_bytes_ += static_cast<std::size_t>(std::max(s.ms, 0)) * ulaw_bytes_per_ms;
}

caller_audio::caller_audio(std::shared_ptr<const std::string> ulaw)
    : ulaw_(std::move(ulaw)), total_bytes_(ulaw_ ? ulaw_->size() : 0) {}

std::string_view caller_audio::next_frame() {
  speech_began_at_.reset();
  if (position_ >= total_bytes_) return {};
  const std::size_t n = std::min(frame_bytes, total_bytes_ - position_);
  if (ulaw_ && n == frame_bytes) {
    const std::string_view view(ulaw_->data() + position_, frame_bytes);
    position_ += frame_bytes;
    return view;
  }
  frame_.assign(frame_bytes, static_cast<char>(codec::ulaw_silence));
  if (ulaw_) {
    std::copy_n(ulaw_->data() + position_, n, frame_.begin());
  } else {
    const auto speech = speech_frame();
    std::size_t filled = 0;
    while (filled < n) {
      const auto& seg = script_[segment_];
      const std::size_t seg_bytes = static_cast<std::size_t>(std::max(seg.ms, 0)) * ulaw_bytes_per_ms;
      const std::size_t take = std::min(n - filled, seg_bytes - segment_used_);
      if (seg.kind == audio_kind::speech) {
        if (segment_used_ == 0 && take > 0 && !speech_began_at_) speech_began_at_ = filled;
        // The tone repeats every frame_bytes samples: sample k of the call is speech[k % frame_bytes].
        for (std::size_t i = 0; i < take; ++i) frame_[filled + i] = speech[(position_ + filled + i) % frame_bytes];
      }
      filled += take;
      segment_used_ += take;
      if (segment_used_ == seg_bytes) {
        ++segment_;
        segment_used_ = 0;
      }
    }
  }
  position_ += n;
  return frame_;
}

}  // namespace mb::tools::twilio
