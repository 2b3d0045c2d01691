#include "upstream/realtime_adapter.hpp"

#include "upstream/tool_call_event.hpp"

namespace mb::upstream {
namespace {

using rt = protocol::realtime_event_type;

event_kind kind_of(rt type) noexcept {
  switch (type) {
    case rt::output_audio_delta: return event_kind::assistant_audio;
    case rt::output_audio_transcript_delta: return event_kind::assistant_transcript_delta;
    case rt::input_transcription_delta: return event_kind::caller_transcript_delta;
    case rt::speech_started: return event_kind::caller_speech_started;
    case rt::speech_stopped: return event_kind::caller_speech_stopped;
    case rt::response_created: return event_kind::response_started;
    case rt::response_done: return event_kind::response_done;
    case rt::output_audio_done: return event_kind::assistant_audio_done;
    case rt::output_audio_transcript_done: return event_kind::assistant_transcript_final;
    case rt::input_transcription_completed: return event_kind::caller_transcript_final;
    case rt::input_transcription_failed: return event_kind::caller_transcript_failed;
    case rt::item_truncated: return event_kind::heard_report_accepted;
    case rt::session_updated: return event_kind::session_ready;
    case rt::function_call_done: return event_kind::tool_call;
    case rt::dtmf_event_received: return event_kind::caller_dtmf;
    case rt::error: return event_kind::error;
    case rt::unknown: return event_kind::unknown;
    case rt::session_created:
    case rt::input_audio_committed:
    case rt::ignored: return event_kind::ignored;
  }
  return event_kind::unknown;
}

// The session's cap and server faults end the session, not the call (protocols.md A9).
error_scope scope_of(const protocol::realtime_error& e, bool configured) noexcept {
  if (e.code == "session_expired" || e.type == "server_error") return error_scope::session_lost;
  if (e.event_id == protocol::session_update_event_id || !configured) return error_scope::session;
  if (e.event_id == protocol::truncate_event_id) return error_scope::heard_report;
  return error_scope::command;
}

}  // namespace

realtime_adapter::realtime_adapter(std::string_view provider, provider_lifecycle lifecycle)
    : caps_{.provider = provider,
            .audio_format = "audio/pcmu",
            .interruption = interruption_model::truncate_exact,
            .transcripts = transcript_model::items_with_finals,
            .lifecycle = lifecycle,
            .resumable = false,
            .acknowledges_close = false} {}

void realtime_adapter::open_session(const protocol::session_config& config, std::span<const context_turn> history,
                                    std::vector<std::string>& out) {
  configured_ = false;
  out.push_back(protocol::build_session_update(config));
  // A new session knows nothing of the call: it is told what was said so far as text items (A8).
  for (const auto& turn : history)
    out.push_back(protocol::build_text_item(turn.who == speaker::caller ? "user" : "assistant", turn.text));
}

void realtime_adapter::greet(std::string_view instructions, std::vector<std::string>& out) {
  out.push_back(protocol::build_response_create(instructions));
}

void realtime_adapter::append_caller_audio(std::string& out, std::string_view payload_b64) {
  protocol::build_input_audio_append(out, payload_b64);
}

void realtime_adapter::report_heard(std::string_view turn_id, std::int64_t content_index, std::int64_t audio_end_ms,
                                    std::vector<std::string>& out) {
  out.push_back(protocol::build_item_truncate(turn_id, content_index, audio_end_ms));
}

void realtime_adapter::cancel_response(std::vector<std::string>& out) { out.push_back(protocol::build_response_cancel()); }

// The result is an item of the conversation; the model goes on only when asked (docs/protocols.md I1).
void realtime_adapter::send_tool_result(std::string_view tool_call_id, std::string_view /*tool_name*/,
                                        std::string_view output_json, bool respond, std::vector<std::string>& out) {
  out.push_back(protocol::build_function_call_output(tool_call_id, output_json));
  if (respond) out.push_back(protocol::build_response_create({}));
}

void realtime_adapter::request_response(std::vector<std::string>& out) {
  out.push_back(protocol::build_response_create({}));
}

// A user message of text, as the replayed conversation is (docs/protocols.md I4).
void realtime_adapter::add_context_text(std::string_view text, bool respond, std::vector<std::string>& out) {
  out.push_back(protocol::build_text_item("user", text));
  if (respond) out.push_back(protocol::build_response_create({}));
}

// The call's session was configured by its accept (docs/protocols.md J3): errors from now on concern
// single commands.
void realtime_adapter::attach_sideband() { configured_ = true; }

// The Realtime API has no close message: closing the socket ends the session.
void realtime_adapter::close_session(std::vector<std::string>& /*out*/) {}

std::optional<protocol::parse_error> realtime_adapter::translate(std::string_view json, std::size_t capacity,
                                                                 std::int64_t /*now_ms*/, std::vector<event>& out) {
  if (auto error = parser_.parse(json, capacity, parsed_)) return error;
  const auto& p = parsed_;
  if (p.type == rt::function_call_done) {
    auto call = tool_call_event(p.type_name, p.call_id, p.tool_name, p.arguments, p.arguments.size());
    // The response that made the call: its calls are answered together, once it is done (I1).
    call.response_id = p.response_id;
    out.push_back(call);
    return std::nullopt;
  }
  event ev;
  ev.kind = kind_of(p.type);
  ev.type_name = p.type_name;
  ev.turn_id = p.item_id;
  ev.response_id = p.response_id;
  ev.content_index = p.content_index;
  ev.audio_end_ms = p.audio_end_ms;
  switch (p.type) {
    case rt::output_audio_delta: ev.audio_b64 = p.delta; break;
    case rt::output_audio_transcript_delta:
    case rt::input_transcription_delta: ev.text = p.delta; break;
    case rt::output_audio_transcript_done:
    case rt::input_transcription_completed: ev.text = p.transcript; break;
    case rt::session_updated:
      ev.input_format = p.input_format;
      ev.output_format = p.output_format;
      configured_ = true;
      break;
    case rt::response_done:
      ev.used = usage{p.usage.input_tokens, p.usage.output_tokens, p.usage.total_tokens, 0};
      break;
    case rt::dtmf_event_received:
      // Only a DTMF symbol is a key (docs/protocols.md J4).
      if (is_dtmf_key(p.dtmf_key))
        ev.text = p.dtmf_key;
      else
        ev.kind = event_kind::ignored;
      break;
    case rt::error:
      ev.error = provider_error{scope_of(p.error, configured_), p.error.type, p.error.code, p.error.message,
                                p.error.event_id};
      break;
    default: break;
  }
  out.push_back(ev);
  return std::nullopt;
}

}  // namespace mb::upstream
