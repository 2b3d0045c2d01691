#include "upstream/gemini_adapter.hpp"

#include <algorithm>
#include <charconv>
#include <span>

#include "protocol/base64.hpp"
#include "upstream/tool_call_event.hpp"

namespace mb::upstream {
namespace {

// Names of the events the adapter infers, for logs (event::type_name).
constexpr std::string_view assistant_turn_started = "(assistant turn started)";
constexpr std::string_view assistant_turn_ended = "(assistant turn ended)";
constexpr std::string_view assistant_audio_ended = "(assistant audio ended)";
constexpr std::string_view caller_turn_ended = "(caller turn ended)";

// A turn's concatenated transcript stops growing here (a turn that never ends).
constexpr std::size_t max_turn_text_bytes = 64 * 1024;
// How much of a peer's mimeType an error message quotes.
constexpr std::size_t max_quoted_mime_bytes = 64;

event synthesized(event_kind kind, std::string_view type_name) {
  event ev;
  ev.kind = kind;
  ev.type_name = type_name;
  return ev;
}

// Model audio the transcoder can take: PCM16, at 24 kHz when the type names a rate (F3).
bool playable(std::string_view mime_type) {
  if (mime_type.empty()) return true;  // documented as always 24 kHz PCM16
  if (!mime_type.starts_with("audio/pcm")) return false;
  const auto rate = mime_type.find("rate=");
  return rate == std::string_view::npos || mime_type.substr(rate + 5) == "24000";
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

void gemini_adapter::turn_ring::begin(std::string id, std::int64_t now_ms) {
  auto& t = slots_[current_];
  t.id = std::move(id);
  t.text.clear();
  t.last_ms = now_ms;
  open_ = true;
}

const gemini_adapter::turn& gemini_adapter::turn_ring::close() noexcept {
  const auto& closed = slots_[current_];
  current_ = (current_ + 1) % slots_.size();
  open_ = false;
  return closed;
}

gemini_adapter::gemini_adapter(gemini_turn_timing timing)
    : caps_{.provider = "gemini",
            // What the core sees: the adapter transcodes to and from Gemini's PCM (F3).
            .audio_format = "audio/pcmu",
            .interruption = interruption_model::local_flush_only,
            .transcripts = transcript_model::chunks_finished,
            .lifecycle = gemini_live_lifecycle,
            .resumable = true,
            .acknowledges_close = false},
      timing_(timing),
      caller_codec_(protocol::gemini_input_rate, codec::caller_preset),
      model_codec_(protocol::gemini_output_rate, codec::assistant_preset) {
  // Room for half a second each way, so that the buffers do not grow (and allocate) with the
  // resampler's bursts once the call is under way.
  constexpr std::size_t model_pcm_bytes = protocol::gemini_output_rate;  // 500 ms of PCM16
  constexpr std::size_t ulaw_bytes = codec::phone_rate / 2;
  caller_ulaw_.reserve(codec::phone_frame_bytes);
  caller_pcm_b64_.reserve(protocol::gemini_input_rate / 3 * 4 + 4);
  model_pcm_.reserve(model_pcm_bytes);
  model_ulaw_.reserve(ulaw_bytes + codec::phone_frame_bytes);
  model_ulaw_b64_.reserve((ulaw_bytes + codec::phone_frame_bytes) / 3 * 4 + 4);
}

void gemini_adapter::open_session(const protocol::session_config& config, std::span<const context_turn> history,
                                  std::vector<std::string>& out) {
  // The last setup resumed and never completed: the service refused the handle, or the connection
  // failed before it could say. Either way the next session starts afresh (F6).
  if (opened_ && resuming_ && !ready_) resume_handle_.clear();
  opened_ = true;
  ready_ = false;
  resuming_ = !resume_handle_.empty();
  assistant_.forget();
  audio_ended_ = audio_done_sent_ = ending_ = transcript_finished_ = false;
  pending_usage_ = {};
  unusable_audio_reported_ = false;
  model_codec_.reset();

  out.push_back(protocol::build_gemini_setup(config, resume_handle_));
  if (resuming_) return;  // the resumed session has the conversation
  std::vector<protocol::gemini_history_turn> turns;
  turns.reserve(history.size());
  for (const auto& t : history)
    turns.push_back({t.who == speaker::caller ? protocol::gemini_role::user : protocol::gemini_role::model, t.text});
  if (auto replay = protocol::build_gemini_history(turns)) out.push_back(std::move(*replay));
}

void gemini_adapter::greet(std::string_view instructions, std::vector<std::string>& out) {
  out.push_back(protocol::build_gemini_user_text(instructions, true));
}

void gemini_adapter::append_caller_audio(std::string& out, std::string_view payload_b64) {
  if (!protocol::base64_decode(payload_b64, caller_ulaw_)) return;  // checked by the caller
  const auto pcm = caller_codec_.convert(bytes_of(caller_ulaw_));
  if (pcm.empty()) return;  // the resampler is still gathering its block: nothing to send yet (F3)
  protocol::base64_encode(pcm, caller_pcm_b64_);
  protocol::build_gemini_audio_input(out, caller_pcm_b64_);
}

// Gemini can be told neither what was heard nor to stop (F5).
void gemini_adapter::report_heard(std::string_view /*turn_id*/, std::int64_t /*content_index*/,
                                  std::int64_t /*audio_end_ms*/, std::vector<std::string>& /*out*/) {}

void gemini_adapter::cancel_response(std::vector<std::string>& /*out*/) {}

// The model goes on by itself once it has the result: `respond` asks nothing more (docs/protocols.md I3).
void gemini_adapter::send_tool_result(std::string_view tool_call_id, std::string_view tool_name,
                                      std::string_view output_json, bool /*respond*/, std::vector<std::string>& out) {
  out.push_back(protocol::build_gemini_tool_response(tool_call_id, tool_name, output_json));
}

// The model goes on by itself once it has its tool results (docs/protocols.md I3).
void gemini_adapter::request_response(std::vector<std::string>& /*out*/) {}

// A user turn of text; complete when the model should answer it now (docs/protocols.md I4).
void gemini_adapter::add_context_text(std::string_view text, bool respond, std::vector<std::string>& out) {
  out.push_back(protocol::build_gemini_user_text(text, respond));
}

// No close message: closing the socket ends the connection, and the session can still be resumed.
void gemini_adapter::close_session(std::vector<std::string>& /*out*/) {}

void gemini_adapter::playback_cleared() { model_codec_.reset(); }

std::optional<protocol::parse_error> gemini_adapter::translate(std::string_view json, std::size_t capacity,
                                                               std::int64_t now_ms, std::vector<event>& out) {
  if (auto error = parser_.parse(json, capacity, parsed_)) return error;
  // Turns whose wait has passed close before this message counts, even if no tick came between.
  close_expired(now_ms, out);
  const auto& m = parsed_;
  const auto produced = out.size();
  const auto emit = [&](event_kind kind) -> event& {
    auto& ev = out.emplace_back();
    ev.kind = kind;
    ev.type_name = m.type_name;
    return ev;
  };

  if (m.error.present) on_error(m.error, emit(event_kind::error));
  if (m.setup_complete) {
    ready_ = true;
    auto& ev = emit(event_kind::session_ready);
    ev.input_format = caps_.audio_format;
    ev.output_format = caps_.audio_format;
  }
  // Before serverContent: a message that completes the turn may carry its usage (F4).
  if (m.usage.present)
    pending_usage_ = usage{m.usage.prompt_tokens, m.usage.response_tokens, m.usage.total_tokens, 0};
  if (m.server_content) on_server_content(m, now_ms, out);
  if (m.resumption_update && m.resumable && !m.new_handle.empty() &&
      m.new_handle.size() <= protocol::max_gemini_handle_bytes)
    resume_handle_.assign(m.new_handle);
  if (m.go_away) emit(event_kind::session_renewal_due).time_left_ms = m.time_left_ms;
  on_tool_messages(m, out);
  if (out.size() == produced) emit(m.known ? event_kind::ignored : event_kind::unknown);
  return std::nullopt;
}

// One event per call and per cancelled id (docs/protocols.md I3, I5).
void gemini_adapter::on_tool_messages(const protocol::gemini_message& m, std::vector<event>& out) {
  for (std::size_t i = 0; i < m.function_call_count; ++i) {
    const auto& call = m.function_calls[i];
    out.push_back(tool_call_event(m.type_name, call.id, call.name, call.arguments, call.arguments_bytes));
  }
  for (std::size_t i = 0; i < m.cancelled_id_count; ++i) {
    const auto id = m.cancelled_ids[i];
    // An id no call could have had names nothing the call core dispatched.
    if (id.empty() || id.size() > protocol::max_tool_call_id_bytes) continue;
    auto ev = synthesized(event_kind::tool_call_cancelled, m.type_name);
    ev.tool_call_id = id;
    out.push_back(ev);
  }
  if (m.tool_entries_dropped > 0) {
    auto ev = synthesized(event_kind::error, m.type_name);
    const auto& problem = protocol::too_many_tool_calls;
    ev.error = provider_error{error_scope::command, "invalid_tool_call", problem.code, problem.message, {}};
    out.push_back(ev);
  }
}

void gemini_adapter::on_error(const protocol::gemini_error& e, event& ev) {
  // Before setupComplete the setup failed: with a handle, the resumption (start afresh); without one,
  // the configuration (the call cannot work). After it, no error is documented that leaves the
  // connection usable (F6).
  error_scope scope = error_scope::session_lost;
  if (!ready_ && resuming_)
    resume_handle_.clear();
  else if (!ready_)
    scope = error_scope::session;
  ev.error = provider_error{scope, {}, e.status, e.message, {}};
}

void gemini_adapter::on_server_content(const protocol::gemini_message& m, std::int64_t now_ms,
                                       std::vector<event>& out) {
  if (m.interrupted) on_interrupted(now_ms, out);
  model_ulaw_.clear();
  if (has_model_audio(m, out)) {
    open_assistant(now_ms, out);
    transcode_model_audio(m);
  }
  if (m.output_transcription.present) on_output_transcription(m.output_transcription, now_ms, out);
  // The end of the generation: the resampler's tail and the held partial frame belong to this turn.
  const bool audio_ends = (m.generation_complete || m.turn_complete) && assistant_.open() && !audio_ended_;
  if (audio_ends) {
    model_ulaw_.append(model_codec_.flush());
    audio_ended_ = true;
  }
  if (!model_ulaw_.empty()) {
    protocol::base64_encode(model_ulaw_, model_ulaw_b64_);
    auto ev = synthesized(event_kind::assistant_audio, m.type_name);
    ev.turn_id = ev.response_id = assistant_.current().id;
    ev.audio_b64 = model_ulaw_b64_;
    out.push_back(ev);
  }
  if (audio_ends) {
    auto ev = synthesized(event_kind::assistant_audio_done, assistant_audio_ended);
    ev.turn_id = ev.response_id = assistant_.current().id;
    out.push_back(ev);
    audio_done_sent_ = true;
  }
  if (m.input_transcription.present) on_input_transcription(m.input_transcription, now_ms, out);
  if (m.turn_complete && assistant_.open()) begin_ending(now_ms, out);
}

void gemini_adapter::on_interrupted(std::int64_t now_ms, std::vector<event>& out) {
  // The service stopped generating because the caller spoke: whatever is still queued for the caller
  // is stale, and so is what the transcoder holds (F5).
  out.push_back(synthesized(event_kind::caller_speech_started, parsed_.type_name));
  model_codec_.reset();
  if (!assistant_.open()) return;
  audio_ended_ = true;
  ending_ = true;
  assistant_.current().last_ms = now_ms;
}

bool gemini_adapter::has_model_audio(const protocol::gemini_message& m, std::vector<event>& out) {
  if (m.audio_parts_dropped > 0) report_unusable_audio("more than 16 parts in one modelTurn", {}, out);
  bool any = false;
  for (std::size_t i = 0; i < m.audio_part_count; ++i) {
    const auto& part = m.audio_parts[i];
    if (!playable(part.mime_type))
      report_unusable_audio("not PCM16 at 24 kHz but", part.mime_type, out);
    else if (!protocol::is_base64(part.data_b64))
      report_unusable_audio("data that is not base64", {}, out);
    else
      any = any || !part.data_b64.empty();
  }
  return any;
}

void gemini_adapter::transcode_model_audio(const protocol::gemini_message& m) {
  for (std::size_t i = 0; i < m.audio_part_count; ++i) {
    const auto& part = m.audio_parts[i];
    if (!playable(part.mime_type) || !protocol::base64_decode(part.data_b64, model_pcm_)) continue;
    model_ulaw_.append(model_codec_.convert(model_pcm_));
  }
}

void gemini_adapter::open_assistant(std::int64_t now_ms, std::vector<event>& out) {
  // Audio after the turn's audio ended is the next turn's.
  if (assistant_.open() && !audio_ended_) return;
  if (assistant_.open()) close_assistant(out);
  if (caller_.open()) close_caller(out);
  assistant_.begin(next_id('a'), now_ms);
  auto ev = synthesized(event_kind::response_started, assistant_turn_started);
  ev.response_id = assistant_.current().id;
  out.push_back(ev);
}

void gemini_adapter::on_output_transcription(const protocol::gemini_transcription& t, std::int64_t now_ms,
                                             std::vector<event>& out) {
  if (!assistant_.open()) {
    if (t.text.empty()) return;
    open_assistant(now_ms, out);
  }
  auto& turn = assistant_.current();
  if (!t.text.empty()) {
    if (turn.text.size() + t.text.size() <= max_turn_text_bytes) turn.text.append(t.text);
    auto ev = synthesized(event_kind::assistant_transcript_delta, parsed_.type_name);
    ev.turn_id = ev.response_id = turn.id;
    ev.text = t.text;
    out.push_back(ev);
  }
  transcript_finished_ = t.finished;
  if (!ending_) return;
  // A late chunk of a turn that has ended: the turn waits on from here, or closes if it was the last.
  turn.last_ms = now_ms;
  if (transcript_finished_) close_assistant(out);
}

void gemini_adapter::on_input_transcription(const protocol::gemini_transcription& t, std::int64_t now_ms,
                                            std::vector<event>& out) {
  if (!t.text.empty()) {
    if (!caller_.open()) caller_.begin(next_id('c'), now_ms);
    auto& turn = caller_.current();
    turn.last_ms = now_ms;
    if (turn.text.size() + t.text.size() <= max_turn_text_bytes) turn.text.append(t.text);
    auto ev = synthesized(event_kind::caller_transcript_delta, parsed_.type_name);
    ev.turn_id = turn.id;
    ev.text = t.text;
    out.push_back(ev);
  }
  if (t.finished && caller_.open()) close_caller(out);
}

void gemini_adapter::begin_ending(std::int64_t now_ms, std::vector<event>& out) {
  if (!ending_) assistant_.current().last_ms = now_ms;
  ending_ = true;
  if (transcript_finished_) close_assistant(out);
}

void gemini_adapter::close_assistant(std::vector<event>& out) {
  const bool audio_done_sent = audio_done_sent_;
  const auto used = pending_usage_;
  audio_ended_ = audio_done_sent_ = ending_ = transcript_finished_ = false;
  pending_usage_ = {};
  const auto& t = assistant_.close();
  if (!audio_done_sent) {
    auto ev = synthesized(event_kind::assistant_audio_done, assistant_turn_ended);
    ev.turn_id = ev.response_id = t.id;
    out.push_back(ev);
  }
  auto final = synthesized(event_kind::assistant_transcript_final, assistant_turn_ended);
  final.turn_id = final.response_id = t.id;
  final.text = t.text;
  out.push_back(final);
  auto done = synthesized(event_kind::response_done, assistant_turn_ended);
  done.turn_id = done.response_id = t.id;
  done.used = used;
  out.push_back(done);
}

void gemini_adapter::close_caller(std::vector<event>& out) {
  const auto& t = caller_.close();
  auto ev = synthesized(event_kind::caller_transcript_final, caller_turn_ended);
  ev.turn_id = t.id;
  ev.text = t.text;
  out.push_back(ev);
}

std::string gemini_adapter::next_id(char speaker_letter) {
  char digits[20];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), ++turns_opened_).ptr;
  return std::string("gm_").append(1, speaker_letter).append(digits, end);
}

std::int64_t gemini_adapter::assistant_deadline() const noexcept {
  return assistant_.current().last_ms + timing_.late_transcript_gap.count();
}

std::int64_t gemini_adapter::caller_deadline() const noexcept {
  return caller_.current().last_ms + timing_.caller_gap.count();
}

void gemini_adapter::close_expired(std::int64_t now_ms, std::vector<event>& out) {
  // Earliest deadline first, so the events keep the order in which the turns ended.
  for (;;) {
    const bool assistant_due = assistant_.open() && ending_ && now_ms >= assistant_deadline();
    const bool caller_due = caller_.open() && now_ms >= caller_deadline();
    if (!assistant_due && !caller_due) return;
    if (assistant_due && (!caller_due || assistant_deadline() <= caller_deadline()))
      close_assistant(out);
    else
      close_caller(out);
  }
}

void gemini_adapter::on_tick(std::int64_t now_ms, std::vector<event>& out) { close_expired(now_ms, out); }

std::optional<std::int64_t> gemini_adapter::next_wakeup() const {
  std::optional<std::int64_t> wakeup;
  if (assistant_.open() && ending_) wakeup = assistant_deadline();
  if (caller_.open()) wakeup = std::min(wakeup.value_or(caller_deadline()), caller_deadline());
  return wakeup;
}

void gemini_adapter::report_unusable_audio(std::string_view what, std::string_view mime_type,
                                          std::vector<event>& out) {
  if (unusable_audio_reported_) return;
  unusable_audio_reported_ = true;
  unusable_audio_text_.assign("dropping model audio: ").append(what);
  if (!mime_type.empty()) unusable_audio_text_.append(" '").append(mime_type.substr(0, max_quoted_mime_bytes)).append("'");
  auto ev = synthesized(event_kind::error, parsed_.type_name);
  ev.error = provider_error{error_scope::command, "unusable_audio", {}, unusable_audio_text_, {}};
  out.push_back(ev);
}

}  // namespace mb::upstream
