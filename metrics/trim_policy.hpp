#pragma once
// When handing the allocator's free memory back to the system is worth a malloc_trim: from two
// process figures sampled now and then, the resident size and the bytes the allocator has handed out.
//
// Their difference, the "slack", is resident memory that holds no live allocation (plus a constant:
// the binary, thread stacks, pages pinned by a few live objects). A burst that ended leaves it high;
// the policy trims once the slack has grown `threshold_bytes` beyond its lowest value since the last
// trim, which is then the new floor. So it trims once per burst, also one that started and ended
// between two samples, and not again while nothing changes. (The free bytes the allocator reports
// would not do: pages already given back still count as free, and a burst that reuses them and
// frees them again leaves that figure where it was.)
//
// @par Thread Safety
// None: one owner.

#include <cstddef>
#include <optional>

namespace mb::metrics {

class trim_policy {
 public:
  explicit trim_policy(std::size_t threshold_bytes) noexcept : threshold_(threshold_bytes) {}

  // True: trim now, then report the figures after the trim with trimmed().
  bool should_trim(std::size_t resident_bytes, std::size_t in_use_bytes) noexcept;
  void trimmed(std::size_t resident_bytes, std::size_t in_use_bytes) noexcept;

 private:
  std::size_t threshold_;
  std::optional<std::size_t> floor_;  // the lowest slack since the last trim (or the first sample)
};

}  // namespace mb::metrics
