#include "upstream/live_adapter.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <span>

#include "protocol/base64.hpp"
#include "upstream/tool_call_event.hpp"

namespace mb::upstream {
namespace {

using lt = protocol::live_event_type;

// Names of the events the adapter infers, for logs (event::type_name).
constexpr std::string_view assistant_turn_started = "(assistant turn started)";
constexpr std::string_view assistant_turn_ended = "(assistant turn ended)";
constexpr std::string_view caller_turn_started = "(caller turn started)";
constexpr std::string_view caller_turn_ended = "(caller turn ended)";

// session_ready's note when the transcoding fallback starts (docs/protocols.md G2).
constexpr std::string_view transcoding_note =
    "the session confirmed audio/pcm at 24000 Hz, not audio/pcmu: transcoding both ways";

// A turn's concatenated transcript stops growing here (a turn the model never pauses in).
constexpr std::size_t max_turn_text_bytes = 64 * 1024;

// What each close reason means for the call (docs/protocols.md D7); a reason we do not know ends it.
session_ending ending_of(std::string_view reason) noexcept {
  if (reason == "close_requested") return session_ending::expected;
  if (reason == "expired" || reason == "connection_lost") return session_ending::restart;
  return session_ending::end_call;
}

// Before session.started every error is a startup error: the session will not start (D8).
error_scope scope_of(const protocol::upstream_error& e, bool started) noexcept {
  if (!started || e.event_id == protocol::session_start_event_id) return error_scope::session;
  return error_scope::command;
}

event synthesized(event_kind kind, std::string_view type_name) {
  event ev;
  ev.kind = kind;
  ev.type_name = type_name;
  return ev;
}

}  // namespace

live_adapter::live_adapter(std::string_view provider, live_turn_timing timing)
    : caps_{.provider = provider,
            .audio_format = "audio/pcmu",
            .interruption = interruption_model::model_owned,
            .transcripts = transcript_model::timed_deltas,
            .lifecycle = openai_live_lifecycle,
            .resumable = false,
            .acknowledges_close = true,
            .tools_beside_speech = true},
      timing_(timing) {}

live_adapter::transcoder::transcoder() {
  constexpr std::size_t pcm_bytes = transcoded_rate * 2 / 2;  // 500 ms of PCM16
  constexpr std::size_t ulaw_bytes = codec::phone_rate / 2;   // 500 ms of μ-law
  decoded.reserve(pcm_bytes);
  caller_b64.reserve(pcm_bytes / 3 * 4 + 4);
  delta_b64.reserve(ulaw_bytes / 3 * 4 + 4);
  tail_b64.reserve(ulaw_bytes / 3 * 4 + 4);
}

void live_adapter::open_session(const protocol::session_config& config, std::span<const context_turn> history,
                                std::vector<std::string>& out) {
  forget_session();
  started_ = false;
  sideband_ = false;
  // A new session knows nothing of the call: the conversation so far goes into session.start (D2).
  std::vector<protocol::live_history_message> messages;
  messages.reserve(history.size());
  for (const auto& turn : history)
    messages.push_back({turn.who == speaker::caller ? protocol::live_role::user : protocol::live_role::assistant,
                        turn.text});
  out.push_back(protocol::build_session_start(config, messages));
}

// A SIP call's sideband joins a session its accept started (docs/protocols.md J3): no session.start,
// no session.started to wait for.
void live_adapter::attach_sideband() {
  forget_session();
  started_ = true;
  sideband_ = true;
}

void live_adapter::forget_session() {
  assistant_.open = false;
  caller_.open = false;
  assistant_audio_ = false;
  caller_talked_over_ = false;
  // The new session confirms its own format; nothing of the old session's audio belongs to it.
  transcoding_ = false;
  if (transcoder_) {
    transcoder_->caller.reset();
    transcoder_->assistant.reset();
  }
}

// GPT-Live does not speak first: the greeting is an instruction appended after session.started (D3).
void live_adapter::greet(std::string_view instructions, std::vector<std::string>& out) {
  out.push_back(protocol::build_instructions_append(instructions));
}

void live_adapter::append_caller_audio(std::string& out, std::string_view payload_b64) {
  if (!transcoding_) {
    protocol::build_live_input_audio_append(out, payload_b64);
    return;
  }
  auto& t = *transcoder_;
  // The payload is valid base64 (the adapter's contract), so it decodes.
  (void)protocol::base64_decode(payload_b64, t.decoded);
  const auto pcm = t.caller.convert(
      std::span(reinterpret_cast<const std::uint8_t*>(t.decoded.data()), t.decoded.size()));
  if (pcm.empty()) return;  // the resampler is gathering its block: nothing to send yet (F3)
  protocol::base64_encode(pcm, t.caller_b64);
  protocol::build_live_input_audio_append(out, t.caller_b64);
}

void live_adapter::playback_cleared() {
  if (transcoder_) transcoder_->assistant.reset();
}

// GPT-Live can be told neither what was heard nor to stop (D5).
void live_adapter::report_heard(std::string_view /*turn_id*/, std::int64_t /*content_index*/,
                                std::int64_t /*audio_end_ms*/, std::vector<std::string>& /*out*/) {}

void live_adapter::cancel_response(std::vector<std::string>& /*out*/) {}

// Every call gets its result, and the Responses delegation goes on only when asked (docs/protocols.md I2).
void live_adapter::send_tool_result(std::string_view tool_call_id, std::string_view /*tool_name*/,
                                    std::string_view output_json, bool respond, std::vector<std::string>& out) {
  out.push_back(protocol::build_live_function_call_output(tool_call_id, output_json));
  if (respond) out.push_back(protocol::build_live_response_create());
}

// The Responses delegation goes on when asked (docs/protocols.md I2).
void live_adapter::request_response(std::vector<std::string>& out) {
  out.push_back(protocol::build_live_response_create());
}

// General session context, as the greeting is; the model decides itself whether and when to answer,
// so `respond` asks nothing more (docs/protocols.md I4).
void live_adapter::add_context_text(std::string_view text, bool /*respond*/, std::vector<std::string>& out) {
  out.push_back(protocol::build_instructions_append(text));
}

void live_adapter::close_session(std::vector<std::string>& out) { out.push_back(protocol::build_session_close()); }

std::optional<protocol::parse_error> live_adapter::translate(std::string_view json, std::size_t capacity,
                                                             std::int64_t now_ms, std::vector<event>& out) {
  if (auto error = parser_.parse(json, capacity, parsed_)) return error;
  // Turns whose gap has passed close before this message is counted, even if no tick came between.
  close_expired(now_ms, out);
  const auto& p = parsed_;
  switch (p.type) {
    case lt::output_audio_delta:
    case lt::output_transcript_delta:
      on_assistant_delta(p, now_ms, out);
      return std::nullopt;
    case lt::input_transcript_delta:
      on_caller_delta(p, now_ms, out);
      return std::nullopt;
    case lt::function_call:
      // The turns are left as they are: the model may go on talking while the tool runs (I2).
      out.push_back(tool_call_event(p.type_name, p.call_id, p.tool_name, p.arguments, p.arguments.size()));
      return std::nullopt;
    default: break;
  }
  event ev;
  ev.type_name = p.type_name;
  switch (p.type) {
    case lt::session_started:
    case lt::session_updated:
      on_session(p, ev);
      break;
    case lt::session_closed:
      // Close the open turns first, so their transcripts reach the call before the session ends.
      if (assistant_.open) close_assistant(out);
      if (caller_.open) close_caller(out);
      ev.kind = event_kind::session_ended;
      ev.ending = ending_of(p.reason);
      ev.text = p.reason;
      ev.used.seconds = p.usage_seconds;
      break;
    case lt::error:
      ev.kind = event_kind::error;
      ev.error = provider_error{scope_of(p.error, started_), p.error.type, p.error.code, p.error.message,
                                p.error.event_id};
      break;
    case lt::dtmf_received:
      // Only a DTMF symbol is a key (docs/protocols.md J4).
      ev.kind = is_dtmf_key(p.dtmf_key) ? event_kind::caller_dtmf : event_kind::ignored;
      if (ev.kind == event_kind::caller_dtmf) ev.text = p.dtmf_key;
      break;
    case lt::unknown: ev.kind = event_kind::unknown; break;
    default: ev.kind = event_kind::ignored; break;
  }
  out.push_back(ev);
  return std::nullopt;
}

void live_adapter::on_session(const protocol::live_event& p, event& ev) {
  ev.kind = event_kind::session_ready;
  started_ = true;
  // One format covers both directions (D2); anything but μ-law at 8 kHz, or PCM16 at the rate the
  // fallback transcodes (G2), is named so the core's format guard can say what came instead.
  if (p.audio_format == "audio/pcmu" && p.audio_rate == 8000) {
    transcoding_ = false;
    format_.assign(caps_.audio_format);
  } else if (p.audio_format == "audio/pcm" && p.audio_rate == transcoded_rate) {
    if (!transcoder_) transcoder_ = std::make_unique<transcoder>();
    if (!transcoding_) ev.text = transcoding_note;
    transcoding_ = true;
    format_.assign(caps_.audio_format);
  } else if (p.audio_format.empty()) {
    format_.assign("no audio.format");
  } else {
    format_.assign(p.audio_format).append("@").append(std::to_string(p.audio_rate));
  }
  ev.input_format = format_;
  ev.output_format = format_;
}

void live_adapter::open_turn(turn& t, char speaker_letter, std::int64_t now_ms) {
  char digits[20];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), ++turns_opened_).ptr;
  t.open = true;
  t.id.assign("live_").append(1, speaker_letter).append(digits, end);
  t.text.clear();
  t.last_ms = now_ms;
}

