#pragma once
// The upstream protocols the bridge speaks, by the names operators use (PROVIDER, an agent profile's
// "provider"), and the adapter for each.

#include <memory>
#include <optional>
#include <string_view>

namespace mb::upstream {

class adapter;

enum class provider_kind {
  openai_realtime,  // OpenAI's Realtime API (GA)
  openai_live,      // OpenAI's GPT-Live
  azure_realtime,   // the Realtime API (GA) on Azure OpenAI: OpenAI's events, Azure's URL, key and cap
  azure_live,       // GPT-Live on Azure OpenAI (preview)
  gemini_live,      // Google's Gemini Live API
};

inline constexpr provider_kind all_providers[] = {provider_kind::openai_realtime, provider_kind::openai_live,
                                                  provider_kind::azure_realtime, provider_kind::azure_live,
                                                  provider_kind::gemini_live};

[[nodiscard]] std::string_view to_string(provider_kind p) noexcept;
[[nodiscard]] std::optional<provider_kind> provider_from_name(std::string_view name) noexcept;
// "openai-realtime, openai-live, ...": for error messages and docs.
[[nodiscard]] std::string provider_names();

// A fresh adapter for one call.
[[nodiscard]] std::unique_ptr<adapter> make_adapter(provider_kind p);

}  // namespace mb::upstream
