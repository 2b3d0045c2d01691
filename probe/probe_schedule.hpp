#pragma once
// When the prober runs each probed agent profile (docs/latency.md "The prober"), and which profiles
// PROBE_AGENTS selects. Pure: every call carries the shell's steady-clock time.
//
// Each profile runs once per interval. The first runs start `first_delay` after the prober starts and
// are staggered by min(interval / profiles, max_stagger), so that profiles do not connect at once (nor
// measure each other's load); every later run keeps its profile's phase. A profile whose previous run
// is still going when it is due skips that turn (at most one run per profile at a time), and a shell
// that wakes late (a suspended process) runs each overdue profile once, not once per missed turn.
//
// Thread safety: none. One per prober.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mb::probe {

// The profiles PROBE_AGENTS names, in `profiles` order: none for "", all for "*", else the names
// separated by commas (blanks around a name ignored; a name given twice counts once). nullopt with
// `error` for a name that is not one of `profiles`, or an empty name in the list.
[[nodiscard]] std::optional<std::vector<std::string>> select_probed(std::string_view spec,
                                                                    std::span<const std::string> profiles,
                                                                    std::string& error);

struct schedule_options {
  std::chrono::milliseconds interval{60000};
  std::chrono::milliseconds first_delay{2000};
  std::chrono::milliseconds max_stagger{10000};
};

class probe_schedule {
 public:
  using clock = std::chrono::steady_clock;

  probe_schedule(std::size_t profiles, schedule_options options, clock::time_point now);

  // The profiles due at `now` that are not running, appended to `out` and marked running; each due
  // profile's next turn is one interval later (past `now`).
  void take_due(clock::time_point now, std::vector<std::size_t>& out);
  // The run of `profile` is over.
  void finished(std::size_t profile);

  // The earliest due time (clock::time_point::max() without profiles).
  [[nodiscard]] clock::time_point next_wakeup() const noexcept;
  [[nodiscard]] bool running(std::size_t profile) const { return profiles_.at(profile).running; }
  // Turns skipped because the profile's previous run was still going.
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }

 private:
  struct profile_state {
    clock::time_point due;
    bool running = false;
  };

  std::vector<profile_state> profiles_;
  clock::duration interval_;
  std::uint64_t skipped_ = 0;
};

}  // namespace mb::probe
