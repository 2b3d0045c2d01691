#include "tools/load_gen/load_probe.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "protocol/base64.hpp"
#include "tools/load_gen/stamp.hpp"

namespace mb::tools::load {
namespace {

constexpr std::size_t max_recent_media = 64;
constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The stamp occupies exactly the first stamp_base64_chars characters: no padding, whole groups.
void encode_stamp(const std::array<std::uint8_t, stamp_bytes>& bytes, char* out) {
  for (std::size_t i = 0; i < stamp_bytes; i += 3, out += 4) {
    const std::uint32_t v = std::uint32_t{bytes[i]} << 16 | std::uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
    out[0] = b64_alphabet[v >> 18 & 63];
    out[1] = b64_alphabet[v >> 12 & 63];
    out[2] = b64_alphabet[v >> 6 & 63];
    out[3] = b64_alphabet[v & 63];
  }
}

bool decode_stamp_bytes(std::string_view b64, std::array<std::uint8_t, stamp_bytes>& out) {
  if (b64.size() < stamp_base64_chars) return false;
  static const auto table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  for (std::size_t i = 0, o = 0; i < stamp_base64_chars; i += 4, o += 3) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const auto d = table[static_cast<unsigned char>(b64[i + k])];
      if (d < 0) return false;
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    out[o] = static_cast<std::uint8_t>(v >> 16);
    out[o + 1] = static_cast<std::uint8_t>(v >> 8);
    out[o + 2] = static_cast<std::uint8_t>(v);
  }
  return true;
}

std::uint32_t to_us(twilio::clock::time_point t) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

// A never-zero timestamp, so that 0 can mean "none".
std::uint32_t nonzero(std::uint32_t us) { return us == 0 ? 1 : us; }

}  // namespace

void frame_counts::add(const frame_counts& o) {
  sent += o.sent;
  received += o.received;
  lost += o.lost;
  dropped_by_clear += o.dropped_by_clear;
  duplicated += o.duplicated;
  reordered += o.reordered;
  misrouted += o.misrouted;
  unstamped += o.unstamped;
}

load_probe::load_probe(std::size_t calls, std::uint32_t warmup_frames)
    : warmup_frames_(warmup_frames),
      calls_(calls),
      // Reconnects open more sessions than calls; sessions beyond this are counted, not measured.
      sessions_(2 * calls + 64),
      truncates_(calls) {}

int load_probe::call_of(std::uint64_t session) const noexcept {
  if (session >= sessions_.size()) return -1;
  return static_cast<int>(sessions_[session].load(std::memory_order_relaxed)) - 1;
}

// --- simulator side ------------------------------------------------------------------------------

