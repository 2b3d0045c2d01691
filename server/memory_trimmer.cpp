#include "server/memory_trimmer.hpp"

#include <malloc.h>

#include <spdlog/spdlog.h>

#include "metrics/metrics.hpp"
#include "server/metrics_setup.hpp"

namespace mb::server {

#if defined(__GLIBC__)
namespace {

// Bytes the allocator has handed out and not taken back: in its arenas and in chunks mapped on their own.
std::size_t allocated_bytes() {
  const auto info = ::mallinfo2();
  return info.uordblks + info.hblkhd;
}

}  // namespace
#endif

memory_trimmer::memory_trimmer(std::chrono::milliseconds interval, std::size_t threshold_bytes)
    : interval_(interval), policy_(threshold_bytes), thread_([this] { run(); }) {}

memory_trimmer::~memory_trimmer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_one();
  thread_.join();
}

trim_stats memory_trimmer::stats() const { return {trims_.load(), bytes_returned_.load()}; }

void memory_trimmer::register_metrics(metrics::registry& r) const {
  r.add_counter_fn("mediabridge_memory_trims_total",
                   "Times the allocator's free memory was handed back to the system (malloc_trim).",
                   [this] { return static_cast<double>(trims_.load()); });
  r.add_counter_fn("mediabridge_memory_trimmed_bytes_total", "Resident memory those trims gave back.",
                   [this] { return static_cast<double>(bytes_returned_.load()); });
}

void memory_trimmer::run() {
  // The first sample, at startup, is the policy's first floor: a burst before the second one counts.
  std::unique_lock lock(mutex_);
  do {
    lock.unlock();
    sample();
    lock.lock();
  } while (!stop_requested_.wait_for(lock, interval_, [this] { return stopping_; }));
}

void memory_trimmer::sample() {
#if defined(__GLIBC__)
  const auto before = static_cast<std::size_t>(process_resident_bytes());
  if (!policy_.should_trim(before, allocated_bytes())) return;
  const auto started = std::chrono::steady_clock::now();
  ::malloc_trim(0);
  const auto took = std::chrono::steady_clock::now() - started;
  const auto after = static_cast<std::size_t>(process_resident_bytes());
  policy_.trimmed(after, allocated_bytes());
  const auto returned = before > after ? before - after : 0;
  ++trims_;
  bytes_returned_ += returned;
  spdlog::debug("memory: trimming the allocator's free memory gave back {} KiB in {} us (resident now {} KiB)",
                returned / 1024, std::chrono::duration_cast<std::chrono::microseconds>(took).count(), after / 1024);
#endif
}

}  // namespace mb::server
