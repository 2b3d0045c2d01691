#pragma once
// What an outbound call may dial and carry (docs/tools.md, "Outbound calls and campaigns"): a number
// in E.164 or a sip: URI, and {{variables}} for the agent's templates, bounded in count and size
// because they travel in the voice webhook's URL.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mb::campaign {

inline constexpr std::size_t max_sip_uri_bytes = 256;
inline constexpr std::size_t max_variables = 20;
inline constexpr std::size_t max_variable_value_bytes = 256;

using call_variables = std::vector<std::pair<std::string, std::string>>;

// "+" then 8-15 digits, the first not 0 (E.164), or "sip:" then a user@host of printable ASCII
// without spaces, quotes or angle brackets. nullopt when valid, else why not.
[[nodiscard]] std::optional<std::string> destination_problem(std::string_view number);

// Names as {{template}} names (1-64 of [A-Za-z0-9_.-]), at most max_variables of them, each value at
// most max_variable_value_bytes without control characters. nullopt when valid, else why not.
[[nodiscard]] std::optional<std::string> variable_problem(std::string_view name, std::string_view value);
[[nodiscard]] std::optional<std::string> variables_problem(const call_variables& variables);

}  // namespace mb::campaign

namespace mb::campaign {

// The variables' prefix in the voice webhook's query: ?var.<name>=<value>.
inline constexpr std::string_view variable_query_prefix = "var.";

// "agent=<agent>&var.<name>=<value>…", form-encoded (unreserved bytes as they are, the rest %XX); no
// agent field when `agent` is empty. The voice webhook passes these variables to the call's templates.
[[nodiscard]] std::string voice_webhook_query(std::string_view agent, const call_variables& variables);

}  // namespace mb::campaign
