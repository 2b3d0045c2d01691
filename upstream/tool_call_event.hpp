#pragma once
// The neutral event of a provider's tool call, shared by the adapters (docs/protocols.md I1–I3, I5).

#include <cstddef>
#include <string_view>

#include "protocol/tool_calls.hpp"
#include "upstream/event.hpp"

namespace mb::upstream {

// tool_call, or, when the call breaks a bound (protocol::check_tool_call), an error the call core logs
// and goes on from: the call is dropped, so the model gets no result for it. `arguments_bytes`: the
// arguments' size, which `arguments` may no longer hold when it was too large to keep.
inline event tool_call_event(std::string_view type_name, std::string_view call_id, std::string_view name,
                             std::string_view arguments, std::size_t arguments_bytes) {
  event ev;
  ev.type_name = type_name;
  if (const auto problem = protocol::check_tool_call(call_id, name, arguments_bytes)) {
    ev.kind = event_kind::error;
    ev.error = provider_error{error_scope::command, "invalid_tool_call", problem->code, problem->message, {}};
    return ev;
  }
  ev.kind = event_kind::tool_call;
  ev.tool_call_id = call_id;
  ev.tool_name = name;
  ev.tool_arguments = arguments;
  return ev;
}

}  // namespace mb::upstream
