#include "probe/probe_run.hpp"

namespace mb::probe {

std::optional<stage> stage_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < stage_count; ++i)
    if (to_string(static_cast<stage>(i)) == name) return static_cast<stage>(i);
  return std::nullopt;
}

std::optional<error_kind> error_kind_from_string(std::string_view name) noexcept {
  for (const auto e : {error_kind::none, error_kind::connect, error_kind::auth, error_kind::timeout, error_kind::protocol})
    if (to_string(e) == name) return e;
  return std::nullopt;
}

}  // namespace mb::probe
