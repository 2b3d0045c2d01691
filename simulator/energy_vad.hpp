#pragma once
// Energy-based stand-in for the service's server VAD, over G.711 audio at 8 kHz (8 bytes = 1 ms) or
// 16-bit PCM at 8, 16, 24 or 48 kHz (Gemini Live's input, GPT-Live's PCM formats).
//
// The audio is cut into 20 ms windows counted from the first byte the session ever received; audio
// the detector cannot hear (VAD off) only advances the clock. The clock counts 48 kHz ticks, so
// every supported rate advances it by whole ticks per sample. A window is speech when its RMS reaches the level
//     level_dbfs = -60 + 50 · threshold    (threshold 0 → -60 dBFS, 0.5 → -35 dBFS, 1 → -10 dBFS)
// so room noise of a phone line (below -50 dBFS) stays silent at the default threshold and a
// normal voice (-30…-15 dBFS) is speech. Speech starts at the first speech window; it stops when
// the silence since the last speech window reaches silence_duration_ms. Prefix padding is applied
// by the caller. Times are ms of audio since the session's first byte.
//
// @par Thread Safety
// Not thread-safe; one instance per session.

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>

#include "codec/g711.hpp"
#include "simulator/realtime_config.hpp"

namespace mb::simulator {

class energy_vad {
 public:
  static constexpr std::uint32_t window_samples = 160;  // 20 ms at 8 kHz
  static constexpr std::int64_t window_ms = 20;
  static constexpr std::uint32_t clock_hz = 48000;

  // Whether push_pcm16 takes audio at this rate.
  [[nodiscard]] static constexpr bool pcm_rate_supported(std::uint32_t rate_hz) noexcept {
    return rate_hz == 8000 || rate_hz == 16000 || rate_hz == 24000 || rate_hz == 48000;
  }

  // nullopt switches detection off (time still advances).
  void configure(const std::optional<vad_params>& p) {
    enabled_ = p.has_value();
    if (!p) return reset();
    const double level = 32768.0 * std::pow(10.0, (-60.0 + 50.0 * p->threshold) / 20.0);
    level_sq_ = level * level;
    silence_duration_ms_ = p->silence_duration_ms;
  }

  // Forgets a speech turn in progress (buffer cleared or committed by hand); time keeps running.
  void reset() noexcept {
    speaking_ = false;
    silence_ms_ = 0;
  }

  // Advances the clock by audio that is not analysed, in 8 kHz samples.
  void skip(std::uint64_t samples) noexcept {
    ticks_ += samples * (clock_hz / 8000);
    sum_sq_ = 0;
    fill_ = 0;
  }

  [[nodiscard]] bool speaking() const noexcept { return speaking_; }
  // Audio received so far, heard or skipped: the session's input clock.
  [[nodiscard]] std::int64_t elapsed_ms() const noexcept { return static_cast<std::int64_t>(ticks_ / (clock_hz / 1000)); }

  // Feeds G.711 codes (μ-law, or A-law when `alaw`). Calls on_start(window_start_ms) and
  // on_stop(end_ms) as turns begin and end; end_ms includes the silence that ended the turn.
  template <class OnStart, class OnStop>
  void push(std::span<const std::uint8_t> codes, bool alaw, OnStart&& on_start, OnStop&& on_stop) {
    if (!enabled_) return skip(codes.size());
    const auto& square = squares()[alaw ? 1 : 0];
    for (const std::uint8_t code : codes) add(square[code], 8000, on_start, on_stop);
  }

  // Feeds 16-bit little-endian PCM at `rate_hz` (pcm_rate_supported); a trailing odd byte is ignored.
  template <class OnStart, class OnStop>
  void push_pcm16(std::span<const std::uint8_t> bytes, std::uint32_t rate_hz, OnStart&& on_start, OnStop&& on_stop) {
    const std::size_t samples = bytes.size() / 2;
    if (!enabled_) {
      ticks_ += samples * (clock_hz / rate_hz);
      return;
    }
    for (std::size_t i = 0; i < samples; ++i) {
      const auto s = static_cast<std::int16_t>(bytes[2 * i] | bytes[2 * i + 1] << 8);
      add(static_cast<std::uint32_t>(std::int32_t{s} * s), rate_hz, on_start, on_stop);
    }
  }

 private:
  // One sample's square; a full window decides speech or silence.
  template <class OnStart, class OnStop>
  void add(std::uint32_t square, std::uint32_t rate_hz, OnStart& on_start, OnStop& on_stop) {
    sum_sq_ += square;
    ticks_ += clock_hz / rate_hz;
    const std::uint32_t window = rate_hz / 50;
    if (++fill_ < window) return;
    const bool speech = static_cast<double>(sum_sq_) / window >= level_sq_;
    const auto end_ms = elapsed_ms();
    sum_sq_ = 0;
    fill_ = 0;
    if (!speaking_) {
      if (speech) {
        speaking_ = true;
        silence_ms_ = 0;
        on_start(end_ms - window_ms);
      }
    } else if (speech) {
      silence_ms_ = 0;
    } else if ((silence_ms_ += window_ms) >= silence_duration_ms_) {
      speaking_ = false;
      on_stop(end_ms);
    }
  }

  // The squared linear value of every code, for μ-law and A-law: a load-test session feeds 8,000
  // codes a second, so the per-sample work is one lookup.
  static const std::array<std::array<std::uint32_t, 256>, 2>& squares() {
    static const auto tables = [] {
      std::array<std::array<std::uint32_t, 256>, 2> t{};
      for (unsigned c = 0; c < 256; ++c) {
        const std::int32_t u = codec::ulaw_to_linear(static_cast<std::uint8_t>(c));
        const std::int32_t a = codec::alaw_to_linear(static_cast<std::uint8_t>(c));
        t[0][c] = static_cast<std::uint32_t>(u * u);
        t[1][c] = static_cast<std::uint32_t>(a * a);
      }
      return t;
    }();
    return tables;
  }

  double level_sq_ = 0.0;
  std::int64_t silence_duration_ms_ = 500;
  std::uint64_t sum_sq_ = 0;
  std::uint32_t fill_ = 0;
  std::uint64_t ticks_ = 0;  // 48 kHz ticks since the session's first byte
  std::int64_t silence_ms_ = 0;
  bool speaking_ = false;
  bool enabled_ = false;
};

}  // namespace mb::simulator
