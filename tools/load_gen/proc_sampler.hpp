#pragma once
// Samples CPU time and resident memory from /proc while a load test runs: the bridge process (by
// pid), this process as a whole, and this process's threads by role ("generator", "simulator"), so
// that a saturated generator or simulator shows up next to the bridge's figures.
//
// @par Thread Safety
// register_current_thread() from any thread; a sampler from the thread that owns it (it runs its own
// sampling thread between start() and stop()).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mb::tools::load {

using steady = std::chrono::steady_clock;

struct cpu_rss {
  double cpu_s = 0;           // user + system
  std::uint64_t rss_bytes = 0;
  bool ok = false;            // the /proc files could be read
};

// Reads /proc/<pid>/stat and /proc/<pid>/statm (pid 0: this process).
cpu_rss read_process(pid_t pid);
// CPU of one thread of this process (/proc/self/task/<tid>/stat).
double read_thread_cpu(pid_t tid);

// Tags the calling thread with a role for the sampler (e.g. "generator", "simulator").
void register_current_thread(const std::string& role);

struct proc_sample {
  steady::time_point at;
  cpu_rss bridge;
  cpu_rss self;
  std::vector<std::pair<std::string, double>> role_cpu_s;  // per role, summed over its threads
  std::uint64_t active_calls = 0;
};

class proc_sampler {
 public:
  // bridge_pid 0: no bridge is sampled. `active` is read at each sample.
  proc_sampler(pid_t bridge_pid, std::chrono::milliseconds interval, const std::atomic<std::uint64_t>& active);
  ~proc_sampler();  // stop()

  void start();
  void stop();
  [[nodiscard]] proc_sample sample_now() const;
  [[nodiscard]] std::vector<proc_sample> samples() const;

 private:
  pid_t bridge_pid_;
  std::chrono::milliseconds interval_;
  const std::atomic<std::uint64_t>& active_;
  mutable std::mutex mutex_;
  std::vector<proc_sample> samples_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace mb::tools::load
