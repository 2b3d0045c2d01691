#include "recorder/recording_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "call/dtmf_collector.hpp"
#include "call/wire_tap.hpp"
#include "log/escape.hpp"
#include "record/wav_builder.hpp"

namespace mb::recorder {
namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

constexpr auto sweep_interval = std::chrono::hours(1);
constexpr auto error_log_interval = std::chrono::minutes(1);
constexpr std::size_t max_header_line = 4096;

// The part of the model's DTMF text before any character a provider might escape when it echoes it.
constexpr std::string_view dtmf_marker = call::dtmf_context_lead.substr(0, call::dtmf_context_lead.find('\''));

int open_owner_only(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, S_IRUSR | S_IWUSR);
  // The mode above applies only to a new file; a recording written over an old one is made private too.
  if (fd >= 0 && ::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// 0, or the errno of the write that failed.
int write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::uint64_t size_of(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A masked call's messages that would show the keys: Twilio's dtmf, and whatever carries the digit
// string to the model or back (docs/recording.md "Settings, storage and privacy").
std::optional<std::string_view> masked_type(record::direction dir, std::string_view message) {
  if (dir == record::direction::twilio_in && message.find("\"dtmf\"") != std::string_view::npos) return "dtmf";
  const bool upstream = dir == record::direction::upstream_in || dir == record::direction::upstream_out;
  if (upstream && message.find(dtmf_marker) != std::string_view::npos) return call::wire_type_of(message);
  return std::nullopt;
}

}  // namespace

const char* to_string(error_kind k) noexcept {
  switch (k) {
    case error_kind::open: return "open";
    case error_kind::write: return "write";
    case error_kind::disk_full: return "disk_full";
  }
  return "write";
}

const char* to_string(outcome_kind k) noexcept {
  switch (k) {
    case outcome_kind::complete: return "complete";
    case outcome_kind::incomplete: return "incomplete";
    case outcome_kind::failed: return "failed";
  }
  return "failed";
}

bool valid_call_sid(std::string_view sid) noexcept {
  if (sid.empty() || sid.size() > 64) return false;
  for (const char c : sid) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) return false;
  }
  return true;
}

struct recording_writer::open_recording {
  std::shared_ptr<call_recording> capture;
  int log_fd = -1;
  int wav_fd = -1;
  bool failed = false;
  record::wav_builder wav;
  record::log_entry entry;
  entry_head head;
  std::int64_t last_t_us = 0;
  std::string payload;   // the entry taken from the ring
  std::string minified;  // its message, minified
  std::string lines;     // formatted, not yet written
  std::string samples;   // WAV data, not yet written

  void close_files() {
    if (log_fd >= 0) ::close(log_fd);
    if (wav_fd >= 0) ::close(wav_fd);
    log_fd = wav_fd = -1;
  }
  ~open_recording() { close_files(); }
};

recording_writer::recording_writer(writer_options options, std::function<void(const recording_outcome&)> on_ended)
    : options_(std::move(options)), on_ended_(std::move(on_ended)) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) throw std::runtime_error("cannot create " + options_.dir.string() + ": " + ec.message());
  fs::permissions(options_.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) throw std::runtime_error("cannot make " + options_.dir.string() + " owner-only: " + ec.message());
  thread_ = std::thread([this] { run(); });
}

recording_writer::~recording_writer() { stop(); }

void recording_writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<call_recording> recording_writer::start(record::log_header header) {
  if (!valid_call_sid(header.call_sid)) return nullptr;
  std::lock_guard lock(mutex_);
  // The same CallSid still being written (a stream that came back at once): its files are not reused.
  if (stopping_ || active_.contains(header.call_sid)) return nullptr;
  const std::string sid = header.call_sid;
  auto capture = std::make_shared<call_recording>(std::move(header), options_.ring_bytes);
  started_.push_back(capture);
  active_.emplace(sid, capture);
  wake_.notify_one();
  return capture;
}

fs::path recording_writer::log_path(std::string_view call_sid) const {
  return options_.dir / (std::string(call_sid) + ".jsonl");
}
fs::path recording_writer::wav_path(std::string_view call_sid) const {
  return options_.dir / (std::string(call_sid) + ".wav");
}

bool recording_writer::active(std::string_view call_sid) const {
  std::lock_guard lock(mutex_);
  return active_.contains(std::string(call_sid));
}

