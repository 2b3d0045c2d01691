#pragma once
// Google's Gemini Live API over WebSocket (docs/protocols.md F1–F7): parsing server messages, building
// client messages.
//
// A Gemini message names its kind by its top-level field ({"serverContent": {…}}), and one message may
// carry several (serverContent with usageMetadata). The parser fills one flat struct with all of them,
// without allocating: string_views point into the thread's parser buffers (thread_parser,
// protocol/simdjson_parse.hpp), this parser's own and the caller's input, and die at the next parse
// on the same thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "protocol/parse_error.hpp"
#include "protocol/session_config.hpp"
#include "protocol/tool_calls.hpp"

namespace mb::protocol {

// The model when the session configuration names none: Google's stable Live model as of late 2026
// (docs/protocols.md F1).
inline constexpr std::string_view gemini_default_model = "gemini-3.8-live";

// Caller audio as the bridge sends it (F3).
inline constexpr int gemini_input_rate = 16000;
inline constexpr std::string_view gemini_input_mime = "audio/pcm;rate=16000";
// Model audio is PCM16 at this rate, whatever its mimeType says (F3).
inline constexpr int gemini_output_rate = 24000;

// Bounds on what one message may make the bridge hold (F6).
inline constexpr std::size_t max_gemini_audio_parts = 16;      // per modelTurn; later parts are dropped
inline constexpr std::size_t max_gemini_handle_bytes = 4096;   // a longer resumption handle is not kept
inline constexpr std::size_t max_gemini_history_turns = 128;   // replayed turns; older ones are left out
inline constexpr std::int64_t max_gemini_time_left_ms = 24LL * 3600 * 1000;  // goAway.timeLeft is clamped

struct gemini_audio_part {
  std::string_view mime_type;  // e.g. "audio/pcm;rate=24000"
  std::string_view data_b64;
};

// inputTranscription / outputTranscription (F4).
struct gemini_transcription {
  bool present = false;
  std::string_view text;
  bool finished = false;
};

// toolCall.functionCalls[] (docs/protocols.md I3): `arguments` is `args` serialised (an object; "{}"
// when absent), or empty when it is over max_tool_arguments_bytes (its size still in arguments_bytes).
struct gemini_function_call {
  std::string_view id;
  std::string_view name;
  std::string_view arguments;
  std::size_t arguments_bytes = 0;
};

// usageMetadata: token counts of the model's response (F4).
struct gemini_usage {
  bool present = false;
  std::int64_t prompt_tokens = 0;
  std::int64_t response_tokens = 0;
  std::int64_t total_tokens = 0;
};

// An error object in the shape of Google's APIs ({"error": {"code", "message", "status"}}); the Live
// API documents none in band and reports failures as close frames (F6).
struct gemini_error {
  bool present = false;
  std::int64_t code = 0;
  std::string_view status;
  std::string_view message;
};

struct gemini_message {
  // The message's first known top-level field ("serverContent", …), or its first field when it has
  // none the bridge knows; for logs.
  std::string_view type_name;
  bool known = false;  // at least one top-level field the bridge knows

  bool setup_complete = false;

  // serverContent
  bool server_content = false;
  std::array<gemini_audio_part, max_gemini_audio_parts> audio_parts{};
  std::size_t audio_part_count = 0;
  std::size_t audio_parts_dropped = 0;  // beyond max_gemini_audio_parts
  bool interrupted = false;
  bool generation_complete = false;
  bool turn_complete = false;
  gemini_transcription input_transcription;
  gemini_transcription output_transcription;

  // goAway: the connection ends in time_left_ms (0 when timeLeft is absent or unreadable).
  bool go_away = false;
  std::int64_t time_left_ms = 0;

  // sessionResumptionUpdate
  bool resumption_update = false;
  bool resumable = false;
  std::string_view new_handle;

  gemini_usage usage;

  // toolCall and toolCallCancellation (I3): at most max_tool_calls_per_message of each are kept.
  std::array<gemini_function_call, max_tool_calls_per_message> function_calls{};
  std::size_t function_call_count = 0;
  std::array<std::string_view, max_tool_calls_per_message> cancelled_ids{};
  std::size_t cancelled_id_count = 0;
  std::size_t tool_entries_dropped = 0;  // calls and ids beyond the bound

  gemini_error error;
};

class gemini_parser {
 public:
  // `json` must be followed by at least simdjson::SIMDJSON_PADDING readable bytes within `capacity`,
  // or it is parsed from a copy.
  std::optional<parse_error> parse(std::string_view json, std::size_t capacity, gemini_message& out);

 private:
  // The serialised args of each function call (gemini_function_call::arguments points here).
  std::array<std::string, max_tool_calls_per_message> arguments_;
};

// A protobuf JSON Duration ("59s", "1.5s", "0.250000000s") in whole ms, at most
// max_gemini_time_left_ms; nullopt when it is not one. Negative durations are 0.
[[nodiscard]] std::optional<std::int64_t> parse_gemini_duration_ms(std::string_view text) noexcept;

// "models/<id>": the model as setup wants it; `model` may carry the prefix already, and an empty one
// means gemini_default_model.
[[nodiscard]] std::string gemini_model_name(std::string_view model);

// The setup message, the first of every connection (F2). `resume_handle`: the session to resume;
// empty: a new session. The tools as functionDeclarations when there are any (I3).
[[nodiscard]] std::string build_gemini_setup(const session_config& config, std::string_view resume_handle);

// Hot path: appends realtimeInput.audio to `out`; `pcm16_b64` is base64 we encoded, so no escaping.
void build_gemini_audio_input(std::string& out, std::string_view pcm16_b64);

enum class gemini_role { user, model };

struct gemini_history_turn {
  gemini_role role;
  std::string_view text;
};

// The conversation so far as clientContent turns with turnComplete false, so the model answers nothing
// yet: the newest max_gemini_history_turns non-empty turns. nullopt when none is left.
[[nodiscard]] std::optional<std::string> build_gemini_history(std::span<const gemini_history_turn> history);

// clientContent of one user turn of text: the greeting (F2) and context text (I4). `turn_complete`:
// the model answers it now.
[[nodiscard]] std::string build_gemini_user_text(std::string_view text, bool turn_complete);

// toolResponse with one functionResponse {id, name, response: {output}}; `output_json` is embedded as
// JSON, or as a string when it is not JSON (I3).
[[nodiscard]] std::string build_gemini_tool_response(std::string_view id, std::string_view name,
                                                     std::string_view output_json);

}  // namespace mb::protocol