void live_adapter::on_assistant_delta(const protocol::live_event& p, std::int64_t now_ms, std::vector<event>& out) {
  if (!assistant_.open) {
    if (caller_.open) close_caller(out);
    open_turn(assistant_, 'a', now_ms);
    auto started = synthesized(event_kind::response_started, assistant_turn_started);
    started.response_id = assistant_.id;
    out.push_back(started);
  }
  assistant_.last_ms = now_ms;
  event ev;
  ev.type_name = p.type_name;
  ev.turn_id = assistant_.id;
  ev.response_id = assistant_.id;
  if (p.type == lt::output_audio_delta) {
    assistant_audio_ = true;
    ev.kind = event_kind::assistant_audio;
    ev.audio_b64 = transcoding_ ? transcode_delta(p.delta) : p.delta;
    // Less than a whole frame so far: it waits in the transcoder for the next delta or the turn's end.
    if (ev.audio_b64.empty() && !p.delta.empty()) ev.kind = event_kind::ignored;
  } else {
    // The sideband may see no audio of a SIP call's answer: its transcript shows the model sending.
    if (sideband_) assistant_audio_ = true;
    ev.kind = event_kind::assistant_transcript_delta;
    ev.text = p.delta;
    if (assistant_.text.size() + p.delta.size() <= max_turn_text_bytes) assistant_.text.append(p.delta);
  }
  out.push_back(ev);
}

