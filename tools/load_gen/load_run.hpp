#pragma once
// A load test: N simulated Twilio calls (tools/twilio_sim) against a running bridge whose upstream is
// a Realtime simulator carrying a load_probe, started at a fixed ramp rate, each lasting the same
// time, some of them barging in. Measures what load_probe.hpp describes, plus the CPU and memory of
// the bridge process and of the generator's own threads (/proc), over a steady-state window: from
// `settle_ms` after the last call started until the first call is due to hang up.
//
// Bounded: at most max_calls calls; the run stops ramp + duration + 60 s after it started whatever
// happens. Loopback only: the webhook must be on 127.0.0.1 or localhost.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "tools/load_gen/load_probe.hpp"
#include "tools/twilio_sim/caller_audio.hpp"
#include "upstream/provider.hpp"

namespace mb::tools::load {

inline constexpr std::size_t max_calls = 20000;

// Speak 1 s, then wait for the whole answer (the simulator replies 2 s of audio after 500 ms of
// silence). Repeats every 5 s.
std::vector<twilio::audio_segment> default_script();
// Speak 1 s; speak again 1.5 s later, over the answer, which the bridge must cut. Repeats every 5 s.
std::vector<twilio::audio_segment> default_barge_in_script();
// Parses "speech:1000,silence:4000"; empty on a malformed spec.
std::vector<twilio::audio_segment> parse_script(std::string_view spec);
// The spec parse_script() reads back as `script`.
std::string script_spec(const std::vector<twilio::audio_segment>& script);

struct load_options {
  std::string webhook_url;  // http://127.0.0.1:<port>/voice
  std::string auth_token;   // sign like Twilio; empty: no signatures
  // The protocol the bridge was configured to speak upstream: every simulator session must use it.
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  std::size_t calls = 20;
  double ramp_per_s = 50;   // calls started per second
  int duration_s = 10;      // each call's length, from its stream start
  double barge_in_share = 0.25;
  std::vector<twilio::audio_segment> script = default_script();  // repeated for the call's length
  std::vector<twilio::audio_segment> barge_in_script = default_barge_in_script();
  int threads = 1;          // generator I/O threads (the simulator has its own)
  // > 0: caller frames leave on this grid, each call's frames up to this late (send_time_on_grid).
  int send_grid_us = 0;
  pid_t bridge_pid = 0;     // 0: the bridge's CPU and memory are not sampled
  std::uint32_t warmup_frames = 50;  // caller frames per call left out of the latency figures
  int settle_ms = 2000;
  int sample_interval_ms = 500;
};

struct latency_summary {
  std::uint64_t count = 0;
  std::int64_t p50_us = 0, p95_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double mean_us = 0;
  std::uint64_t over_5ms = 0;
};

struct usage_figures {
  bool sampled = false;
  double cpu_percent = 0;  // of one core, over the window
  double cpu_ms_per_call_second = 0;
  double rss_baseline_mb = 0;
  double rss_mb = 0;       // at the end of the window
  double rss_peak_mb = 0;
  double rss_per_call_kb = 0;
};

struct load_report {
  load_options options;
  double elapsed_s = 0;
  double load_average_start = 0;  // 1-minute load average of the machine
  double load_average_end = 0;

  std::uint64_t calls_ok = 0;
  std::uint64_t calls_failed = 0;
  std::map<std::string, std::uint64_t> failures;  // outcome → calls
  std::string first_failure;

  bool steady_window = false;  // false: the ramp left no window; figures cover the whole run
  double window_start_s = 0, window_end_s = 0;
  std::uint64_t active_calls_in_window = 0;  // at its start

  latency_summary caller_to_upstream, upstream_to_caller, barge_in_clear;
  // Assistant audio the caller still heard after starting to talk over it (the Twilio side's playout).
  latency_summary stale_audio;
  frame_counts up_frames, down_frames;
  std::uint64_t clears = 0, clears_without_speech = 0;
  std::uint64_t truncates = 0, truncates_rejected = 0, truncates_unmatched = 0;
  std::int64_t truncate_error_p50_ms = 0, truncate_error_p95_abs_ms = 0, truncate_error_min_ms = 0,
               truncate_error_max_ms = 0;
  std::uint64_t unmapped_sessions = 0;
  std::uint64_t provider_sessions = 0;        // upstream sessions on options.provider's protocol
  std::uint64_t other_provider_sessions = 0;  // on the other one: the bridge was not configured as expected

  usage_figures bridge;
  double generator_cpu_percent = 0;  // generator threads
  double simulator_cpu_percent = 0;  // simulator threads (when hosted here)
  double process_cpu_percent = 0;    // this process, all threads
  double max_send_lag_ms = 0;        // worst lateness of a caller frame against its 20 ms schedule
  std::uint64_t send_queue_drops = 0;

  // No failed call, no upstream session on another protocol than options.provider, and no lost,
  // duplicated, reordered or misrouted frame either way.
  [[nodiscard]] bool clean() const;
  [[nodiscard]] boost::json::object to_json() const;
  [[nodiscard]] std::string table() const;
};

load_report run_load(const load_options& options, load_probe& probe);

}  // namespace mb::tools::load
