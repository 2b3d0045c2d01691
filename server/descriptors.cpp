#include "server/descriptors.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>

namespace mb::server {

std::uint64_t open_descriptor_count(const std::string& proc) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (std::filesystem::directory_iterator it(proc + "/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

std::uint64_t descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<std::uint64_t>::max();
  return limit.rlim_cur;
}

fd_reserve::fd_reserve(std::size_t health_slots) : health_slots_(health_slots) {
  const std::lock_guard lock(mutex_);
  refill_locked();
}

fd_reserve::~fd_reserve() {
  for (const int fd : held_) ::close(fd);
}

fd_reserve::slot& fd_reserve::slot::operator=(slot&& other) noexcept {
  if (this != &other) {
    if (owner_) owner_->give_back(use_);
    owner_ = std::exchange(other.owner_, nullptr);
    use_ = other.use_;
  }
  return *this;
}

fd_reserve::slot::~slot() {
  if (owner_) owner_->give_back(use_);
}

std::optional<fd_reserve::slot> fd_reserve::take(use u) {
  const std::lock_guard lock(mutex_);
  if (in_use_ == health_slots_ + 1) return std::nullopt;
  if (u == use::health_check) {
    if (health_in_use_ == health_slots_) return std::nullopt;
    ++health_in_use_;
  }
  ++in_use_;
  if (!held_.empty()) {
    ::close(held_.back());
    held_.pop_back();
  }
  return slot(*this, u);
}

void fd_reserve::give_back(use u) {
  const std::lock_guard lock(mutex_);
  if (u == use::health_check) --health_in_use_;
  --in_use_;
  refill_locked();
}

void fd_reserve::refill() {
  const std::lock_guard lock(mutex_);
  refill_locked();
}

void fd_reserve::refill_locked() {
  while (held_.size() + in_use_ < health_slots_ + 1) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;  // still out of descriptors: the next refill() tries again
    held_.push_back(fd);
  }
}

std::size_t fd_reserve::free_health_slots() const {
  const std::lock_guard lock(mutex_);
  return std::min(health_slots_ - health_in_use_, health_slots_ + 1 - in_use_);
}

}  // namespace mb::server
