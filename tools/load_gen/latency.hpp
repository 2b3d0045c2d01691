#pragma once
// Latency distributions at µs resolution, recorded without locks: each thread records into its own
// log-linear histogram, and the run merges them once its threads have stopped.
//
// Buckets: 1 µs up to 10 ms, 100 µs up to 1 s, 10 ms up to 11 s; longer values land in the last
// bucket, but max is exact. Percentiles are the upper edge of the bucket that holds them.
//
// @par Thread Safety
// histogram: not thread-safe (one per thread). latency_set: record() from any thread; merged() once
// the recording threads are done.

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace mb::tools::load {

class latency_histogram {
 public:
  latency_histogram();
  void record(std::int64_t us) noexcept;
  void merge(const latency_histogram& other);

  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::int64_t max_us() const noexcept { return max_; }
  [[nodiscard]] double mean_us() const noexcept { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0; }
  // q in [0, 1]; 0 when empty.
  [[nodiscard]] std::int64_t percentile_us(double q) const noexcept;
  // Observations above `us`.
  [[nodiscard]] std::uint64_t count_above(std::int64_t us) const noexcept;

 private:
  static std::size_t bucket(std::int64_t us) noexcept;
  static std::int64_t upper_edge(std::size_t bucket) noexcept;

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::int64_t sum_ = 0;
  std::int64_t max_ = 0;
};

// One named distribution, recorded by several threads.
class latency_set {
 public:
  latency_set();
  latency_set(const latency_set&) = delete;
  latency_set& operator=(const latency_set&) = delete;
  void record(std::int64_t us);
  [[nodiscard]] latency_histogram merged() const;

 private:
  latency_histogram& mine();

  std::uint64_t id_;
  mutable std::mutex mutex_;  // guards the list, taken when a thread starts recording into this set
  std::vector<std::unique_ptr<latency_histogram>> per_thread_;
};

}  // namespace mb::tools::load
