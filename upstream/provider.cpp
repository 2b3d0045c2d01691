#include "upstream/provider.hpp"

#include <string>

#include "upstream/live_adapter.hpp"
#include "upstream/realtime_adapter.hpp"

namespace mb::upstream {

std::string_view to_string(provider_kind p) noexcept {
  switch (p) {
    case provider_kind::openai_realtime: return "openai-realtime";
    case provider_kind::openai_live: return "openai-live";
  }
  return "unknown";
}

std::optional<provider_kind> provider_from_name(std::string_view name) noexcept {
  for (const auto p : all_providers)
    if (to_string(p) == name) return p;
  return std::nullopt;
}

std::string provider_names() {
  std::string names;
  for (const auto p : all_providers) {
    if (!names.empty()) names += ", ";
    names += to_string(p);
  }
  return names;
}

std::unique_ptr<adapter> make_adapter(provider_kind p) {
  switch (p) {
    case provider_kind::openai_realtime: return std::make_unique<realtime_adapter>();
    case provider_kind::openai_live: return std::make_unique<live_adapter>();
  }
  return std::make_unique<realtime_adapter>();
}

}  // namespace mb::upstream
