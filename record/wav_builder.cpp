#include "record/wav_builder.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <optional>
#include <span>
#include <tuple>
#include <utility>

#include "codec/g711.hpp"
#include "protocol/base64.hpp"
#include "protocol/twilio_messages.hpp"

namespace mb::record {
namespace {

constexpr std::int64_t samples_per_ms = wav_sample_rate / 1000;
constexpr auto hold_samples = static_cast<std::int64_t>(wav_hold_ms) * samples_per_ms;
constexpr std::size_t max_caller_bytes = 2 * static_cast<std::size_t>(hold_samples);
constexpr std::size_t max_assistant_bytes = 120'000 * samples_per_ms;
constexpr std::size_t max_clips = 4096;
constexpr std::size_t max_queued_items = 4096;
constexpr std::size_t max_mark_name = 64;
// RIFF sizes are 32-bit: entries later than the longest WAV they can describe are ignored.
constexpr std::uint64_t riff_max_data_bytes = std::numeric_limits<std::uint32_t>::max() - (wav_header_bytes - 8);
constexpr double max_t_ms = static_cast<double>(riff_max_data_bytes / wav_bytes_per_sample / samples_per_ms);

std::int64_t sample_at(double t_ms) { return std::llround(t_ms * samples_per_ms); }

void put_u16(char* p, std::uint16_t v) {
  p[0] = static_cast<char>(v & 0xFF);
  p[1] = static_cast<char>(v >> 8);
}
void put_u32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// One channel's placed audio not yet written: μ-law clips in time order, never overlapping.
// Contiguous placements extend one clip, so a channel that does not pause holds one clip.
class track {
 public:
  explicit track(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Places `count` μ-law bytes from `ulaw` at sample `start`, dropping what falls before `floor`
  // (already written), before the end of what is placed (the first placement stands), or beyond the
  // bounds. Returns the samples dropped. (An iterator and a count rather than a range: clang 14 cannot
  // instantiate libstdc++ 12's ranges::subrange over a deque, and the fuzz build uses clang.)
  template <class Iterator>
  std::uint64_t place(std::int64_t start, Iterator ulaw, std::size_t count, std::int64_t floor) {
    const auto length = static_cast<std::int64_t>(count);
    const auto first = std::max({start, floor, end()});
    if (first >= start + length) return static_cast<std::uint64_t>(length);
    const auto skipped = static_cast<std::size_t>(first - start);
    const auto room = max_bytes_ - std::min(max_bytes_, bytes_.size());
    const auto taken = std::min(static_cast<std::size_t>(length) - skipped, room);
    const auto dropped = static_cast<std::uint64_t>(length) - taken;
    if (taken == 0) return dropped;
    if (!clips_.empty() && end() == first) {
      clips_.back().length += taken;
    } else if (clips_.size() < max_clips) {
      clips_.push_back({first, taken});
    } else {
      return static_cast<std::uint64_t>(length);
    }
    const auto from = ulaw + static_cast<std::ptrdiff_t>(skipped);
    bytes_.insert(bytes_.end(), from, from + static_cast<std::ptrdiff_t>(taken));
    return dropped;
  }

  [[nodiscard]] std::int64_t end() const noexcept {
    return clips_.empty() ? 0 : clips_.back().start + static_cast<std::int64_t>(clips_.back().length);
  }

  // Decodes [from, from + out.size()) into `out` (silence where nothing is placed) and forgets it.
  // Precondition: nothing placed before `from`.
  void render(std::int64_t from, std::span<std::int16_t> out) {
    std::fill(out.begin(), out.end(), std::int16_t{0});
    const auto to = from + static_cast<std::int64_t>(out.size());
    while (!clips_.empty() && clips_.front().start < to) {
      clip& c = clips_.front();
      const auto count = std::min(c.length, static_cast<std::size_t>(to - c.start));
      auto at = static_cast<std::size_t>(c.start - from);
      for (std::size_t i = 0; i < count; ++i) out[at++] = codec::ulaw_to_linear(bytes_[i]);
      bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(count));
      if (count < c.length) {
        c.start += static_cast<std::int64_t>(count);
        c.length -= count;
        break;
      }
      clips_.pop_front();
    }
  }

