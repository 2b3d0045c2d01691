#pragma once
// What the three upstream protocols share about tools (docs/protocols.md I1–I3): the bounds on a tool
// call the bridge takes from a provider, and a declaration's function fields as JSON.

#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "protocol/session_config.hpp"

namespace mb::protocol {

// A tool call from the provider is peer input: each is bounded before the call core sees it (I5).
inline constexpr std::size_t max_tool_call_id_bytes = 128;
inline constexpr std::size_t max_tool_name_bytes = 64;       // as tool_declaration::name
inline constexpr std::size_t max_tool_arguments_bytes = 16 * 1024;
// Gemini carries several calls (and cancellations) in one message; later ones are dropped.
inline constexpr std::size_t max_tool_calls_per_message = 16;

// How deep a tool's arguments or result may nest when the bridge re-reads them: simdjson's default,
// so that args Gemini sent (parsed by simdjson) can be embedded again (Boost.JSON's default is 32).
inline constexpr std::size_t max_json_depth = 1024;

// Why a tool call is dropped: a code and a fixed sentence for the error event the call core logs.
struct tool_call_problem {
  std::string_view code;
  std::string_view message;
};

// nullopt: the call may be dispatched. The id must be 1–128 bytes, the name 1–64 characters of
// [A-Za-z0-9_-] (what a declaration allows), the arguments at most 16 KiB.
[[nodiscard]] std::optional<tool_call_problem> check_tool_call(std::string_view call_id, std::string_view name,
                                                               std::size_t arguments_bytes) noexcept;

// The problem of a message with more than max_tool_calls_per_message calls or cancellations.
inline constexpr tool_call_problem too_many_tool_calls{
    "too_many_tool_calls", "a message carried more than 16 tool calls or cancellations: the rest were dropped"};

// Adds `name`, `description` and `parameters` (the schema embedded as JSON, not as a string; an empty
// parameters_json is an object schema without properties) to `out`. False, and `out` untouched, when
// parameters_json is not a JSON object: the profile reader rejects that first, and a tool the model
// could not call correctly is better left undeclared.
[[nodiscard]] bool add_function_fields(const tool_declaration& tool, boost::json::object& out);

}  // namespace mb::protocol
