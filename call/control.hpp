#pragma once
// What an operator asks of a live call from the dashboard or the API (docs/tools.md, operator
// controls). Delivered to the call's own thread (bridge::call_registry::send_command) and decided there
// by call_state, like the model's own call-control tools.

#include <string>
#include <variant>

namespace mb::call {

struct hang_up_command {};
// `destination`: a name from the agent profile's transfer allowlist; anything else is refused.
struct transfer_command { std::string destination; };
// Text the model takes as context and may answer.
struct message_command { std::string text; };

using operator_command = std::variant<hang_up_command, transfer_command, message_command>;

}  // namespace mb::call