  // Forgets everything placed from `at` on; returns the samples forgotten.
  std::uint64_t cut(std::int64_t at) {
    std::uint64_t dropped = 0;
    while (!clips_.empty() && end() > at) {
      clip& c = clips_.back();
      const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(0, at - c.start));
      const auto removed = c.length - keep;
      dropped += removed;
      bytes_.erase(bytes_.end() - static_cast<std::ptrdiff_t>(removed), bytes_.end());
      if (keep == 0) {
        clips_.pop_back();
      } else {
        c.length = keep;
      }
    }
    return dropped;
  }

  [[nodiscard]] std::size_t held_bytes() const noexcept { return bytes_.size() + clips_.size() * sizeof(clip); }
  [[nodiscard]] std::size_t audio_bytes() const noexcept { return bytes_.size(); }

 private:
  struct clip {
    std::int64_t start = 0;  // sample
    std::size_t length = 0;  // samples (one μ-law byte each)
  };
  std::deque<clip> clips_;
  std::deque<std::uint8_t> bytes_;
  std::size_t max_bytes_;
};

// What the bridge sent Twilio and Twilio has not yet confirmed played (or cleared).
struct queued {
  enum class kind : std::uint8_t { audio, mark, clear };
  kind what = kind::audio;
  std::int64_t at = 0;     // sample when it was sent
  std::size_t length = 0;  // audio: samples, stored in order in the queue's bytes
  std::string name;        // mark
};

}  // namespace

std::array<char, wav_header_bytes> wav_header(std::uint64_t data_bytes) {
  const auto data = static_cast<std::uint32_t>(std::min(data_bytes, riff_max_data_bytes));
  std::array<char, wav_header_bytes> h{};
  char* p = h.data();
  std::copy_n("RIFF", 4, p);
  put_u32(p + 4, data + static_cast<std::uint32_t>(wav_header_bytes - 8));
  std::copy_n("WAVE", 4, p + 8);
  std::copy_n("fmt ", 4, p + 12);
  put_u32(p + 16, 16);  // PCM format chunk size
  put_u16(p + 20, 1);   // PCM
  put_u16(p + 22, 2);   // channels
  put_u32(p + 24, wav_sample_rate);
  put_u32(p + 28, wav_sample_rate * static_cast<std::uint32_t>(wav_bytes_per_sample));  // byte rate
  put_u16(p + 32, static_cast<std::uint16_t>(wav_bytes_per_sample));                   // block align
  put_u16(p + 34, 16);                                                                  // bits per sample
  std::copy_n("data", 4, p + 36);
  put_u32(p + 40, data);
  return h;
}

struct wav_builder::impl {
  protocol::twilio_parser parser;
  protocol::twilio_message message;
  std::string decoded;
  wav_builder_stats stats;

  std::int64_t now = 0;      // sample of the latest entry
  std::int64_t written = 0;  // samples appended so far
  bool finished = false;

  track caller{max_caller_bytes};
  // The largest lead of a caller frame's timestamp over its arrival: the bridge's Twilio clock offset.
  std::int64_t caller_offset = 0;

  track heard{max_assistant_bytes};
  std::deque<queued> queue;
  std::deque<std::uint8_t> queued_bytes;
  std::int64_t played_until = 0;  // where the assistant audio placed so far ends

  std::array<std::int16_t, 1024> left{};
  std::array<std::int16_t, 1024> right{};

  void on_entry(direction dir, double t_ms, std::string_view json) {
    if (finished || !std::isfinite(t_ms) || t_ms > max_t_ms) return;
    now = std::max(now, sample_at(std::max(0.0, t_ms)));
    if (dir != direction::twilio_in && dir != direction::twilio_out) return;
    if (json.empty() || json.size() > wav_max_message_bytes || parser.parse(json, json.size(), message)) {
      ++stats.ignored_messages;
      return;
    }
    if (dir == direction::twilio_in) {
      if (message.event == protocol::twilio_event::media) return on_caller_media();
      if (message.event == protocol::twilio_event::mark) return on_echo(message.mark_name);
      return;
    }
    if (message.event == protocol::twilio_event::media) return on_sent_audio();
    if (message.event == protocol::twilio_event::mark) return on_sent_mark(message.mark_name);
    if (message.event_name == "clear") return on_sent_clear();
  }