void live_adapter::on_caller_delta(const protocol::live_event& p, std::int64_t now_ms, std::vector<event>& out) {
  const bool turn_begins = !caller_.open;
  if (turn_begins) open_turn(caller_, 'c', now_ms);
  caller_.last_ms = now_ms;
  if (caller_.text.size() + p.delta.size() <= max_turn_text_bytes) caller_.text.append(p.delta);
  event ev;
  ev.kind = event_kind::caller_transcript_delta;
  ev.type_name = p.type_name;
  ev.turn_id = caller_.id;
  ev.text = p.delta;
  out.push_back(ev);
  // The interruption rule (header; docs/protocols.md D5).
  if (assistant_.open && assistant_audio_) {
    // Talked over while the model is sending: wait for it to yield, unless it already has.
    caller_talked_over_ = true;
    if (now_ms >= assistant_deadline()) close_assistant(out);
  } else if (turn_begins && !assistant_.open) {
    // The model is not talking: whatever of its last answer is still queued for the caller is stale.
    // (A turn open without audio yet is the model starting to talk: the caller's speech does not cut it.)
    out.push_back(synthesized(event_kind::caller_speech_started, caller_turn_started));
  }
}

std::string_view live_adapter::transcode_delta(std::string_view pcm_b64) {
  auto& t = *transcoder_;
  // Invalid base64 goes to the core as it came, which drops it with a warning.
  if (!protocol::base64_decode(pcm_b64, t.decoded)) return pcm_b64;
  protocol::base64_encode(t.assistant.convert(t.decoded), t.delta_b64);
  return t.delta_b64;
}

