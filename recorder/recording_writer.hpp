#pragma once
// Writes calls' recordings (docs/recording.md): one thread for the process takes each recorded call's
// entries out of its ring (recorder/call_recording.hpp), writes them as the JSONL event log and feeds
// them to the WAV builder, in <dir>/<CallSid>.jsonl and <dir>/<CallSid>.wav (folder 0700, files 0600).
// A file that cannot be opened or written (a full disk included) costs the recording, never the call:
// counted by kind, logged at most once a minute, and the recording ends incomplete. Recordings older
// than the retention are deleted at start and hourly.
//
// @par Thread Safety
// Every member may be called from any thread. start() runs on a call's thread (once per recorded
// call); info(), erase() and the paths do small blocking file operations (stat, one header read, unlink).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "recorder/call_recording.hpp"

namespace mb::recorder {

struct writer_options {
  writer_options(std::filesystem::path folder, int retention) : dir(std::move(folder)), retention_days(retention) {}

  std::filesystem::path dir;
  int retention_days = 30;
  // Per recorded call: what the writer may fall behind by before entries are dropped (a gap).
  std::size_t ring_bytes = std::size_t{2} << 20;
  std::chrono::milliseconds drain_interval{20};
};

// What became of a recording that has ended: the history keeps it (store/call_store.hpp).
struct recording_outcome {
  std::string call_sid;
  std::int64_t started_at = 0;  // unix ms of t = 0
  std::int64_t duration_ms = 0;
  bool complete = false;  // no entry lost, no write failed
  std::uint64_t dropped_bytes = 0;
};

// GET /v1/calls/{sid}'s "recording".
struct recording_info {
  std::int64_t started_at = 0;
  std::int64_t duration_ms = 0;
  std::uint64_t wav_bytes = 0;
  std::uint64_t log_bytes = 0;
  bool complete = false;
  std::uint64_t dropped_bytes = 0;
};

enum class error_kind : std::size_t { open, write, disk_full };
inline constexpr std::size_t error_kind_count = 3;
[[nodiscard]] const char* to_string(error_kind k) noexcept;  // the metric's kind label

enum class outcome_kind : std::size_t { complete, incomplete, failed };
inline constexpr std::size_t outcome_kind_count = 3;
[[nodiscard]] const char* to_string(outcome_kind k) noexcept;  // the metric's outcome label

// A CallSid that may name a file: letters and digits only, 1 to 64 of them.
[[nodiscard]] bool valid_call_sid(std::string_view sid) noexcept;

class recording_writer {
 public:
  // Creates the folder (0700) and starts the thread; throws std::runtime_error naming the folder when
  // it cannot be created. `on_ended` (may be null) gets each recording's outcome, on the writer's thread.
  recording_writer(writer_options options, std::function<void(const recording_outcome&)> on_ended);
  ~recording_writer();  // stop()
  recording_writer(const recording_writer&) = delete;
  recording_writer& operator=(const recording_writer&) = delete;

  // A call starts recording at t = 0 (header.started_at): its capture, which the call fills and
  // finishes; the writer opens the files on its own thread.
  [[nodiscard]] std::shared_ptr<call_recording> start(record::log_header header);

  [[nodiscard]] std::filesystem::path log_path(std::string_view call_sid) const;
  [[nodiscard]] std::filesystem::path wav_path(std::string_view call_sid) const;
  // True while the call's recording is being written.
  [[nodiscard]] bool active(std::string_view call_sid) const;
  // The files' sizes and what is known of the recording: `ended` from the history, else (a call still
  // recording, or one the process did not see end) from the writer and the log's header. nullopt when
  // there is no recording.
  [[nodiscard]] std::optional<recording_info> info(std::string_view call_sid,
                                                   const std::optional<recording_outcome>& ended) const;
  // Deletes both files (not while recording: false). True when there was something to delete or nothing.
  bool erase(std::string_view call_sid) const;
  // Deletes recordings last written before `cutoff` (retention); the number of files deleted.
  std::size_t sweep(std::filesystem::file_time_type cutoff) const;

  // Finishes every recording (the calls have ended) and stops the thread. Idempotent.
  void stop();

  [[nodiscard]] std::uint64_t errors(error_kind k) const noexcept;
  [[nodiscard]] std::uint64_t outcomes(outcome_kind k) const noexcept;
  [[nodiscard]] std::uint64_t dropped_bytes() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct open_recording;
  void run();
  void drain(open_recording& r);
  bool close_if_finished(open_recording& r, bool stopping);
  void fail(open_recording& r, error_kind kind, int error_number, const char* what);
  void sweep_if_due(std::chrono::steady_clock::time_point now);

  writer_options options_;
  std::function<void(const recording_outcome&)> on_ended_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<call_recording>> started_;  // guarded: not yet taken by the thread
  std::unordered_map<std::string, std::shared_ptr<call_recording>> active_;  // guarded: by CallSid
  bool stopping_ = false;                                                     // guarded
  std::thread thread_;
  std::chrono::steady_clock::time_point next_sweep_{};  // writer thread only
  std::chrono::steady_clock::time_point next_error_log_{};  // writer thread only
  std::uint64_t errors_not_logged_ = 0;                      // writer thread only
  std::array<std::atomic<std::uint64_t>, error_kind_count> errors_{};
  std::array<std::atomic<std::uint64_t>, outcome_kind_count> outcomes_{};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace mb::recorder
