#pragma once
// An outbound call's status as Twilio's status callbacks report it (docs/protocols.md H3), plus
// `pending` for a campaign row not dialled yet. Statuses only move forward: callbacks may arrive out
// of order or twice, and a final status is never replaced.
//
// @par Thread Safety
// Pure functions.

#include <cstddef>
#include <optional>
#include <string_view>

namespace mb::campaign {

enum class call_status { pending, queued, ringing, in_progress, completed, busy, failed, no_answer, canceled };

inline constexpr std::size_t call_status_count = 9;

[[nodiscard]] std::string_view status_name(call_status s);  // "in-progress", "no-answer", …
// Twilio's CallStatus values; "initiated" is queued. nullopt for anything else (pending included).
[[nodiscard]] std::optional<call_status> parse_call_status(std::string_view twilio_status);
[[nodiscard]] bool is_final(call_status s);
// Queued, ringing or in progress: the call counts against a campaign's max_active.
[[nodiscard]] bool is_active(call_status s);
// Whether a call at `current` takes `reported`: forward moves only, never out of a final status.
[[nodiscard]] bool moves_to(call_status current, call_status reported);

}  // namespace mb::campaign
