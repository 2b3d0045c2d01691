#pragma once
// Twilio's playback of the audio a bridge sends (protocols.md B4/B5), as a pure model driven by the
// caller's clock:
// - `media` payloads join a FIFO that plays in real time at 8 bytes per ms. The play position
//   advances with wall time while the FIFO holds audio; when it runs dry playback pauses, and the
//   next payload starts playing when it arrives.
// - a `mark` is due when all audio queued before it has played (at once if nothing is queued).
// - `clear` discards the FIFO and makes every pending mark due at once.
//
// @par Thread Safety
// Not thread-safe: one instance per call, used from the call's strand.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb::tools::twilio {

using clock = std::chrono::steady_clock;

struct due_mark {
  std::string name;
  clock::time_point received;
  bool cleared = false;  // made due by a clear, not by playback
};

struct clear_stats {
  std::uint64_t played_bytes = 0;     // audio played since the previous clear (or the stream start)
  std::uint64_t discarded_bytes = 0;  // queued audio the clear threw away
  std::size_t marks_flushed = 0;
};

class playout {
 public:
  // record_audio: keep the played bytes (played_audio()); otherwise only count them, and add_audio
  // may be given sizes without data.
  explicit playout(bool record_audio) : record_(record_audio) {}

  // Plays everything due up to `now`. Every other member calls it first, so the caller only needs it
  // to collect marks at their due time. `now` must not go backwards.
  void advance(clock::time_point now);

  // Queues `bytes` of μ-law; `data` holds them when recording, and may be empty otherwise.
  void add_audio(std::size_t bytes, std::string_view data, clock::time_point now);
  void add_mark(std::string name, clock::time_point now);
  clear_stats clear(clock::time_point now);

  // Marks that became due, in order. The caller echoes them and clears the vector.
  [[nodiscard]] std::vector<due_mark>& due_marks() noexcept { return due_; }

  // When the first pending mark becomes due, if any is pending.
  [[nodiscard]] std::optional<clock::time_point> next_mark_time() const;

  [[nodiscard]] std::uint64_t played_bytes() const noexcept { return played_; }
  [[nodiscard]] std::uint64_t queued_bytes() const noexcept { return end_ - played_; }
  [[nodiscard]] std::size_t pending_marks() const noexcept { return pending_.size(); }
  [[nodiscard]] const std::string& played_audio() const noexcept { return played_audio_; }

  // The caller started speaking at `onset` (learnt at `now`, when the frame holding it was sent): if
  // assistant audio has been playing since, count how much of it the caller hears from the onset until
  // playback stops (a clear, or the queue running dry for longer than a relay's jitter). A model that
  // stops by itself (GPT-Live) leaves what was queued; a bridge that clears cuts it at the clear.
  void watch_stale_audio(clock::time_point onset, clock::time_point now);
  // Ends a watch still open (the call is over).
  void finish_stale_watch(clock::time_point now);
  // One entry per watched interruption that has ended: bytes played after the caller began speaking.
  [[nodiscard]] const std::vector<std::uint64_t>& stale_audio() const noexcept { return stale_; }
  // A queue dry for longer than this means the assistant stopped; shorter gaps are delivery jitter.
  static constexpr std::chrono::milliseconds stopped_after{250};

 private:
  struct pending_mark {
    std::string name;
    clock::time_point received;
    std::uint64_t position;  // the FIFO end when it arrived
  };

  void end_stale_watch();

  // One μ-law byte lasts 125 µs at 8 kHz.
  static constexpr std::chrono::nanoseconds byte_duration{125'000};

  bool record_;
  // Positions count bytes since the stream started, discarded ones excluded: played_ <= end_.
  std::uint64_t played_ = 0;
  std::uint64_t end_ = 0;
  std::uint64_t cleared_at_ = 0;  // played_ at the last clear
  bool playing_ = false;          // audio is queued and the clock below runs
  clock::time_point anchor_time_;  // when position anchor_pos_ started playing
  std::uint64_t anchor_pos_ = 0;
  std::string fifo_;  // queued bytes from fifo_head_ on (recording only)
  std::size_t fifo_head_ = 0;
  std::string played_audio_;
  std::deque<pending_mark> pending_;
  std::vector<due_mark> due_;
  std::optional<std::uint64_t> stale_from_;  // played_ when the watched interruption began
  std::optional<clock::time_point> dry_since_;  // during a watch: when the queue ran dry
  std::vector<std::uint64_t> stale_;
};

}  // namespace mb::tools::twilio
