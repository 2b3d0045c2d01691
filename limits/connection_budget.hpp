#pragma once
// How many sockets the server lets connections hold, so that running out of file descriptors is a
// limit the accept loop sees coming rather than an error every part of the process hits: when idle
// or hostile connections fill all they may, the running calls' upstream reconnects, DNS lookups and
// TLS certificate files, the call store and health checks still find descriptors.

#include <cstddef>
#include <cstdint>

namespace mb::limits {

// The sockets (accepted connections plus the calls' upstream sockets) the server may hold: the open
// file limit, minus the descriptors already open when it starts listening (logs, the call store, the
// io_contexts, the reserve), minus a spare for short-lived descriptors: max(32, limit / 32), but
// never more than half of what is left.
std::uint64_t socket_budget(std::uint64_t fd_limit, std::uint64_t fds_open) noexcept;

enum class admission {
  serve,        // an ordinary connection
  health_only,  // over the budget: takes a reserve slot, answers /healthz and /readyz (503 otherwise), closes
  shed,         // over the budget with every reserve slot busy: closed at once
};

// `sockets_in_use` counts the connection being admitted.
admission admit(std::uint64_t sockets_in_use, std::uint64_t budget, std::size_t free_reserve_slots) noexcept;

}  // namespace mb::limits
