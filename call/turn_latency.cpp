#include "call/turn_latency.hpp"

#include <array>
#include <cmath>

#include "codec/g711.hpp"
#include "protocol/base64.hpp"

namespace mb::call {

bool voiced_ulaw_b64(std::string_view payload_b64, std::string& scratch) {
  if (!protocol::base64_decode(payload_b64, scratch) || scratch.empty()) return false;
  // Each code's squared sample: one lookup per sample on the caller's every frame.
  static const auto squares = [] {
    std::array<std::uint32_t, 256> t{};
    for (unsigned c = 0; c < t.size(); ++c) {
      const std::int32_t s = codec::ulaw_to_linear(static_cast<std::uint8_t>(c));
      t[c] = static_cast<std::uint32_t>(s * s);
    }
    return t;
  }();
  static const double level = 32768.0 * std::pow(10.0, voiced_level_dbfs / 20.0);
  std::uint64_t sum = 0;
  for (const unsigned char code : scratch) sum += squares[code];
  return static_cast<double>(sum) / static_cast<double>(scratch.size()) >= level * level;
}

void turn_latency::on_caller_audio(std::string_view payload_b64, clock::time_point now) {
  if (provider_signals_stop_) return;
  if (voiced_ulaw_b64(payload_b64, decoded_)) last_voiced_at_ = now;
}

std::optional<turn_latency::record> turn_latency::on_upstream(const upstream::event& ev, bool late,
                                                              clock::time_point now) {
  using upstream::event_kind;
  provider_turn_first_audio_.reset();
  switch (ev.kind) {
    case event_kind::caller_speech_started:
      switch (phase_) {
        case phase::awaiting_echo: return complete(std::nullopt);
        case phase::awaiting_write: cut_before_written_ = true; return std::nullopt;
        default:  // the answer, if any, had no audio yet: nothing was heard to measure
          phase_ = phase::idle;
          return std::nullopt;
      }
    case event_kind::caller_speech_stopped: {
      provider_signals_stop_ = true;
      last_voiced_at_.reset();
      // A stop without a start first (not seen from a provider) still means the caller spoke over the turn.
      std::optional<record> cut;
      if (phase_ == phase::awaiting_echo) cut = complete(std::nullopt);
      begin_turn(now, true);
      return cut;
    }
    case event_kind::assistant_audio:
    case event_kind::assistant_transcript_delta:
      if (!late) on_answer_delta(ev, now);
      return std::nullopt;
    default: return std::nullopt;
  }
}

void turn_latency::on_answer_delta(const upstream::event& ev, clock::time_point now) {
  const bool audio = ev.kind == upstream::event_kind::assistant_audio;
  const bool new_answer = ev.response_id != last_response_;
  if (new_answer) last_response_.assign(ev.response_id);
  switch (phase_) {
    case phase::idle:
      if (!new_answer) return;
      if (!provider_signals_stop_ && last_voiced_at_) begin_turn(*last_voiced_at_, false);
      last_voiced_at_.reset();
      if (phase_ == phase::idle) return;
      break;
    case phase::awaiting_delta:
      if (!new_answer) return;  // the answer under way when the caller stopped
      break;
    case phase::awaiting_audio:
      if (audio) on_first_audio(now);
      return;
    case phase::awaiting_write:
    case phase::awaiting_echo: return;
  }
  first_delta_at_ = now;
  item_id_.assign(ev.turn_id);
  if (audio)
    on_first_audio(now);
  else
    phase_ = phase::awaiting_audio;
}

void turn_latency::on_first_audio(clock::time_point now) {
  first_audio_read_at_ = now;
  phase_ = phase::awaiting_write;
  if (stopped_by_provider_) provider_turn_first_audio_ = now - stopped_at_;
}

std::optional<turn_latency::record> turn_latency::on_twilio_written(clock::time_point since,
                                                                    clock::time_point written) {
  if (phase_ != phase::awaiting_write || since < first_audio_read_at_) return std::nullopt;
  first_audio_written_at_ = written;
  if (cut_before_written_) return complete(std::nullopt);
  phase_ = phase::awaiting_echo;
  return std::nullopt;
}

std::optional<turn_latency::record> turn_latency::on_mark_echo(clock::time_point now) {
  if (phase_ != phase::awaiting_echo) return std::nullopt;
  return complete(now);
}

void turn_latency::begin_turn(clock::time_point stopped_at, bool by_provider) {
  phase_ = phase::awaiting_delta;
  stopped_at_ = stopped_at;
  stopped_by_provider_ = by_provider;
  cut_before_written_ = false;
}

turn_latency::record turn_latency::complete(std::optional<clock::time_point> heard_at) {
  phase_ = phase::idle;
  cut_before_written_ = false;
  record r;
  r.turn = ++turns_;
  r.item_id = item_id_;
  r.stopped_by_provider = stopped_by_provider_;
  r.stopped_at = stopped_at_;
  r.to_first_delta = first_delta_at_ - stopped_at_;
  r.to_first_audio = first_audio_written_at_ - stopped_at_;
  if (heard_at) r.to_heard = *heard_at - stopped_at_;
  r.bridge = first_audio_written_at_ - first_audio_read_at_;
  return r;
}

turn_waterfall waterfall_event(const turn_latency::record& r, turn_latency::clock::time_point now,
                               std::int64_t unix_ms_now) {
  using ms = std::chrono::duration<double, std::milli>;
  const auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.stopped_at).count();
  turn_waterfall e{r.turn,
                   r.item_id,
                   r.stopped_by_provider,
                   unix_ms_now - ago,
                   ms(r.to_first_delta).count(),
                   ms(r.to_first_audio).count(),
                   std::nullopt,
                   ms(r.bridge).count()};
  if (r.to_heard) e.to_heard_ms = ms(*r.to_heard).count();
  return e;
}

}  // namespace mb::call
