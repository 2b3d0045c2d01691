#pragma once
// A FIFO queue in a ring of reused slots. pop_front() leaves the element's slot as it is, and a later
// append() hands that same object back to be filled in again, so elements that own memory (strings)
// keep their capacity: once the ring has reached its working depth, queueing allocates nothing.
// Growth (doubling, order kept) happens only when every slot is queued.
//
// @par Thread safety
// Not thread-safe.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace mb::containers {

template <class T>
class ring {
 public:
  // `first_slots`: how many slots the first append() makes (at least one).
  explicit ring(std::size_t first_slots = 16) : first_slots_(std::max<std::size_t>(first_slots, 1)) {}

  // Appends an element and returns it to be filled in. A reused slot still holds what it held last:
  // overwrite every part of it.
  T& append() {
    if (count_ == slots_.size()) grow();
    ++count_;
    return back();
  }

  // The element stays in its slot, unchanged until append() reuses it: references to it stay valid
  // until then.
  void pop_front() noexcept {
    assert(count_ > 0);
    head_ = (head_ + 1) % slots_.size();
    --count_;
  }
  // Like pop_front() for every element.
  void clear() noexcept {
    head_ = 0;
    count_ = 0;
  }

  [[nodiscard]] T& front() noexcept { return slots_[head_]; }
  [[nodiscard]] const T& front() const noexcept { return slots_[head_]; }
  [[nodiscard]] T& back() noexcept { return slots_[(head_ + count_ - 1) % slots_.size()]; }
  [[nodiscard]] const T& back() const noexcept { return slots_[(head_ + count_ - 1) % slots_.size()]; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::size_t slots() const noexcept { return slots_.size(); }

 private:
  void grow() {
    // Elements move (a string's heap buffer with it); the slots past them start empty.
    std::vector<T> bigger(std::max(first_slots_, 2 * slots_.size()));
    for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(slots_[(head_ + i) % slots_.size()]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t first_slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

}  // namespace mb::containers