void live_adapter::close_assistant(std::vector<event>& out) {
  // The interruption rule (header; docs/protocols.md D5).
  const bool cut = caller_talked_over_;
  if (cut) out.push_back(synthesized(event_kind::caller_speech_started, assistant_turn_ended));
  std::swap(assistant_, closed_assistant_);
  assistant_.open = false;
  closed_assistant_.open = false;
  assistant_audio_ = false;
  caller_talked_over_ = false;
  const auto& t = closed_assistant_;
  if (transcoding_) {
    // A cut turn's tail would be heard after the caller took over: it is dropped instead.
    auto& assistant = transcoder_->assistant;
    if (cut) {
      assistant.reset();
    } else if (const auto tail = assistant.flush(); !tail.empty()) {
      protocol::base64_encode(tail, transcoder_->tail_b64);
      auto ev = synthesized(event_kind::assistant_audio, assistant_turn_ended);
      ev.turn_id = t.id;
      ev.response_id = t.id;
      ev.audio_b64 = transcoder_->tail_b64;
      out.push_back(ev);
    }
  }
  for (const auto kind : {event_kind::assistant_audio_done, event_kind::assistant_transcript_final,
                          event_kind::response_done}) {
    auto ev = synthesized(kind, assistant_turn_ended);
    ev.turn_id = t.id;
    ev.response_id = t.id;
    if (kind == event_kind::assistant_transcript_final) ev.text = t.text;
    out.push_back(ev);
  }
}

void live_adapter::close_caller(std::vector<event>& out) {
  std::swap(caller_, closed_caller_);
  caller_.open = false;
  closed_caller_.open = false;
  auto ev = synthesized(event_kind::caller_transcript_final, caller_turn_ended);
  ev.turn_id = closed_caller_.id;
  ev.text = closed_caller_.text;
  out.push_back(ev);
}

std::int64_t live_adapter::assistant_deadline() const noexcept {
  return assistant_.last_ms + (caller_talked_over_ ? timing_.yield_gap : timing_.assistant_gap).count();
}

std::int64_t live_adapter::caller_deadline() const noexcept { return caller_.last_ms + timing_.caller_gap.count(); }

void live_adapter::close_expired(std::int64_t now_ms, std::vector<event>& out) {
  // Earliest deadline first, so the events keep the order in which the turns ended.
  for (;;) {
    const bool assistant_due = assistant_.open && now_ms >= assistant_deadline();
    const bool caller_due = caller_.open && now_ms >= caller_deadline();
    if (!assistant_due && !caller_due) return;
    if (assistant_due && (!caller_due || assistant_deadline() <= caller_deadline()))
      close_assistant(out);
    else
      close_caller(out);
  }
}

void live_adapter::on_tick(std::int64_t now_ms, std::vector<event>& out) { close_expired(now_ms, out); }

std::optional<std::int64_t> live_adapter::next_wakeup() const {
  std::optional<std::int64_t> wakeup;
  if (assistant_.open) wakeup = assistant_deadline();
  if (caller_.open) wakeup = std::min(wakeup.value_or(caller_deadline()), caller_deadline());
  return wakeup;
}

}  // namespace mb::upstream
