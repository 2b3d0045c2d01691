#pragma once
// The process's file descriptors: how many are open, the limit, and a small reserve held on
// /dev/null that is handed back, one descriptor at a time, to take connections when the process has
// run out (or the socket budget is spent: limits/connection_budget.hpp).

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mb::server {

// Entries of <proc>/fd, `proc` being "/proc/self" (the scan itself holds one) or "/proc/<pid>"; 0 when
// it cannot be read (out of descriptors).
std::uint64_t open_descriptor_count(const std::string& proc = "/proc/self");
// The soft RLIMIT_NOFILE; the largest value for "unlimited".
std::uint64_t descriptor_limit();

// `health_slots` descriptors for connections that answer health checks, plus one more to accept and
// close at once a queued connection when every health slot is busy and the process is out of
// descriptors (so that the listen queue drains instead of holding health checks behind it).
//
// @par Thread Safety
// All members are thread-safe; slots may be released on any thread.
class fd_reserve {
 public:
  explicit fd_reserve(std::size_t health_slots);  // opens what it can
  ~fd_reserve();
  fd_reserve(const fd_reserve&) = delete;
  fd_reserve& operator=(const fd_reserve&) = delete;

  enum class use { health_check, shed };

  // One reserve descriptor in use: closed for a connection to take; reopened when the slot is
  // destroyed (after the connection's socket, if declared before it).
  class slot {
   public:
    slot(slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)), use_(other.use_) {}
    slot& operator=(slot&& other) noexcept;
    ~slot();
    [[nodiscard]] use used_for() const noexcept { return use_; }

   private:
    friend class fd_reserve;
    slot(fd_reserve& owner, use u) : owner_(&owner), use_(u) {}
    fd_reserve* owner_;
    use use_;
  };

  // Closes one held descriptor and returns its slot; nothing when no slot for `u` is free.
  std::optional<slot> take(use u);
  // Reopens descriptors that could not be reopened when their slot ended (the process was still out).
  void refill();
  [[nodiscard]] std::size_t free_health_slots() const;

 private:
  void give_back(use u);
  void refill_locked();

  mutable std::mutex mutex_;
  std::size_t health_slots_;
  std::size_t health_in_use_ = 0;
  std::size_t in_use_ = 0;  // health slots and the shedding one
  std::vector<int> held_;
};

}  // namespace mb::server
