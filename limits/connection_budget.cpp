#include "limits/connection_budget.hpp"

#include <algorithm>

namespace mb::limits {

std::uint64_t socket_budget(std::uint64_t fd_limit, std::uint64_t fds_open) noexcept {
  if (fd_limit <= fds_open) return 0;
  const std::uint64_t left = fd_limit - fds_open;
  const std::uint64_t spare = std::min(std::max<std::uint64_t>(32, fd_limit / 32), left / 2);
  return left - spare;
}

admission admit(std::uint64_t sockets_in_use, std::uint64_t budget, std::size_t free_reserve_slots) noexcept {
  if (sockets_in_use <= budget) return admission::serve;
  return free_reserve_slots > 0 ? admission::health_only : admission::shed;
}

}  // namespace mb::limits
