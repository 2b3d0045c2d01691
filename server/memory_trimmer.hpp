#pragma once
// Hands memory the allocator holds free back to the system, off the hot path.
//
// glibc keeps freed memory in its arenas (one per allocating thread, up to 8 per core) and returns
// little of it by itself: after a burst (thousands of sockets opened and closed, a flood of events)
// the resident size stays near its peak although the memory is free (docs/performance.md, "Memory
// after bursts"). A thread of its own samples the resident size and the bytes in use (mallinfo2)
// every `interval`; when metrics::trim_policy says a burst has left enough resident free memory, it
// calls malloc_trim(0), which gives the free pages of every arena back. That holds each arena's lock
// for a few ms: never on an I/O thread, and at most once per interval.
//
// @par Thread Safety
// stats() from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>

#include "metrics/trim_policy.hpp"

namespace mb::metrics {
class registry;
}

namespace mb::server {

struct trim_stats {
  std::uint64_t trims = 0;
  std::uint64_t bytes_returned = 0;  // resident size before minus after, summed over the trims
};

class memory_trimmer {
 public:
  memory_trimmer(std::chrono::milliseconds interval, std::size_t threshold_bytes);
  ~memory_trimmer();  // stops the thread
  memory_trimmer(const memory_trimmer&) = delete;
  memory_trimmer& operator=(const memory_trimmer&) = delete;

  [[nodiscard]] trim_stats stats() const;
  // `r` must not be scraped after this trimmer is gone.
  void register_metrics(metrics::registry& r) const;

 private:
  void run();
  void sample();

  std::chrono::milliseconds interval_;
  metrics::trim_policy policy_;  // the trimmer's thread only
  std::atomic<std::uint64_t> trims_{0};
  std::atomic<std::uint64_t> bytes_returned_{0};
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace mb::server