std::optional<recording_info> recording_writer::info(std::string_view call_sid,
                                                     const std::optional<recording_outcome>& ended) const {
  if (!valid_call_sid(call_sid)) return std::nullopt;
  std::error_code ec;
  const auto log = log_path(call_sid);
  if (!fs::exists(log, ec)) return std::nullopt;
  recording_info info;
  info.log_bytes = size_of(log);
  info.wav_bytes = size_of(wav_path(call_sid));
  {
    std::lock_guard lock(mutex_);
    if (const auto it = active_.find(std::string(call_sid)); it != active_.end()) {
      info.started_at = it->second->header().started_at;
      info.duration_ms = std::max<std::int64_t>(0, unix_ms_now() - info.started_at);
      info.dropped_bytes = it->second->dropped_bytes();
      return info;
    }
  }
  if (ended) {
    info.started_at = ended->started_at;
    info.duration_ms = ended->duration_ms;
    info.complete = ended->complete;
    info.dropped_bytes = ended->dropped_bytes;
    return info;
  }
  // A recording whose end the history does not know (the process stopped during the call).
  std::ifstream in(log, std::ios::binary);
  std::string line(max_header_line, '\0');
  in.getline(line.data(), static_cast<std::streamsize>(line.size()));
  line.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
  std::string error;
  if (const auto header = record::parse_header(line, error)) info.started_at = header->started_at;
  if (info.wav_bytes > record::wav_header_bytes)
    info.duration_ms = static_cast<std::int64_t>((info.wav_bytes - record::wav_header_bytes) / record::wav_bytes_per_sample * 1000 /
                                                 record::wav_sample_rate);
  return info;
}

bool recording_writer::erase(std::string_view call_sid) const {
  if (!valid_call_sid(call_sid) || active(call_sid)) return false;
  std::error_code ec;
  fs::remove(log_path(call_sid), ec);
  fs::remove(wav_path(call_sid), ec);
  return true;
}

std::size_t recording_writer::sweep(fs::file_time_type cutoff) const {
  std::size_t deleted = 0;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    if (path.extension() != ".jsonl" && path.extension() != ".wav") continue;
    const auto sid = path.stem().string();
    std::error_code stat_error;
    if (!valid_call_sid(sid) || !it->is_regular_file(stat_error) || active(sid)) continue;
    const auto written = it->last_write_time(stat_error);
    if (stat_error || written >= cutoff) continue;
    if (fs::remove(path, stat_error)) ++deleted;
  }
  return deleted;
}

void recording_writer::sweep_if_due(steady::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + sweep_interval;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * options_.retention_days;
  if (const auto deleted = sweep(cutoff))
    spdlog::info("recordings: deleted {} file(s) older than {} days (RECORDING_RETENTION_DAYS)", deleted,
                 options_.retention_days);
}

void recording_writer::fail(open_recording& r, error_kind kind, int error_number, const char* what) {
  r.failed = true;
  r.close_files();
  errors_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  const auto now = steady::now();
  if (now < next_error_log_) {
    ++errors_not_logged_;
    return;
  }
  next_error_log_ = now + error_log_interval;
  spdlog::error("call {}: recording stopped, the call goes on: cannot {} in {}: {}{}", r.capture->header().call_sid,
                what, options_.dir.string(), std::strerror(error_number),
                errors_not_logged_ ? " (" + std::to_string(std::exchange(errors_not_logged_, 0)) +
                                         " more recording error(s) since the last line)"
                                   : std::string());
}

void recording_writer::drain(open_recording& r) {
  while (r.capture->take(r.head, r.payload)) {
    r.last_t_us = r.head.t_us;
    if (r.failed) continue;  // taken only to free the ring
    auto& e = r.entry;
    e.t_ms = static_cast<double>(r.head.t_us) / 1000.0;
    e.dir = r.head.dir;
    e.number = r.head.number;
    e.kind = record::payload_kind::none;
    e.detail.clear();
    e.payload.clear();
    switch (e.dir) {
      case record::direction::upstream_open:
      case record::direction::gap:
        break;
      case record::direction::upstream_closed:
        e.detail = log::escape_for_log(r.payload, log::reason_bytes);
        break;
      default:
        if (const auto type = r.capture->header().dtmf_masked ? masked_type(e.dir, r.payload) : std::nullopt) {
          e.kind = record::payload_kind::masked;
          e.payload = *type;
        } else if (r.minified.clear(); record::minify_json(r.payload, r.minified)) {
          e.kind = record::payload_kind::json;
          const bool start = e.dir == record::direction::twilio_in &&
                             r.minified.find("\"event\":\"start\"") != std::string::npos;
          if (start)
            e.payload = record::redact_twilio_start(r.minified);
          else
            std::swap(e.payload, r.minified);
        } else {
          e.kind = record::payload_kind::raw;
          std::swap(e.payload, r.payload);
        }
    }
    record::append_entry(r.lines, e);
    r.wav.on_entry(e.dir, e.t_ms, e.kind == record::payload_kind::json ? std::string_view(e.payload) : "");
  }
  if (r.failed) return;
  r.wav.take_ready(r.samples);
  if (const int error = write_all(r.log_fd, r.lines)) {
    fail(r, error == ENOSPC || error == EDQUOT ? error_kind::disk_full : error_kind::write, error, "write the log");
  } else if (const int wav_error = write_all(r.wav_fd, r.samples)) {
    fail(r, wav_error == ENOSPC || wav_error == EDQUOT ? error_kind::disk_full : error_kind::write, wav_error,
         "write the WAV");
  }
  r.lines.clear();
  r.samples.clear();
}

