#pragma once
// OpenAI Realtime GA over WebSocket (protocols.md A2–A8): parsing server events, building client events.
//
// Parsed string_views point into the thread's parser buffers (thread_parser, protocol/simdjson_parse.hpp)
// and the caller's input; they die at the next parse of the same kind on the same thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>
#include <simdjson.h>

#include "protocol/parse_error.hpp"
#include "protocol/session_config.hpp"
#include "protocol/upstream_error.hpp"

namespace mb::protocol {

enum class realtime_event_type {
  session_created,
  session_updated,
  error,
  speech_started,
  speech_stopped,
  input_audio_committed,
  input_transcription_delta,
  input_transcription_completed,
  input_transcription_failed,
  response_created,
  output_audio_delta,
  output_audio_done,
  output_audio_transcript_delta,
  output_audio_transcript_done,
  response_done,
  item_truncated,
  function_call_done,  // response.output_item.done with a completed function_call item (docs/protocols.md I1)
  dtmf_event_received,  // a SIP call's key, on its sideband (docs/protocols.md J4)
  ignored,  // a known event the bridge has no use for (rate_limits.updated, conversation.item.added, …)
  unknown,
};

struct token_usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t total_tokens = 0;
};

using realtime_error = upstream_error;

struct realtime_event {
  realtime_event_type type = realtime_event_type::unknown;
  std::string_view type_name;
  std::string_view response_id;
  std::string_view item_id;
  std::int64_t content_index = 0;
  std::string_view delta;       // audio (base64) or transcript text, by type
  std::string_view transcript;  // *.done / *.completed
  std::int64_t audio_start_ms = 0;
  std::int64_t audio_end_ms = 0;
  std::string_view input_format;   // session.*: audio.input.format.type
  std::string_view output_format;  // session.*: audio.output.format.type
  std::string_view status;         // response.done: completed|cancelled|failed|incomplete
  token_usage usage;               // response.done
  std::string_view call_id;        // function_call_done: the item's call_id, name and arguments (JSON text)
  std::string_view tool_name;
  std::string_view arguments;
  std::string_view dtmf_key;       // dtmf_event_received: the key as sent (checked by the adapter)
  realtime_error error;
};

class realtime_parser {
 public:
  // `json` must be followed by at least simdjson::SIMDJSON_PADDING readable bytes.
  std::optional<parse_error> parse(std::string_view json, std::size_t capacity, realtime_event& out);
};


// The event_id we give session.update, so that an error about it is recognised as fatal.
inline constexpr std::string_view session_update_event_id = "mb_session_update";
// The event_id of every conversation.item.truncate, so that an error about one counts as a rejection.
inline constexpr std::string_view truncate_event_id = "mb_truncate";

// GA shape: session.type "realtime", audio/pcmu both ways; the transcription's language and prompt
// only when they are set (protocols.md A2); the tools with tool_choice "auto" when there are any (I1).
std::string build_session_update(const session_config& config);
// session.update's session object; with session_audio_format::negotiated, no audio format (a SIP
// call's accept, J2).
boost::json::object realtime_session(const session_config& config, session_audio_format format);

// Hot path: appends to `out`; payload must be valid base64 (checked by the caller), so no escaping.
void build_input_audio_append(std::string& out, std::string_view payload_b64);

std::string build_item_truncate(std::string_view item_id, std::int64_t content_index, std::int64_t audio_end_ms);
std::string build_response_create(std::string_view instructions);  // empty: server defaults
std::string build_response_cancel();
// conversation.item.create of a text message; role "user" (input_text) or "assistant" (output_text).
std::string build_text_item(std::string_view role, std::string_view text);
// conversation.item.create of a function_call_output: `output_json` goes as the item's string `output` (I1).
std::string build_function_call_output(std::string_view call_id, std::string_view output_json);

}  // namespace mb::protocol
