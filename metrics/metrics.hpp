#pragma once
// Prometheus metrics without locks on the hot path: counters, gauges and fixed-bucket histograms, a
// registry that names them, and the text exposition format (version 0.0.4) that GET /metrics serves.
//
// Updates are relaxed atomic adds on cells the updating thread owns: each metric keeps `shard_count`
// cache-line-sized cells and a thread adds to the cell picked by its thread-local shard index, so the
// I/O threads (one per core) never share a cache line and an update costs a few nanoseconds. Reading
// (a scrape) sums the cells; a value read while updates run is a valid recent value, not a snapshot
// across metrics.
//
// Units follow Prometheus conventions: durations are observed as std::chrono durations and exposed in
// seconds; names carry their unit (`_seconds`, `_bytes`) and counters end in `_total`.
//
// @par Thread Safety
// counter, gauge and histogram updates and reads: any thread. registry: register and render from any
// thread (a mutex guards the list of metrics; the metrics' own updates never take it). Metrics live as
// long as their registry and never move.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb::metrics {

inline constexpr std::size_t shard_count = 8;
inline constexpr std::size_t cache_line_bytes = 64;

namespace detail {
inline constexpr std::uint32_t unassigned_shard = ~0U;
std::uint32_t assign_shard() noexcept;
// Constant-initialised, so reading it needs no TLS wrapper call.
inline thread_local std::uint32_t this_shard = unassigned_shard;
}  // namespace detail

// This thread's cell index: assigned round-robin on first use.
inline std::size_t this_thread_shard() noexcept {
  if (detail::this_shard == detail::unassigned_shard) detail::this_shard = detail::assign_shard();
  return detail::this_shard;
}

class counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { cells_[this_thread_shard()].value.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept;

 private:
  struct alignas(cache_line_bytes) cell {
    std::atomic<std::uint64_t> value{0};
  };
  std::array<cell, shard_count> cells_;
};

// A value that goes up and down (active calls). Changes are per call, not per frame: one atomic.
class gauge {
 public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Durations in fixed buckets. Bounds are upper bounds in seconds, ascending; +Inf is implicit.
class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds_s);

  void observe(std::chrono::nanoseconds d) noexcept;

  struct snapshot {
    std::vector<double> upper_bounds_s;
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (= count)
    double sum_s = 0;
    std::uint64_t count = 0;
  };
  [[nodiscard]] snapshot collect() const;

 private:
  // Per shard: one counter per bucket (+Inf included), then the sum in ns; padded to whole cache lines.
  [[nodiscard]] std::atomic<std::uint64_t>* shard(std::size_t s) const noexcept { return cells_.get() + s * stride_; }

  std::vector<double> bounds_s_;
  std::vector<std::int64_t> bounds_ns_;
  std::size_t stride_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> cells_;
};

// Bucket sets used across the project, in seconds.
namespace buckets {
// Relay latency inside the process: 10 µs … 1 s.
std::vector<double> relay();
// Network round trips and handshakes: 1 ms … 30 s.
std::vector<double> network();
// Conversational turns: 50 ms … 30 s.
std::vector<double> turn();
}  // namespace buckets

using label_list = std::vector<std::pair<std::string, std::string>>;

class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Series of one family share name, help and type; register them with the same name and help.
  counter& add_counter(std::string_view name, std::string_view help, label_list labels = {});
  gauge& add_gauge(std::string_view name, std::string_view help, label_list labels = {});
  histogram& add_histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds_s,
                           label_list labels = {});
  // Values owned elsewhere (another component's atomics), read at each scrape. `read` must be
  // thread-safe and must not call back into the registry.
  void add_counter_fn(std::string_view name, std::string_view help, std::function<double()> read,
                      label_list labels = {});
  void add_gauge_fn(std::string_view name, std::string_view help, std::function<double()> read,
                    label_list labels = {});

  // The Prometheus text exposition format, families in registration order.
  [[nodiscard]] std::string render() const;

 private:
  enum class kind { counter, gauge, histogram };
  struct series {
    label_list labels;
    std::unique_ptr<counter> c;
    std::unique_ptr<gauge> g;
    std::unique_ptr<histogram> h;
    std::function<double()> read;
  };
  struct family {
    std::string name;
    std::string help;
    kind type;
    std::vector<series> members;
  };
  series& add(std::string_view name, std::string_view help, kind type, label_list labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family>> families_;
};

// The content type of render()'s output.
inline constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace mb::metrics