  void on_caller_media() {
    // Only the inbound track is the caller.
    if (!message.media.track.empty() && message.media.track != "inbound") return;
    const auto timestamp = message.media.timestamp_ms * samples_per_ms;
    // A timestamp far ahead of the bridge's clock is not one.
    if (message.media.timestamp_ms < 0 || timestamp - now > hold_samples ||
        !protocol::base64_decode(message.media.payload, decoded)) {
      ++stats.ignored_messages;
      return;
    }
    caller_offset = std::max(caller_offset, timestamp - now);
    stats.dropped_samples += caller.place(timestamp - caller_offset, decoded.begin(), decoded.size(), written);
  }

  std::size_t assistant_bytes() const noexcept { return heard.audio_bytes() + queued_bytes.size(); }

  void on_sent_audio() {
    if (!protocol::base64_decode(message.media.payload, decoded)) {
      ++stats.ignored_messages;
      return;
    }
    make_room_in_queue();
    const auto room = max_assistant_bytes - std::min(max_assistant_bytes, assistant_bytes());
    const auto kept = std::min(room, decoded.size());
    stats.dropped_samples += decoded.size() - kept;
    if (kept == 0) return;
    queue.push_back({queued::kind::audio, now, kept, {}});
    queued_bytes.insert(queued_bytes.end(), decoded.begin(), decoded.begin() + static_cast<std::ptrdiff_t>(kept));
  }

  void on_sent_mark(std::string_view name) {
    if (name.size() > max_mark_name) {
      ++stats.ignored_messages;
      return;
    }
    make_room_in_queue();
    queue.push_back({queued::kind::mark, now, 0, std::string(name)});
  }

  void on_sent_clear() {
    const bool marks_pending =
        std::any_of(queue.begin(), queue.end(), [](const queued& q) { return q.what == queued::kind::mark; });
    if (!marks_pending) {
      // No echo will say when it took effect: it did when it was sent.
      while (!queue.empty()) play_front(now);
      played_until = std::max(played_until, now);
      return;
    }
    make_room_in_queue();
    queue.push_back({queued::kind::clear, now, 0, {}});
  }

  std::size_t position_of_mark(std::string_view name) const {
    const auto mark = std::find_if(queue.begin(), queue.end(),
                                   [&](const queued& q) { return q.what == queued::kind::mark && q.name == name; });
    return static_cast<std::size_t>(mark - queue.begin());
  }

  std::optional<std::size_t> position_of_clear(std::size_t from, std::size_t to) const {
    for (auto i = from; i < to; ++i)
      if (queue[i].what == queued::kind::clear) return i;
    return std::nullopt;
  }

  void on_echo(std::string_view name) {
    auto mark = position_of_mark(name);
    if (mark == queue.size()) return;  // never sent, or already settled by an earlier echo or clear
    // Earlier clears whose echoes never came took effect when they were sent.
    while (position_of_clear(0, mark)) {
      settle_front();
      --mark;
    }
    if (const auto clear = position_of_clear(mark + 1, queue.size())) {
      // Twilio echoes every mark pending at a clear when the clear takes effect: the cut is now.
      for (std::size_t i = 0; i <= *clear; ++i) play_front(now);
      return;
    }
    // The audio before the mark has just ended: it played back to back up to now, never before it
    // was sent nor over what was heard before it.
    std::int64_t length = 0;
    std::optional<std::int64_t> first_sent;
    for (std::size_t i = 0; i <= mark; ++i) {
      if (queue[i].what != queued::kind::audio) continue;
      length += static_cast<std::int64_t>(queue[i].length);
      if (!first_sent) first_sent = queue[i].at;
    }
    played_until = std::max({played_until, now - length, first_sent.value_or(now)});
    for (std::size_t i = 0; i <= mark; ++i) play_front(std::nullopt);
  }

  // Places the queue's first entry where the audio before it left off (audio no earlier than it was
  // sent, and nothing from `cut` on); a clear moves playback to its cut.
  void play_front(std::optional<std::int64_t> cut) {
    queued q = std::move(queue.front());
    queue.pop_front();
    if (q.what == queued::kind::clear) {
      played_until = std::max(played_until, cut.value_or(q.at));
      return;
    }
    if (q.what != queued::kind::audio) return;
    const auto start = std::max(played_until, q.at);
    const auto length = static_cast<std::int64_t>(q.length);
    const auto kept = static_cast<std::size_t>(cut ? std::clamp<std::int64_t>(*cut - start, 0, length) : length);
    const auto first = queued_bytes.begin();
    // Within the bound: the queued bytes were counted against it when they were sent.
    stats.dropped_samples += heard.place(start, first, kept, written) + (q.length - kept);
    queued_bytes.erase(first, first + static_cast<std::ptrdiff_t>(q.length));
    played_until = start + static_cast<std::int64_t>(kept);
  }

