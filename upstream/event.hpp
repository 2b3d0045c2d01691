#pragma once
// Neutral upstream events: what an adapter makes of a provider's messages, and all the call core
// sees of them (docs/architecture.md, "Adapters").
//
// One flat struct rather than a variant: an event is filled for every relayed audio chunk, so it is
// reused and holds views. string_views point into the adapter's parser buffers or its own state and
// are valid until the next translate() or on_tick() of the adapter that produced them.

#include <cstdint>
#include <string_view>

namespace mb::upstream {

enum class event_kind {
  session_ready,               // input_format, output_format: what the provider confirmed (as the core
                               // gets it); text: a note for the call's log (e.g. the adapter transcodes)
  assistant_audio,             // turn_id, response_id, content_index, audio_b64
  assistant_audio_done,        // turn_id, response_id: no more audio for this turn
  assistant_transcript_delta,  // turn_id, response_id, text
  assistant_transcript_final,  // turn_id, response_id, text: the whole transcript of the turn
  caller_transcript_delta,     // turn_id, text
  caller_transcript_final,     // turn_id, text
  caller_transcript_failed,    // turn_id
  caller_speech_started,       // the caller interrupts: stop the assistant's playback
  caller_speech_stopped,       // the caller's turn ended: the assistant's answer is due
  response_started,            // response_id: an answer of the assistant (one or more turns)
  response_done,               // response_id, usage
  heard_report_accepted,       // turn_id, audio_end_ms: the provider cut its record of the turn there
  error,                       // error
  session_ended,               // ending, text: the provider ended (or is ending) the session
  session_renewal_due,         // time_left_ms: the provider will drop this connection soon (Gemini's
                               // goAway); the call should move to a new session at the next pause
  tool_call,                   // tool_call_id, tool_name, tool_arguments (JSON text): the model calls a tool
  tool_call_cancelled,         // tool_call_id: the model no longer wants that call's result (Gemini)
  caller_dtmf,                 // text: one key the caller pressed, as a SIP call's sideband reports it
                               // (docs/protocols.md J4); Media Streams calls get keys from Twilio instead
  ignored,                     // a known message the bridge has no use for
  unknown,                     // a message it does not know: type_name
};

// One of the 16 DTMF symbols (0-9, *, #, A-D): what caller_dtmf carries, and all a key may be; anything
// else would only carry a peer's text to listeners.
constexpr bool is_dtmf_key(std::string_view key) noexcept {
  return key.size() == 1 && std::string_view("0123456789*#ABCD").find(key[0]) != std::string_view::npos;
}

// The kind's name, for logs and tests.
constexpr std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::session_ready: return "session_ready";
    case event_kind::assistant_audio: return "assistant_audio";
    case event_kind::assistant_audio_done: return "assistant_audio_done";
    case event_kind::assistant_transcript_delta: return "assistant_transcript_delta";
    case event_kind::assistant_transcript_final: return "assistant_transcript_final";
    case event_kind::caller_transcript_delta: return "caller_transcript_delta";
    case event_kind::caller_transcript_final: return "caller_transcript_final";
    case event_kind::caller_transcript_failed: return "caller_transcript_failed";
    case event_kind::caller_speech_started: return "caller_speech_started";
    case event_kind::caller_speech_stopped: return "caller_speech_stopped";
    case event_kind::response_started: return "response_started";
    case event_kind::response_done: return "response_done";
    case event_kind::heard_report_accepted: return "heard_report_accepted";
    case event_kind::error: return "error";
    case event_kind::session_ended: return "session_ended";
    case event_kind::session_renewal_due: return "session_renewal_due";
    case event_kind::tool_call: return "tool_call";
    case event_kind::tool_call_cancelled: return "tool_call_cancelled";
    case event_kind::caller_dtmf: return "caller_dtmf";
    case event_kind::ignored: return "ignored";
    case event_kind::unknown: return "unknown";
  }
  return "?";
}

struct usage {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t total_tokens = 0;
  std::int64_t seconds = 0;  // providers that bill by the second
};

// What a provider's error means for the call.
enum class error_scope {
  command,       // one command was rejected; the session goes on
  heard_report,  // the report of what the caller heard was rejected
  session,       // the session's configuration was rejected: the call cannot work
  session_lost,  // the session is over (its cap, a server fault); a new one may work
};

struct provider_error {
  error_scope scope = error_scope::command;
  std::string_view type;
  std::string_view code;
  std::string_view message;
  std::string_view client_event_id;  // the command that caused it, when known
};

// What becomes of the call when the provider ends its session.
enum class session_ending {
  expected,    // the bridge asked for it (a close on hang-up or rollover)
  restart,     // the provider ended it (its cap, a lost transport): continue in a new session
  end_call,    // the provider will not go on (a content filter, the remote party hung up)
};

struct event {
  event_kind kind = event_kind::unknown;
  std::string_view type_name;  // the provider's name for the message, for logs
  std::string_view turn_id;    // an item or turn: unique within the call
  std::string_view response_id;
  std::int64_t content_index = 0;
  std::string_view audio_b64;
  std::string_view text;
  std::int64_t audio_end_ms = 0;
  std::int64_t time_left_ms = 0;
  std::string_view tool_call_id;    // the provider's id of one tool call: its result must carry it
  std::string_view tool_name;
  std::string_view tool_arguments;  // a JSON object as the provider sent it: bounded, not checked (docs/protocols.md I5)
  std::string_view input_format;
  std::string_view output_format;
  usage used;
  provider_error error;
  session_ending ending = session_ending::expected;
};

}  // namespace mb::upstream
