#pragma once
// Scripted tool calls of the simulated model: which tool it calls on which caller turn, the tools
// a session declared (each protocol spells them its own way), and the words it speaks about a
// tool's result. Pure; the sessions (realtime_session, live_session, gemini_session) act on it.
//
// A script comes from simulator_options::tool_call_script, or, for one session, from lines of its
// instructions (Realtime and GPT-Live `instructions`, Gemini systemInstruction text) of the form
//     sim-tool-call: <turn>:<tool>[:<arguments JSON object>]
// which replace the simulator's script for that session (so each agent of a test can script its own).
// A scripted call whose tool the session did not declare is not made: the model only calls tools it
// was given.
//
// @par Thread Safety
// Pure functions and plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace mb::simulator {

struct scripted_tool_call {
  std::uint32_t turn = 1;           // 1-based caller turn after which the model calls it
  std::string tool;
  std::string arguments_json = "{}";  // a JSON object
};

struct declared_tool {
  std::string name;
  std::string parameters_json;  // as declared, serialized ("" when none was given)
};

// A call the simulated model made.
struct tool_call_record {
  std::string call_id;
  std::string name;
  std::string arguments_json;
  std::uint32_t turn = 0;  // the caller turn it followed
};

// A result the client sent for a call.
struct tool_result_record {
  std::string call_id;
  std::string output;  // Realtime and GPT-Live: the output string; Gemini: the response object, serialized
};

// The tool the model calls to hang up: it says goodbye first (goodbye_text).
inline constexpr std::string_view end_call_tool = "end_call";
inline constexpr std::string_view goodbye_text = "Thank you for calling, goodbye.";
inline constexpr std::string_view script_line_prefix = "sim-tool-call:";

// "<turn>:<tool>[:<arguments>]": turn >= 1, a tool name of 1-64 letters, digits, '_' or '-', the
// arguments a JSON object (default {}). nullopt otherwise.
[[nodiscard]] std::optional<scripted_tool_call> parse_tool_call(std::string_view spec);

// The script lines of `instructions` (malformed ones are skipped); nullopt when it has none.
[[nodiscard]] std::optional<std::vector<scripted_tool_call>> script_in_instructions(std::string_view instructions);

// Realtime session.tools and Responses tools: [{type:"function", name, description?, parameters?}].
// Entries that are not named functions are skipped.
[[nodiscard]] std::vector<declared_tool> function_tools(const boost::json::value& tools);
// Gemini setup.tools: [{functionDeclarations:[{name, description?, parameters?}]}].
[[nodiscard]] std::vector<declared_tool> gemini_function_declarations(const boost::json::value& tools);

// The call due after caller turn `turn` whose tool is declared, or nullptr.
[[nodiscard]] const scripted_tool_call* due_tool_call(const std::vector<scripted_tool_call>& script,
                                                      std::uint32_t turn, const std::vector<declared_tool>& declared);

// What the model says about a tool's output: "The tool answered: <output>", the output cut to 400
// bytes (on a UTF-8 boundary) and JSON-escaped, so its words can go into JSON strings as they are.
[[nodiscard]] std::string tool_answer_text(std::string_view output);
// The text of a JSON-escaped string body (tool_answer_text's words, or a prefix of them cut at a space).
[[nodiscard]] std::string unescaped(std::string_view escaped);

}  // namespace mb::simulator
