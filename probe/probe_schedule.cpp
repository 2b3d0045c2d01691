#include "probe/probe_schedule.hpp"

#include <algorithm>

#include "log/escape.hpp"

namespace mb::probe {
namespace {

std::string_view trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::optional<std::vector<std::string>> select_probed(std::string_view spec, std::span<const std::string> profiles,
                                                      std::string& error) {
  spec = trimmed(spec);
  if (spec.empty()) return std::vector<std::string>{};
  if (spec == "*") return std::vector<std::string>(profiles.begin(), profiles.end());
  std::vector<bool> chosen(profiles.size(), false);
  while (true) {
    const auto comma = spec.find(',');
    const auto name = trimmed(spec.substr(0, comma));
    if (name.empty()) {
      error = "an empty profile name in the list";
      return std::nullopt;
    }
    const auto it = std::find(profiles.begin(), profiles.end(), name);
    if (it == profiles.end()) {
      error = "no agent profile is named '" + log::escape_for_log(name, log::name_bytes) + "'";
      return std::nullopt;
    }
    chosen[static_cast<std::size_t>(it - profiles.begin())] = true;
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  std::vector<std::string> selected;
  for (std::size_t i = 0; i < profiles.size(); ++i)
    if (chosen[i]) selected.push_back(profiles[i]);
  return selected;
}

probe_schedule::probe_schedule(std::size_t profiles, schedule_options options, clock::time_point now)
    : profiles_(profiles), interval_(std::max<clock::duration>(options.interval, std::chrono::milliseconds(1))) {
  const clock::duration stagger =
      profiles == 0 ? clock::duration{}
                    : std::min<clock::duration>(interval_ / static_cast<clock::rep>(profiles), options.max_stagger);
  for (std::size_t i = 0; i < profiles; ++i)
    profiles_[i].due = now + options.first_delay + stagger * static_cast<clock::rep>(i);
}

void probe_schedule::take_due(clock::time_point now, std::vector<std::size_t>& out) {
  for (std::size_t i = 0; i < profiles_.size(); ++i) {
    auto& p = profiles_[i];
    if (p.due > now) continue;
    if (p.running) {
      ++skipped_;
    } else {
      p.running = true;
      out.push_back(i);
    }
    // Keep the profile's phase; a late wake-up runs once, not once per missed turn.
    const auto missed = (now - p.due) / interval_;
    p.due += interval_ * (missed + 1);
  }
}

void probe_schedule::finished(std::size_t profile) { profiles_.at(profile).running = false; }

probe_schedule::clock::time_point probe_schedule::next_wakeup() const noexcept {
  auto earliest = clock::time_point::max();
  for (const auto& p : profiles_) earliest = std::min(earliest, p.due);
  return earliest;
}

}  // namespace mb::probe
