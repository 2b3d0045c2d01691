#pragma once
// OpenAI GPT-Live over WebSocket (docs/protocols.md D2–D8): parsing server events, building client events.
//
// Parsed string_views point into the thread's parser buffers (thread_parser, protocol/simdjson_parse.hpp)
// and the caller's input; they die at the next parse of the same kind on the same thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>
#include <simdjson.h>

#include "protocol/parse_error.hpp"
#include "protocol/session_config.hpp"
#include "protocol/upstream_error.hpp"

namespace mb::protocol {

enum class live_event_type {
  session_started,
  session_updated,
  output_audio_delta,
  input_transcript_delta,
  output_transcript_delta,
  session_closed,
  error,
  usage_updated,
  function_call,  // response.event wrapping response.output_item.done with a completed function_call (I2)
  dtmf_received,  // transport.dtmf.received: a SIP call's key, on its sideband (docs/protocols.md J4)
  ignored,  // a known event the bridge has no use for (delegation, acknowledgements, info, …)
  unknown,
};

struct live_event {
  live_event_type type = live_event_type::unknown;
  std::string_view type_name;
  std::string_view delta;  // audio (base64) or transcript text, by type
  // Server timeline, ms from the session's start; optional on audio deltas (docs/protocols.md D4).
  std::optional<std::int64_t> start_ms;
  std::optional<std::int64_t> end_ms;
  // session.started / session.updated: session.audio.format (one format for both directions, D2).
  std::string_view audio_format;  // its type; empty when the session has no audio.format
  std::int64_t audio_rate = 0;    // Hz; 0 when absent
  std::string_view model;
  std::int64_t expires_at = 0;    // unix seconds; 0 when absent
  std::string_view reason;        // session.closed (D7)
  std::int64_t usage_seconds = 0; // session.usage.updated, session.closed: cumulative audio seconds
  upstream_error error;  // its event_id is the message's client_event_id
  std::string_view call_id;    // function_call: the item's call_id, name and arguments (JSON text)
  std::string_view tool_name;
  std::string_view arguments;
  std::string_view dtmf_key;   // dtmf_received: the key as sent (checked by the adapter)
};

class live_parser {
 public:
  // `json` must be followed by at least simdjson::SIMDJSON_PADDING readable bytes within `capacity`,
  // or it is parsed from a copy.
  std::optional<parse_error> parse(std::string_view json, std::size_t capacity, live_event& out);
};

// The event_id we give session.start, so that an error about it is recognised as fatal (D8).
inline constexpr std::string_view session_start_event_id = "mb_session_start";
inline constexpr std::string_view instructions_append_event_id = "mb_instructions_append";
inline constexpr std::string_view session_close_event_id = "mb_session_close";
inline constexpr std::string_view tool_result_event_id = "mb_tool_result";

// session.input accepts at most this many history messages (D2); older ones are left out.
inline constexpr std::size_t max_live_history_messages = 128;

enum class live_role { user, assistant };

struct live_history_message {
  live_role role;
  std::string_view text;
};

// The instructions as sent: the profile's, followed by the caller's language and vocabulary, which
// GPT-Live has no transcription setting for (D2).
std::string live_instructions(const session_config& config);

// session.start: model, instructions, μ-law at 8 kHz both ways, the voice, and the newest
// max_live_history_messages of `history` (empty texts left out) as session.input (D2); with tools, a
// Responses delegation that declares them (I2), else no delegation field (client delegation).
std::string build_session_start(const session_config& config, std::span<const live_history_message> history);
// session.start's session object without history; with session_audio_format::negotiated, no audio
// format (a SIP call's accept, J2).
boost::json::object live_session(const session_config& config, session_audio_format format);

// Hot path: appends to `out`; payload must be valid base64 (checked by the caller), so no escaping.
void build_live_input_audio_append(std::string& out, std::string_view payload_b64);

// session.instructions.append as general session context (delegation_id null, D3).
std::string build_instructions_append(std::string_view content);

// response.item.create of a function_call_output, `output_json` as its string `output` (I2).
std::string build_live_function_call_output(std::string_view call_id, std::string_view output_json);
// response.create: the Responses delegation goes on after its function calls' results (I2).
std::string build_live_response_create();

std::string build_session_close();

}  // namespace mb::protocol
