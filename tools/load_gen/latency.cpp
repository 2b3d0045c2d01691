#include "tools/load_gen/latency.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>

namespace mb::tools::load {
namespace {

constexpr std::int64_t fine_limit_us = 10'000;       // 1 µs buckets below
constexpr std::int64_t medium_limit_us = 1'000'000;  // 100 µs buckets below
constexpr std::int64_t medium_step_us = 100;
constexpr std::int64_t coarse_step_us = 10'000;
constexpr std::size_t fine_buckets = fine_limit_us;
constexpr std::size_t medium_buckets = (medium_limit_us - fine_limit_us) / medium_step_us;
constexpr std::size_t coarse_buckets = 1000;
constexpr std::size_t total_buckets = fine_buckets + medium_buckets + coarse_buckets;

}  // namespace

latency_histogram::latency_histogram() : counts_(total_buckets, 0) {}

std::size_t latency_histogram::bucket(std::int64_t us) noexcept {
  if (us < fine_limit_us) return static_cast<std::size_t>(std::max<std::int64_t>(0, us));
  if (us < medium_limit_us) return fine_buckets + static_cast<std::size_t>((us - fine_limit_us) / medium_step_us);
  return fine_buckets + medium_buckets +
         std::min(coarse_buckets - 1, static_cast<std::size_t>((us - medium_limit_us) / coarse_step_us));
}

std::int64_t latency_histogram::upper_edge(std::size_t b) noexcept {
  if (b < fine_buckets) return static_cast<std::int64_t>(b);
  if (b < fine_buckets + medium_buckets)
    return fine_limit_us + static_cast<std::int64_t>(b - fine_buckets + 1) * medium_step_us;
  return medium_limit_us + static_cast<std::int64_t>(b - fine_buckets - medium_buckets + 1) * coarse_step_us;
}

void latency_histogram::record(std::int64_t us) noexcept {
  us = std::max<std::int64_t>(0, us);
  ++counts_[bucket(us)];
  ++count_;
  sum_ += us;
  max_ = std::max(max_, us);
}

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

std::int64_t latency_histogram::percentile_us(double q) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::min(upper_edge(b), max_);
  }
  return max_;
}

std::uint64_t latency_histogram::count_above(std::int64_t us) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t b = bucket(us) + 1; b < counts_.size(); ++b) n += counts_[b];
  return n;
}

latency_set::latency_set() {
  static std::atomic<std::uint64_t> next{1};
  id_ = next.fetch_add(1, std::memory_order_relaxed);
}

latency_histogram& latency_set::mine() {
  // A thread records into a few sets in turn: remember its histogram in each of the last ones. Ids,
  // not addresses, so that a set allocated where a destroyed one lived is not mistaken for it.
  struct entry {
    std::uint64_t id = 0;
    latency_histogram* histogram = nullptr;
  };
  thread_local std::array<entry, 8> cache{};
  thread_local std::size_t next_slot = 0;
  for (const auto& e : cache)
    if (e.id == id_) return *e.histogram;
  std::lock_guard lock(mutex_);
  per_thread_.push_back(std::make_unique<latency_histogram>());
  cache[next_slot] = {id_, per_thread_.back().get()};
  next_slot = (next_slot + 1) % cache.size();
  return *per_thread_.back();
}

void latency_set::record(std::int64_t us) { mine().record(us); }

latency_histogram latency_set::merged() const {
  latency_histogram all;
  std::lock_guard lock(mutex_);
  for (const auto& h : per_thread_) all.merge(*h);
  return all;
}

}  // namespace mb::tools::load
