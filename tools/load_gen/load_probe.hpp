#pragma once
// What the load generator measures, from both ends of the bridge at once. The Realtime simulator
// runs in the generator's process with this probe installed (simulator_options::probe), and every
// simulated Twilio call reports to it through call_options' hooks:
//
//   caller → upstream: each caller frame carries a stamp (call, chunk, send time; stamp.hpp); the
//     simulator reads it when the append arrives: latency, and lost, duplicated, reordered or
//     misrouted frames.
//   upstream → caller: each assistant delta carries a stamp (call, per-call sequence, send time,
//     response, offset); the Twilio side reads it when the media arrives. A gap in the sequence
//     across a `clear` is audio the bridge dropped on purpose (paced chunks of a cut response); any
//     other gap is a loss.
//   barge-in: from the simulator's VAD hearing the caller (Realtime: sending speech_started) to the
//     Twilio side reading `clear`.
//   truncate accuracy: audio_end_ms the bridge sent, minus the audio of that response the Twilio
//     side had actually played when the clear arrived (from the stamps' offsets and its playout).
//
// Latencies are recorded only while measuring() is on (the run's steady-state window); counts always.
//
// @par Thread Safety
// The simulator_probe members run on simulator strands, the twilio_* members on each call's strand
// (one call: one strand). Per-call state written by the simulator is atomic; the rest of a call's
// state belongs to its strand. Results are read once both sides have stopped.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/load_gen/latency.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tools/twilio_sim/playout.hpp"
#include "upstream/provider.hpp"

namespace mb::tools::load {

// Frame accounting for one direction.
struct frame_counts {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  std::uint64_t lost = 0;              // caller → upstream: sent, never received; upstream → caller:
                                       // sequence gaps that never filled, except across a clear
  std::uint64_t dropped_by_clear = 0;  // upstream → caller only: gaps across a clear (by design)
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t misrouted = 0;         // a stamp naming another call
  std::uint64_t unstamped = 0;         // audio without a readable stamp
  void add(const frame_counts& o);
};

struct truncate_observation {
  std::int64_t error_ms = 0;  // audio_end_ms - audio actually played
  bool accepted = false;
};

class load_probe final : public simulator::simulator_probe {
 public:
  // `calls`: the number of calls in the run (call indexes 0…calls-1). `warmup_frames`: caller frames
  // per call left out of the latency figures (while the upstream connects they wait in the bridge's
  // pre-connect buffer by design).
  load_probe(std::size_t calls, std::uint32_t warmup_frames);

  // --- simulator side ---
  void on_session_opened(std::uint64_t session, upstream::provider_kind provider) override;
  void on_input_audio(std::uint64_t session, std::span<const std::uint8_t> audio) override;
  void on_speech_started(std::uint64_t session) override;
  void on_output_audio(std::uint64_t session, std::uint32_t response, std::uint64_t offset,
                       std::string& delta_b64) override;
  void on_truncate(std::uint64_t session, std::uint32_t response, std::int64_t audio_end_ms, bool accepted) override;

  // --- Twilio side (call_options hooks) ---
  void twilio_stamp_frame(std::size_t call, std::uint64_t chunk, std::span<std::uint8_t> frame);
  void twilio_media(std::size_t call, std::string_view payload_b64, twilio::clock::time_point at, std::uint64_t position);
  void twilio_clear(std::size_t call, twilio::clock::time_point at, std::uint64_t played);

  void set_measuring(bool on) noexcept { measuring_.store(on, std::memory_order_relaxed); }

  // --- results, once the run has stopped ---
  [[nodiscard]] latency_histogram caller_to_upstream() const { return up_latency_.merged(); }
  [[nodiscard]] latency_histogram upstream_to_caller() const { return down_latency_.merged(); }
  [[nodiscard]] latency_histogram barge_in_clear() const { return barge_latency_.merged(); }
  [[nodiscard]] frame_counts up_counts() const;
  [[nodiscard]] frame_counts down_counts() const;
  [[nodiscard]] std::vector<truncate_observation> truncates(std::uint64_t& unmatched) const;
  [[nodiscard]] std::uint64_t clears() const;
  [[nodiscard]] std::uint64_t clears_without_speech() const;
  [[nodiscard]] std::uint64_t unmapped_sessions() const { return unmapped_.load(); }
  // Upstream sessions opened on the path of `provider`.
  [[nodiscard]] std::uint64_t sessions_on(upstream::provider_kind provider) const;

 private:
  struct media_span {
    std::uint64_t position = 0;  // playout position of its first byte
    std::uint64_t bytes = 0;
    std::uint32_t response = 0;
    std::uint64_t offset = 0;    // pattern offset of its first byte
  };
  struct clear_observation {
    std::uint32_t response = 0;
    double played_ms = 0;  // of that response, when the clear arrived
  };
  struct truncate_record {
    std::uint32_t response = 0;
    std::int64_t audio_end_ms = 0;
    bool accepted = false;
  };
  struct per_call {
    // Written by the simulator (the session serving the call).
    std::atomic<std::uint32_t> speech_started_us{0};  // 0: none pending
    std::atomic<std::uint32_t> next_delta_seq{0};
    std::atomic<std::uint64_t> up_received{0}, up_last_seq{0}, up_duplicated{0}, up_reordered{0};
    // Written by the call's strand.
    std::uint64_t up_sent = 0;
    frame_counts down;
    std::uint64_t down_last_seq = 0;
    bool cleared_since_media = false;
    std::vector<media_span> recent;  // media since the last clear (bounded)
    std::vector<clear_observation> clears;  // those whose playing response is known
    std::uint64_t clears_seen = 0;
    std::uint64_t clears_without_speech = 0;
  };

  [[nodiscard]] int call_of(std::uint64_t session) const noexcept;
  [[nodiscard]] bool measuring() const noexcept { return measuring_.load(std::memory_order_relaxed); }

  std::uint32_t warmup_frames_;
  std::vector<per_call> calls_;
  // Session number → call index + 1 (0: not known yet); a session learns its call from the first
  // stamped frame it receives.
  std::vector<std::atomic<std::uint32_t>> sessions_;
  std::atomic<std::uint64_t> up_misrouted_{0}, up_unstamped_{0}, unmapped_{0};
  std::array<std::atomic<std::uint64_t>, std::size(upstream::all_providers)> sessions_by_provider_{};
  std::atomic<bool> measuring_{false};
  latency_set up_latency_;
  latency_set down_latency_;
  latency_set barge_latency_;
  mutable std::mutex truncate_mutex_;  // truncates are rare: one lock each
  std::vector<std::vector<truncate_record>> truncates_;
};

}  // namespace mb::tools::load