void load_probe::on_input_audio(std::uint64_t session, std::span<const std::uint8_t> audio) {
  const auto now = now_us();
  const auto s = read_stamp(audio);
  if (!s || s->call >= calls_.size()) {
    up_unstamped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (session >= sessions_.size()) {
    unmapped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto& mapped = sessions_[session];
  if (mapped.load(std::memory_order_relaxed) == 0) mapped.store(s->call + 1u, std::memory_order_relaxed);
  if (mapped.load(std::memory_order_relaxed) != s->call + 1u) {
    up_misrouted_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto& c = calls_[s->call];
  c.up_received.fetch_add(1, std::memory_order_relaxed);
  if (s->seq > warmup_frames_ && measuring()) up_latency_.record(elapsed_us(s->sent_us, now));
  const std::uint64_t last = c.up_last_seq.load(std::memory_order_relaxed);
  if (s->seq > last) c.up_last_seq.store(s->seq, std::memory_order_relaxed);
  else if (s->seq == last) c.up_duplicated.fetch_add(1, std::memory_order_relaxed);
  else c.up_reordered.fetch_add(1, std::memory_order_relaxed);
}

void load_probe::on_session_opened(std::uint64_t, upstream::provider_kind provider) {
  sessions_by_provider_[static_cast<std::size_t>(provider)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t load_probe::sessions_on(upstream::provider_kind provider) const {
  return sessions_by_provider_[static_cast<std::size_t>(provider)].load(std::memory_order_relaxed);
}

void load_probe::on_speech_started(std::uint64_t session) {
  const int call = call_of(session);
  if (call >= 0) calls_[static_cast<std::size_t>(call)].speech_started_us.store(nonzero(now_us()), std::memory_order_relaxed);
}

void load_probe::on_output_audio(std::uint64_t session, std::uint32_t response, std::uint64_t offset,
                                 std::string& delta_b64) {
  const int call = call_of(session);
  if (call < 0 || delta_b64.size() < stamp_base64_chars) return;  // left unstamped: counted on arrival
  auto& c = calls_[static_cast<std::size_t>(call)];
  stamp s;
  s.call = static_cast<std::uint16_t>(call);
  s.seq = c.next_delta_seq.fetch_add(1, std::memory_order_relaxed) + 1;
  s.response = static_cast<std::uint16_t>(response);
  s.offset = static_cast<std::uint32_t>(offset);
  s.sent_us = now_us();
  std::array<std::uint8_t, stamp_bytes> bytes{};
  write_stamp(s, bytes);
  encode_stamp(bytes, delta_b64.data());
}

void load_probe::on_truncate(std::uint64_t session, std::uint32_t response, std::int64_t audio_end_ms, bool accepted) {
  const int call = call_of(session);
  if (call < 0) return;
  std::lock_guard lock(truncate_mutex_);
  truncates_[static_cast<std::size_t>(call)].push_back({response, audio_end_ms, accepted});
}

// --- Twilio side -----------------------------------------------------------------------------------

void load_probe::twilio_stamp_frame(std::size_t call, std::uint64_t chunk, std::span<std::uint8_t> frame) {
  if (frame.size() < stamp_bytes) return;
  stamp s;
  s.call = static_cast<std::uint16_t>(call);
  s.seq = static_cast<std::uint32_t>(chunk);
  s.sent_us = now_us();
  write_stamp(s, frame);
  calls_[call].up_sent = chunk;
}

void load_probe::twilio_media(std::size_t call, std::string_view payload_b64, twilio::clock::time_point at,
                              std::uint64_t position) {
  auto& c = calls_[call];
  std::array<std::uint8_t, stamp_bytes> bytes{};
  const auto s = decode_stamp_bytes(payload_b64, bytes) ? read_stamp(bytes) : std::nullopt;
  if (!s) {
    ++c.down.unstamped;
    return;
  }
  if (s->call != call) {
    ++c.down.misrouted;
    return;
  }
  ++c.down.received;
  if (measuring()) down_latency_.record(elapsed_us(s->sent_us, to_us(at)));
  const std::uint64_t seq = s->seq;
  if (seq > c.down_last_seq) {
    const auto gap = seq - c.down_last_seq - 1;
    (c.cleared_since_media ? c.down.dropped_by_clear : c.down.lost) += gap;
    c.down_last_seq = seq;
  } else if (seq == c.down_last_seq) {
    ++c.down.duplicated;
  } else {
    ++c.down.reordered;
    if (c.down.lost > 0) --c.down.lost;
  }
  c.cleared_since_media = false;
  if (c.recent.size() == max_recent_media) c.recent.erase(c.recent.begin());
  c.recent.push_back({position, protocol::is_base64(payload_b64) ? protocol::base64_decoded_size(payload_b64) : 0,
                      s->response, s->offset});
}

void load_probe::twilio_clear(std::size_t call, twilio::clock::time_point at, std::uint64_t played) {
  auto& c = calls_[call];
  ++c.clears_seen;
  c.cleared_since_media = true;
  const auto spoke = c.speech_started_us.exchange(0, std::memory_order_relaxed);
  if (spoke == 0) ++c.clears_without_speech;
  else if (measuring()) barge_latency_.record(elapsed_us(spoke, to_us(at)));
  // The response that was playing, and how much of it had been played.
  for (auto it = c.recent.rbegin(); it != c.recent.rend(); ++it) {
    if (it->position > played) continue;
    const auto into = std::min(played - it->position, it->bytes);
    c.clears.push_back({it->response, static_cast<double>(it->offset + into) / 8.0});
    break;
  }
  c.recent.clear();
}

// --- results -------------------------------------------------------------------------------------

frame_counts load_probe::up_counts() const {
  frame_counts total;
  for (const auto& c : calls_) {
    // Every frame sent before the caller's stop must reach the upstream, so what never arrived is
    // lost, whether or not a later frame revealed the gap.
    const auto unique = c.up_received.load() - c.up_duplicated.load();
    total.sent += c.up_sent;
    total.received += c.up_received.load();
    total.lost += c.up_sent > unique ? c.up_sent - unique : 0;
    total.duplicated += c.up_duplicated.load();
    total.reordered += c.up_reordered.load();
  }
  total.misrouted = up_misrouted_.load();
  total.unstamped = up_unstamped_.load();
  return total;
}

frame_counts load_probe::down_counts() const {
  frame_counts total;
  for (const auto& c : calls_) {
    total.add(c.down);
    total.sent += c.next_delta_seq.load();
  }
  return total;
}

std::vector<truncate_observation> load_probe::truncates(std::uint64_t& unmatched) const {
  std::vector<truncate_observation> out;
  unmatched = 0;
  std::lock_guard lock(truncate_mutex_);
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    for (const auto& t : truncates_[i]) {
      const auto& clears = calls_[i].clears;
      const auto it = std::find_if(clears.begin(), clears.end(), [&](const auto& c) { return c.response == t.response; });
      if (it == clears.end()) {
        ++unmatched;
        continue;
      }
      out.push_back({static_cast<std::int64_t>(std::llround(static_cast<double>(t.audio_end_ms) - it->played_ms)),
                     t.accepted});
    }
  }
  return out;
}

std::uint64_t load_probe::clears() const {
  std::uint64_t n = 0;
  for (const auto& c : calls_) n += c.clears_seen;
  return n;
}

std::uint64_t load_probe::clears_without_speech() const {
  std::uint64_t n = 0;
  for (const auto& c : calls_) n += c.clears_without_speech;
  return n;
}

}  // namespace mb::tools::load
