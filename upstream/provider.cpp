#include "upstream/provider.hpp"

#include <string>

#include "upstream/gemini_adapter.hpp"
#include "upstream/live_adapter.hpp"
#include "upstream/realtime_adapter.hpp"

namespace mb::upstream {

std::string_view to_string(provider_kind p) noexcept {
  switch (p) {
    case provider_kind::openai_realtime: return "openai-realtime";
    case provider_kind::openai_live: return "openai-live";
    case provider_kind::azure_realtime: return "azure-realtime";
    case provider_kind::azure_live: return "azure-live";
    case provider_kind::gemini_live: return "gemini";
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
    case provider_kind::openai_realtime:
      return std::make_unique<realtime_adapter>(to_string(p), openai_realtime_lifecycle);
    case provider_kind::azure_realtime:
      return std::make_unique<realtime_adapter>(to_string(p), azure_realtime_lifecycle);
    case provider_kind::openai_live:
    case provider_kind::azure_live: return std::make_unique<live_adapter>(to_string(p));
    case provider_kind::gemini_live: return std::make_unique<gemini_adapter>();
  }
  return std::make_unique<realtime_adapter>(to_string(p), openai_realtime_lifecycle);
}

}  // namespace mb::upstream