bool recording_writer::close_if_finished(open_recording& r, bool stopping) {
  // finished() before the drain: every entry the call added is in the ring by then.
  const bool finished = r.capture->finished();
  if (!finished && !stopping) return false;
  drain(r);
  const auto& header = r.capture->header();
  // At shutdown every call has ended; one that did not say so ends at its last entry.
  const double end_ms = static_cast<double>(finished ? r.capture->end_t_us() : r.last_t_us) / 1000.0;
  if (!r.failed) {
    r.wav.finish(end_ms, r.samples);
    const auto wav_header = record::wav_header(r.wav.data_bytes());
    if (const int error = write_all(r.wav_fd, r.samples)) {
      fail(r, error == ENOSPC || error == EDQUOT ? error_kind::disk_full : error_kind::write, error, "write the WAV");
    } else if (::pwrite(r.wav_fd, wav_header.data(), wav_header.size(), 0) != static_cast<ssize_t>(wav_header.size())) {
      fail(r, error_kind::write, errno, "write the WAV's header");
    }
  }
  r.close_files();
  const std::uint64_t dropped = r.capture->dropped_bytes();
  dropped_.fetch_add(dropped, std::memory_order_relaxed);
  const auto kind = r.failed ? outcome_kind::failed : dropped > 0 ? outcome_kind::incomplete : outcome_kind::complete;
  outcomes_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  if (dropped > 0)
    spdlog::warn("call {}: recording incomplete: the writer fell behind and dropped {} bytes of entries (gap entries "
                 "in the log mark where)",
                 header.call_sid, dropped);
  if (on_ended_)
    on_ended_({header.call_sid, header.started_at, static_cast<std::int64_t>(end_ms), kind == outcome_kind::complete,
               dropped});
  std::lock_guard lock(mutex_);
  active_.erase(header.call_sid);
  return true;
}

void recording_writer::run() {
  std::vector<std::unique_ptr<open_recording>> recordings;
  for (;;) {
    std::vector<std::shared_ptr<call_recording>> fresh;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.drain_interval, [&] { return stopping_ || !started_.empty(); });
      fresh.swap(started_);
      stopping = stopping_;
    }
    for (auto& capture : fresh) {
      auto r = std::make_unique<open_recording>();
      r->capture = std::move(capture);
      const auto& sid = r->capture->header().call_sid;
      r->log_fd = open_owner_only(log_path(sid));
      r->wav_fd = r->log_fd >= 0 ? open_owner_only(wav_path(sid)) : -1;
      if (r->log_fd < 0 || r->wav_fd < 0) {
        fail(*r, error_kind::open, errno, "create the recording's files");
      } else {
        record::append_header(r->lines, r->capture->header());
        const auto placeholder = record::wav_header(0);  // its sizes are written when the call ends
        r->samples.assign(placeholder.data(), placeholder.size());
      }
      recordings.push_back(std::move(r));
    }
    sweep_if_due(steady::now());
    std::erase_if(recordings, [&](auto& r) {
      drain(*r);
      return close_if_finished(*r, stopping);
    });
    if (stopping) return;
  }
}

std::uint64_t recording_writer::errors(error_kind k) const noexcept {
  return errors_[static_cast<std::size_t>(k)].load(std::memory_order_relaxed);
}
std::uint64_t recording_writer::outcomes(outcome_kind k) const noexcept {
  return outcomes_[static_cast<std::size_t>(k)].load(std::memory_order_relaxed);
}

}  // namespace mb::recorder