  // The first clear still waiting for its echo, if any: where audio before it stops at the latest.
  std::optional<std::int64_t> pending_clear() const {
    const auto clear = position_of_clear(0, queue.size());
    if (!clear) return std::nullopt;
    return queue[*clear].at;
  }

  // Settles the oldest entry without its echo, as it would have played.
  void settle_front() { play_front(pending_clear()); }

  void make_room_in_queue() {
    while (queue.size() >= max_queued_items) settle_front();
  }

  // Up to where nothing can change any more.
  std::int64_t final_until() {
    const auto oldest = now - hold_samples;
    while (!queue.empty() && std::max(played_until, queue.front().at) < oldest) settle_front();
    const auto heard_final = queue.empty() ? now : std::max(played_until, queue.front().at);
    const auto caller_final = std::max(caller.end(), oldest);
    return std::max(written, std::min(heard_final, caller_final));
  }

  void write_until(std::int64_t end, std::string& out) {
    if (end <= written) return;
    out.reserve(out.size() + static_cast<std::size_t>(end - written) * wav_bytes_per_sample);
    std::array<char, std::tuple_size_v<decltype(left)> * wav_bytes_per_sample> block{};
    while (written < end) {
      const auto count = static_cast<std::size_t>(std::min<std::int64_t>(end - written, left.size()));
      caller.render(written, std::span(left).first(count));
      heard.render(written, std::span(right).first(count));
      for (std::size_t i = 0; i < count; ++i) {
        put_u16(&block[i * wav_bytes_per_sample], static_cast<std::uint16_t>(left[i]));
        put_u16(&block[i * wav_bytes_per_sample + 2], static_cast<std::uint16_t>(right[i]));
      }
      out.append(block.data(), count * wav_bytes_per_sample);
      written += static_cast<std::int64_t>(count);
    }
  }

  void finish(double t_ms, std::string& out) {
    if (finished) return;
    if (std::isfinite(t_ms) && t_ms <= max_t_ms) now = std::max(now, sample_at(std::max(0.0, t_ms)));
    while (!queue.empty()) settle_front();
    // The caller hung up: what was placed beyond the end was never heard.
    stats.dropped_samples += caller.cut(now) + heard.cut(now);
    write_until(now, out);
    finished = true;
  }

  std::size_t held_bytes() const noexcept {
    return caller.held_bytes() + heard.held_bytes() + queued_bytes.size() +
           queue.size() * (sizeof(queued) + max_mark_name);
  }
};

static_assert(max_caller_bytes + max_assistant_bytes + 2 * max_clips * 2 * sizeof(std::int64_t) +
                      max_queued_items * (sizeof(queued) + max_mark_name) <=
                  wav_max_held_bytes,
              "wav_max_held_bytes must cover every bound");

wav_builder::wav_builder() : impl_(std::make_unique<impl>()) {}
wav_builder::~wav_builder() = default;
wav_builder::wav_builder(wav_builder&&) noexcept = default;
wav_builder& wav_builder::operator=(wav_builder&&) noexcept = default;

void wav_builder::on_entry(direction dir, double t_ms, std::string_view message_json) {
  impl_->on_entry(dir, t_ms, message_json);
}

void wav_builder::take_ready(std::string& out) {
  if (!impl_->finished) impl_->write_until(impl_->final_until(), out);
}

void wav_builder::finish(double t_ms, std::string& out) { impl_->finish(t_ms, out); }

std::uint64_t wav_builder::data_bytes() const noexcept {
  return static_cast<std::uint64_t>(impl_->written) * wav_bytes_per_sample;
}

std::size_t wav_builder::held_bytes() const noexcept { return impl_->held_bytes(); }

const wav_builder_stats& wav_builder::stats() const noexcept { return impl_->stats; }

}  // namespace mb::record
