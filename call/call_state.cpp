#include "call/call_state.hpp"

#include <algorithm>

#include "log/escape.hpp"
#include "call/heard_text.hpp"
#include "protocol/base64.hpp"
#include "upstream/realtime_adapter.hpp"

namespace mb::call {

using upstream::event_kind;
using protocol::twilio_event;

namespace {
constexpr std::size_t max_remembered_cut_responses = 8;
constexpr std::uint64_t b64_chars_per_3_bytes = 4;

// A string from a peer, as it may appear in a log line or an end detail: escaped and cut.
std::string peer_text(std::string_view text, std::size_t max_bytes = log::name_bytes) {
  return log::escape_for_log(text, max_bytes);
}
}  // namespace

const char* to_string(end_reason r) {
  switch (r) {
    case end_reason::caller_hung_up: return "caller_hung_up";
    case end_reason::hung_up: return "hung_up";
    case end_reason::twilio_closed: return "twilio_closed";
    case end_reason::upstream_closed: return "upstream_closed";
    case end_reason::upstream_error: return "upstream_error";
    case end_reason::upstream_connect_failed: return "upstream_connect_failed";
    case end_reason::format_mismatch: return "format_mismatch";
    case end_reason::bad_media_format: return "bad_media_format";
    case end_reason::bad_input: return "bad_input";
    case end_reason::slow_peer: return "slow_peer";
    case end_reason::timeout: return "timeout";
    case end_reason::shutdown: return "shutdown";
  }
  return "unknown";
}

call_state::call_state(protocol::session_config session, call_options options,
                       std::unique_ptr<upstream::adapter> adapter)
    : session_(std::move(session)),
      options_(std::move(options)),
      adapter_(adapter ? std::move(adapter) : std::make_unique<upstream::realtime_adapter>()),
      dtmf_budget_({.burst = options_.dtmf_burst,
                    .refill_interval_ms = options_.dtmf_per_second > 0 ? 1000 / options_.dtmf_per_second : 0}) {
  // Keep chunks base64-aligned: a multiple of 3 bytes is a multiple of 4 characters with no padding.
  options_.max_chunk_bytes = std::max<std::uint64_t>(3, options_.max_chunk_bytes - options_.max_chunk_bytes % 3);
}

void call_state::configure(protocol::session_config session, std::string greeting, std::string agent,
                           std::unique_ptr<upstream::adapter> adapter) {
  session_ = std::move(session);
  if (adapter) adapter_ = std::move(adapter);
  options_.greeting = std::move(greeting);
  agent_ = std::move(agent);
}

void call_state::warn_once(bool& flag, std::string text, std::vector<action>& out) {
  if (flag) return;
  flag = true;
  out.push_back(log_line{log_level::warn, std::move(text)});
}

// ---------------------------------------------------------------------------------------------
// Twilio side

void call_state::set_tools(call_tools_config tools) {
  tools_ = std::move(tools);
  control_.configure(tools_);
  dtmf_ = dtmf_collector(tools_.dtmf);
  tool_calls_.configure(tools_);
}

void call_state::on_tool_response(std::uint64_t request_id, const webhook_response& response, std::int64_t now_ms,
                                  std::vector<action>& out) {
  if (ended_) return;
  tool_calls_.on_response(request_id, response, active_response_ ? std::string_view(*active_response_) : std::string_view(),
                          now_ms, *adapter_, out);
}

void call_state::on_call_update_done(std::uint64_t request_id, const call_update_outcome& outcome,
                                     std::int64_t /*now_ms*/, std::vector<action>& out) {
  if (ended_) return;
  control_.on_update_done(request_id, outcome, out, notes_);
  if (!out.empty() && std::holds_alternative<end_call>(out.back())) ended_ = true;
  tell_model(out);
}

void call_state::on_operator(const operator_command& command, std::int64_t now_ms, std::vector<action>& out) {
  if (ended_) return;
  control_.on_operator(command, now_ms, out, notes_);
  tell_model(out);
}

// ---------------------------------------------------------------------------------------------
// Call control and DTMF

playback_state call_state::playback() const noexcept {
  return {!active_response_ && !ledger_.has_unplayed() && queue_.empty(), spoke_this_turn_};
}

void call_state::settle_control(std::int64_t now_ms, std::vector<action>& out) {
  if (!ended_) control_.on_playback(playback(), now_ms, out);
}

void call_state::tell_model(std::vector<action>& out) {
  for (auto& note : notes_) {
    if (note.what == model_note::kind::context_text) {
      add_context(std::move(note.text), note.respond, out);
      continue;
    }
    // A result for a session that is gone: the new one never saw the call.
    if (!ready_) continue;
    adapter_->send_tool_result(note.tool_call_id, note.tool_name, note.text, note.respond, commands_);
    send_upstream(commands_, out);
  }
  notes_.clear();
}

void call_state::add_context(std::string text, bool respond, std::vector<action>& out) {
  if (ready_) {
    adapter_->add_context_text(text, respond, commands_);
    send_upstream(commands_, out);
    return;
  }
  // Until the session is ready (or back): a few are kept, the oldest dropped.
  constexpr std::size_t max_pending_context = 8;
  if (pending_context_.size() == max_pending_context) {
    pending_context_.erase(pending_context_.begin());
    warn_once(warned_context_dropped_, "upstream not ready: dropping the oldest context text waiting for it", out);
  }
  pending_context_.push_back({std::move(text), respond});
}

void call_state::hand_over_digits(const std::string& digits, std::vector<action>& out) {
  auto [line, event] = digits_handed_over(digits, tools_.dtmf);
  out.push_back(std::move(line));
  out.push_back(std::move(event));
  // The model gets the real keys even when masked: it is what needs them.
  add_context(dtmf_context_text(digits), tools_.dtmf.respond, out);
}

void call_state::on_twilio(const protocol::twilio_message& msg, std::int64_t now_ms, std::vector<action>& out) {
  if (ended_) return;
  switch (msg.event) {
    case twilio_event::media:
      on_caller_media(msg, now_ms, out);
      return;
    case twilio_event::mark:
      on_mark(msg.mark_name, now_ms, out);
      return;
    case twilio_event::start:
      on_start(msg, now_ms, out);
      return;
    case twilio_event::connected:
      return;
    case twilio_event::dtmf:
      on_dtmf(msg.dtmf_digit, now_ms, out);
      return;
    case twilio_event::stop:
      ended_ = true;
      out.push_back(end_call{end_reason::caller_hung_up, "Twilio sent stop"});
      return;
    case twilio_event::unknown:
      out.push_back(log_line{log_level::warn, "ignoring unknown Twilio event '" + peer_text(msg.event_name) + "'"});
      return;
  }
}

void call_state::on_start(const protocol::twilio_message& msg, std::int64_t now_ms, std::vector<action>& out) {
  if (start_) {
    out.push_back(log_line{log_level::warn, "ignoring a second Twilio start"});
    return;
  }
  const auto& s = *msg.start;
  if (!protocol::is_safe_sid(s.stream_sid) || !protocol::is_safe_sid(s.call_sid)) {
    ended_ = true;
    out.push_back(end_call{end_reason::bad_input, "start carries a malformed streamSid or callSid"});
    return;
  }
  if (s.encoding != "audio/x-mulaw" || s.sample_rate != 8000 || s.channels != 1) {
    ended_ = true;
    out.push_back(end_call{end_reason::bad_media_format,
                           "unsupported media format " + peer_text(s.encoding) + " " + std::to_string(s.sample_rate) +
                               " Hz " + std::to_string(s.channels) + " ch (need audio/x-mulaw 8000 Hz mono)"});
    return;
  }
  start_ = s;
  clock_offset_ms_ = -now_ms;  // Twilio timestamps count from the stream start
  // Our own parameters (the single-use stream token) are plumbing, not call data: never publish them.
  auto parameters = s.custom_parameters;
  std::erase_if(parameters, [](const auto& p) { return p.first.starts_with("mb_"); });
  out.push_back(publish{call_started{s.stream_sid, std::move(parameters), agent_}});
  upstream_requested_ = true;
  out.push_back(open_upstream{});
}

void call_state::on_caller_media(const protocol::twilio_message& msg, std::int64_t now_ms, std::vector<action>& out) {
  if (!start_) {
    ++stats_.invalid_frames;
    warn_once(warned_media_before_start_, "dropping media that arrived before start", out);
    return;
  }
  if (!msg.media.track.empty() && msg.media.track != "inbound") return;
  const auto payload = msg.media.payload;
  if (!protocol::is_base64(payload)) {
    ++stats_.invalid_frames;
    warn_once(warned_invalid_payload_, "dropping caller media with invalid base64 payload", out);
    return;
  }
  clock_offset_ms_ = std::max(clock_offset_ms_, msg.media.timestamp_ms - now_ms);
  const auto bytes = protocol::base64_decoded_size(payload);
  if (ready_) {
    if (!pre_connect_.empty()) pre_connect_.clear();  // flushed by an earlier step
    ++stats_.caller_frames;
    stats_.caller_bytes += bytes;
    out.push_back(send_upstream_audio{payload});
    return;
  }
  // Not ready yet: keep the newest pre_connect_buffer_ms so the caller's first words reach the model.
  pre_connect_.emplace_back(payload);
  pre_connect_bytes_ += bytes;
  const auto limit = static_cast<std::uint64_t>(options_.pre_connect_buffer_ms) * ulaw_bytes_per_ms;
  while (pre_connect_bytes_ > limit && !pre_connect_.empty()) {
    pre_connect_bytes_ -= protocol::base64_decoded_size(pre_connect_.front());
    pre_connect_.erase(pre_connect_.begin());
    ++stats_.buffered_frames_dropped;
    warn_once(warned_pre_connect_overflow_,
              "upstream not ready after " + std::to_string(options_.pre_connect_buffer_ms) +
                  " ms of caller audio: dropping the oldest buffered audio",
              out);
  }
}

void call_state::on_mark(std::string_view name, std::int64_t now_ms, std::vector<action>& out) {
  const auto result = ledger_.on_mark(name, twilio_clock(now_ms));
  if (result == playback_ledger::mark_result::unknown)
    warn_once(warned_unknown_mark_, "ignoring mark echo with unknown name '" + peer_text(name) + "'", out);
  if (result == playback_ledger::mark_result::played) finalize_turns(out);
  settle_control(now_ms, out);
}

void call_state::on_dtmf(std::string_view digit, std::int64_t now_ms, std::vector<action>& out) {
  if (!upstream::is_dtmf_key(digit) || !dtmf_budget_.take(now_ms)) {
    ++stats_.dtmf_dropped;
    warn_once(warned_dtmf_dropped_,
              "dropping DTMF that is not a key or exceeds " + std::to_string(options_.dtmf_per_second) +
                  " keys per second (burst " + std::to_string(options_.dtmf_burst) + "); counting the rest",
              out);
    return;
  }
  const bool mask = tools_.dtmf.mask;
  out.push_back(publish{dtmf{mask ? std::string() : std::string(digit), mask}});
  if (auto digits = dtmf_.on_key(digit[0], now_ms)) hand_over_digits(*digits, out);
}

// ---------------------------------------------------------------------------------------------
// Upstream side

void call_state::send_upstream(std::vector<std::string>& messages, std::vector<action>& out) {
  for (auto& m : messages) out.push_back(send_upstream_event{std::move(m)});
  messages.clear();
}

void call_state::on_upstream_connected(std::vector<action>& out) {
  session_lost_ = false;
  // A new session after a loss knows nothing of the call: it is told what was said so far.
  std::vector<upstream::context_turn> history;
  history.reserve(history_.size());
  for (const auto& turn : history_)
    history.push_back({turn.speaker == role::caller ? upstream::speaker::caller : upstream::speaker::assistant, turn.text});
  adapter_->open_session(session_, history, commands_);
  send_upstream(commands_, out);
}

void call_state::close_upstream_session(std::vector<action>& out) {
  adapter_->close_session(commands_);
  send_upstream(commands_, out);
}

bool call_state::quiet(std::int64_t now_ms) const noexcept {
  const bool answer_due = answer_due_since_ms_ && now_ms - *answer_due_since_ms_ < options_.answer_wait_ms;
  return !active_response_ && !answer_due && !ledger_.has_unplayed() && queue_.empty();
}

void call_state::publish_final(transcript_final final, std::vector<action>& out) {
  // A new session is told only what the caller heard: a cut turn's unheard rest was never said.
  const auto& said = final.interrupted ? final.heard_text : final.text;
  if (!said.empty()) {
    history_.push_back({final.speaker, said});
    history_chars_ += said.size();
    while (history_chars_ > options_.max_history_chars && !history_.empty()) {
      history_chars_ -= history_.front().text.size();
      history_.pop_front();
    }
  }
  out.push_back(publish{std::move(final)});
}

void call_state::on_upstream(const upstream::event& ev, std::int64_t now_ms, std::vector<action>& out) {
  // A session being closed (rollover, restart) may still deliver events; they are no longer this call's.
  if (ended_ || session_lost_) return;
  on_upstream_event(ev, now_ms, out);
  settle_control(now_ms, out);
}

void call_state::on_upstream_event(const upstream::event& ev, std::int64_t now_ms, std::vector<action>& out) {
  switch (ev.kind) {
    case event_kind::assistant_audio:
      on_audio_delta(ev, now_ms, out);
      return;
    case event_kind::assistant_transcript_delta:
      if (is_cut(ev.response_id)) return;
      turn_for(ev.turn_id, ev.response_id).text.append(ev.text);
      out.push_back(publish{transcript_delta{role::assistant, std::string(ev.turn_id), std::string(ev.text)}});
      return;
    case event_kind::caller_transcript_delta:
      out.push_back(publish{transcript_delta{role::caller, std::string(ev.turn_id), std::string(ev.text)}});
      return;
    case event_kind::caller_transcript_final:
      if (!active_response_) answer_due_since_ms_ = now_ms;
      publish_final(transcript_final{role::caller, std::string(ev.turn_id), std::string(ev.text)}, out);
      return;
    case event_kind::caller_speech_started:
      spoke_this_turn_ = false;
      tool_calls_.on_caller_turn();
      on_speech_started(now_ms, out);
      return;
    case event_kind::assistant_audio_done:
      if (is_cut(ev.response_id)) return;
      if (ledger_.find(ev.turn_id) == nullptr && find_turn(ev.turn_id) == nullptr) {
        warn_once(warned_unknown_item_, "ignoring the end of audio for unknown item " + peer_text(ev.turn_id), out);
        return;
      }
      ledger_.on_audio_done(ev.turn_id);
      turn_for(ev.turn_id, ev.response_id);
      finalize_turns(out);
      return;
    case event_kind::assistant_transcript_final:
      on_transcript_done(ev, out);
      return;
    case event_kind::response_started:
      active_response_ = std::string(ev.response_id);
      answer_due_since_ms_.reset();
      control_.on_response_started();
      return;
    case event_kind::response_done:
      if (active_response_ == ev.response_id) active_response_.reset();
      tool_calls_.on_response_done(ev.response_id, active_response_.has_value(), *adapter_, out);
      stats_.usage.input_tokens += ev.used.input_tokens;
      stats_.usage.output_tokens += ev.used.output_tokens;
      stats_.usage.total_tokens += ev.used.total_tokens;
      return;
    case event_kind::session_ready:
      on_session_ready(ev, out);
      return;
    case event_kind::error:
      on_error(ev, out);
      return;
    case event_kind::session_ended:
      on_session_ended(ev, out);
      return;
    case event_kind::session_renewal_due:
      out.push_back(renew_upstream{"the provider ends the connection in " + std::to_string(ev.time_left_ms) + " ms"});
      return;
    case event_kind::caller_transcript_failed:
      out.push_back(log_line{log_level::warn, "caller transcription failed for item " + peer_text(ev.turn_id)});
      return;
    case event_kind::heard_report_accepted:
      out.push_back(log_line{log_level::debug, "upstream truncated item " + peer_text(ev.turn_id) + " at " +
                                                   std::to_string(ev.audio_end_ms) + " ms"});
      return;
    case event_kind::unknown:
      out.push_back(log_line{log_level::debug, "ignoring unknown upstream event '" + peer_text(ev.type_name) + "'"});
      return;
    case event_kind::caller_speech_stopped:
      answer_due_since_ms_ = now_ms;
      return;
    case event_kind::tool_call:
      // The built-in tools come first: a webhook tool cannot take their names.
      if (control_.handles(ev.tool_name)) {
        control_.on_tool_call(ev.tool_call_id, ev.tool_name, ev.tool_arguments, playback(), now_ms, out, notes_);
        tell_model(out);
        return;
      }
      tool_calls_.on_call(ev, {start_ ? std::string_view(start_->call_sid) : std::string_view(), agent_,
                               start_ ? &start_->custom_parameters : nullptr},
                          now_ms, *adapter_, out);
      return;
    case event_kind::tool_call_cancelled:
      tool_calls_.on_cancelled(ev.tool_call_id, out);
      return;
    case event_kind::caller_dtmf:  // a Media Streams call's keys come from Twilio (on_dtmf)
    case event_kind::ignored:
      return;
  }
}

void call_state::on_session_ready(const upstream::event& ev, std::vector<action>& out) {
  const auto format = adapter_->caps().audio_format;
  if (ev.input_format != format || ev.output_format != format) {
    // A format mismatch is heard as loud static: better to end the call than to relay it.
    ended_ = true;
    out.push_back(end_call{end_reason::format_mismatch,
                           std::string(ev.type_name) + " confirmed input '" + peer_text(ev.input_format) +
                               "' and output '" + peer_text(ev.output_format) + "', not " + std::string(format) +
                               " both ways"});
    return;
  }
  if (!ev.text.empty()) out.push_back(log_line{log_level::info, peer_text(ev.text)});
  if (ready_) return;
  ready_ = true;
  for (const auto& frame : pre_connect_) {
    ++stats_.caller_frames;
    stats_.caller_bytes += protocol::base64_decoded_size(frame);
    out.push_back(send_upstream_audio{frame});
  }
  // pre_connect_ must outlive this step's actions (they point into it); it is released on the next frame.
  pre_connect_bytes_ = 0;
  for (auto& note : pending_context_) {
    adapter_->add_context_text(note.text, note.respond, commands_);
    send_upstream(commands_, out);
  }
  pending_context_.clear();
  if (!options_.greeting.empty() && !greeted_) {
    adapter_->greet(options_.greeting, commands_);
    send_upstream(commands_, out);
  }
  greeted_ = true;
}

void call_state::on_error(const upstream::event& ev, std::vector<action>& out) {
  std::string text = "upstream error";
  if (!ev.error.code.empty()) text += " " + peer_text(ev.error.code);
  text += ": " + peer_text(ev.error.message, log::reason_bytes);
  if (!ev.error.client_event_id.empty()) text += " (event " + peer_text(ev.error.client_event_id) + ")";
  switch (ev.error.scope) {
    case upstream::error_scope::session_lost:
      out.push_back(restart_upstream{std::move(text)});
      return;
    case upstream::error_scope::session:
      break;
    case upstream::error_scope::command:
    case upstream::error_scope::heard_report:
      // Without a configured session the call cannot work; later errors (truncate, cancel) are recoverable.
      if (ready_) {
        out.push_back(log_line{log_level::warn, std::move(text)});
        return;
      }
      break;
  }
  ended_ = true;
  out.push_back(end_call{end_reason::upstream_error, std::move(text)});
}

void call_state::on_session_ended(const upstream::event& ev, std::vector<action>& out) {
  const auto why = "the provider ended the session (" + peer_text(ev.text) + ")";
  switch (ev.ending) {
    case upstream::session_ending::expected:
      out.push_back(log_line{log_level::debug, why});
      return;
    case upstream::session_ending::restart:
      out.push_back(restart_upstream{why});
      return;
    case upstream::session_ending::end_call:
      ended_ = true;
      out.push_back(end_call{end_reason::upstream_closed, why});
      return;
  }
}

void call_state::on_audio_delta(const upstream::event& ev, std::int64_t now_ms, std::vector<action>& out) {
  if (!pre_connect_.empty() && ready_) pre_connect_.clear();
  if (is_cut(ev.response_id)) {
    ++stats_.late_deltas_dropped;
    // Never played, but the transcript will cover it: it counts in the audio the text is spread over.
    if (auto* turn = find_turn(ev.turn_id)) turn->audio_bytes += protocol::base64_decoded_size(ev.audio_b64);
    return;
  }
  if (!ready_) {
    warn_once(warned_audio_before_ready_, "dropping model audio that arrived before the session was ready", out);
    return;
  }
  if (!protocol::is_base64(ev.audio_b64)) {
    ++stats_.invalid_frames;
    warn_once(warned_invalid_delta_, "dropping model audio with invalid base64", out);
    return;
  }
  const auto total = protocol::base64_decoded_size(ev.audio_b64);
  spoke_this_turn_ = true;
  turn_for(ev.turn_id, ev.response_id).audio_bytes += total;
  const auto serial = ledger_.on_audio_received(ev.turn_id, ev.response_id, ev.content_index, total);
  const auto chunk_chars = options_.max_chunk_bytes / 3 * b64_chars_per_3_bytes;
  std::string_view rest = ev.audio_b64;
  while (!rest.empty()) {
    const auto piece = rest.substr(0, chunk_chars);
    rest.remove_prefix(piece.size());
    const auto bytes = protocol::base64_decoded_size(piece);
    // Nothing held back and it may go now: sent from the event itself (its view lives as long as an
    // action's may), not copied into the queue, whose slots would keep a copy's capacity for the call.
    if (queue_.empty() && may_release(bytes, now_ms))
      send_chunk(serial, piece, bytes, now_ms, out);
    else
      enqueue(serial, piece, bytes);
  }
  release_paced_audio(now_ms, out);
  const auto limit = static_cast<std::uint64_t>(options_.max_queued_audio_ms) * ulaw_bytes_per_ms;
  if (queued_bytes_ > limit) {
    ended_ = true;
    out.push_back(end_call{end_reason::slow_peer, "more than " + std::to_string(options_.max_queued_audio_ms) +
                                                      " ms of assistant audio queued for pacing"});
  }
}

void call_state::on_speech_started(std::int64_t now_ms, std::vector<action>& out) {
  const bool unplayed = ledger_.has_unplayed() || !queue_.empty();
  // The server cancels the active response itself (interrupt_response, or a model that owns
  // turn-taking); otherwise we do.
  const bool stops_itself =
      session_.vad_interrupt_response || adapter_->caps().interruption == upstream::interruption_model::model_owned;
  bool cut_active = false;
  if (active_response_) {
    if (!stops_itself && unplayed) {
      adapter_->cancel_response(commands_);
      send_upstream(commands_, out);
    }
    if (stops_itself || unplayed) {
      remember_cut(*active_response_);
      active_response_.reset();
      cut_active = true;
    }
  }
  stop_playback(now_ms, unplayed, cut_active, stop_cause::barge_in, out);
}

void call_state::on_upstream_lost(std::int64_t now_ms, std::vector<action>& out) {
  if (ended_) return;
  ready_ = false;
  session_lost_ = true;
  tool_calls_.on_session_lost();
  // Transcripts the lost session never finished end with what arrived: waiting for them would hold
  // back every later final, and leave the turn out of the replay.
  for (auto& t : turns_) t.transcript_done = true;
  const bool unplayed = ledger_.has_unplayed() || !queue_.empty();
  bool cut_active = false;
  if (active_response_) {
    remember_cut(*active_response_);
    active_response_.reset();
    cut_active = true;
  }
  // The lost session's answer will never finish: silence beats half a sentence followed by a gap.
  stop_playback(now_ms, unplayed, cut_active, stop_cause::upstream_lost, out);
}

void call_state::stop_playback(std::int64_t now_ms, bool unplayed, bool cut_active, stop_cause cause,
                               std::vector<action>& out) {
  if (!unplayed) {
    // Nothing to clear or truncate. But the cut response's items still in the ledger (played as far
    // as they got) will see no more audio, nor output_audio.done, as both are dropped from now on:
    // without settling them they would hold back every later transcript.
    if (cut_active && !ledger_.empty())
      for (const auto& c : ledger_.cut_all(twilio_clock(now_ms))) mark_cut(c);
  } else {
    if (cause == stop_cause::barge_in) ++stats_.barge_ins;
    out.push_back(send_twilio_clear{});
    adapter_->playback_cleared();
    const auto cuts = ledger_.cut_all(twilio_clock(now_ms));
    queue_.clear();
    queued_bytes_ = 0;
    playout_end_ = now_ms * static_cast<std::int64_t>(ulaw_bytes_per_ms);
    for (const auto& c : cuts) {
      remember_cut(c.response_id);
      mark_cut(c);
      if (cause != stop_cause::barge_in) continue;  // a lost session has nothing left to truncate
      // Only a provider that can be told what was heard gets a report (docs/protocols.md E1).
      adapter_->report_heard(c.item_id, c.content_index, c.audio_end_ms, commands_);
      if (commands_.empty()) continue;
      send_upstream(commands_, out);
      ++stats_.truncates_sent;
    }
    if (!cuts.empty() && cause == stop_cause::barge_in)
      out.push_back(publish{barge_in{cuts.front().item_id, cuts.front().audio_end_ms}});
  }
  for (auto& t : turns_) settle_if_cut(t);
  finalize_turns(out);
}

void call_state::remember_cut(std::string_view response_id) {
  if (is_cut(response_id)) return;
  cut_responses_.emplace_back(response_id);
  if (cut_responses_.size() > max_remembered_cut_responses) cut_responses_.erase(cut_responses_.begin());
}

void call_state::mark_cut(const playback_ledger::cut& c) {
  for (auto& t : turns_)
    if (t.item_id == c.item_id) {
      t.interrupted = true;
      t.heard_ms = c.audio_end_ms;
    }
}

// A turn of a cut response that had no audio left to cut (none arrived, or it came after the cut):
// the caller heard none of it.
void call_state::settle_if_cut(assistant_turn& turn) const {
  if (turn.interrupted || turn.audio_finished || !is_cut(turn.response_id)) return;
  turn.interrupted = true;
  turn.heard_ms = 0;
}

void call_state::on_transcript_done(const upstream::event& ev, std::vector<action>& out) {
  auto& turn = turn_for(ev.turn_id, ev.response_id);
  turn.text = ev.text;
  turn.transcript_done = true;
  settle_if_cut(turn);
  if (ledger_.find(ev.turn_id) == nullptr && !turn.interrupted) turn.audio_finished = true;
  finalize_turns(out);
}

// ---------------------------------------------------------------------------------------------
// Pacing

void call_state::enqueue(std::uint64_t serial, std::string_view payload, std::uint64_t bytes) {
  auto& slot = queue_.append();
  slot.serial = serial;
  slot.bytes = bytes;
  slot.payload_b64.assign(payload);
  queued_bytes_ += bytes;
}

// A chunk goes out if it keeps us within the lead, or if Twilio has nothing left to play (so a chunk
// longer than the lead still goes out).
bool call_state::may_release(std::uint64_t bytes, std::int64_t now_ms) const noexcept {
  const auto now = now_ms * static_cast<std::int64_t>(ulaw_bytes_per_ms);
  const auto lead = std::int64_t{pacing_lead_ms()} * static_cast<std::int64_t>(ulaw_bytes_per_ms);
  const auto ahead = std::max<std::int64_t>(0, playout_end_ - now);
  return lead <= 0 || ahead <= 0 || ahead + static_cast<std::int64_t>(bytes) <= lead;
}

void call_state::send_chunk(std::uint64_t serial, std::string_view payload_b64, std::uint64_t bytes,
                            std::int64_t now_ms, std::vector<action>& out) {
  const auto now = now_ms * static_cast<std::int64_t>(ulaw_bytes_per_ms);
  playout_end_ = std::max(playout_end_, now) + static_cast<std::int64_t>(bytes);
  ++stats_.assistant_chunks;
  stats_.assistant_bytes += bytes;
  out.push_back(send_twilio_media{payload_b64});
  out.push_back(send_twilio_mark{ledger_.on_sent(serial, bytes, twilio_clock(now_ms))});
}

void call_state::release_paced_audio(std::int64_t now_ms, std::vector<action>& out) {
  while (!queue_.empty() && may_release(queue_.front().bytes, now_ms)) {
    const auto& chunk = queue_.front();
    queue_.pop_front();  // the chunk stays in its slot: the media action refers to it
    queued_bytes_ -= chunk.bytes;
    send_chunk(chunk.serial, chunk.payload_b64, chunk.bytes, now_ms, out);
  }
}

int call_state::pacing_lead_ms() const noexcept {
  if (adapter_->caps().interruption != upstream::interruption_model::model_owned) return options_.pacing_lead_ms;
  return std::min(options_.pacing_lead_ms, options_.model_owned_pacing_lead_ms);
}

void call_state::on_tick(std::int64_t now_ms, std::vector<action>& out) {
  if (ended_) return;
  release_paced_audio(now_ms, out);
  if (auto digits = dtmf_.on_tick(now_ms)) hand_over_digits(*digits, out);
  settle_control(now_ms, out);
  if (const auto wake = adapter_->next_wakeup(); !wake || *wake > now_ms) return;
  // What the adapter infers from time (a turn that stopped); its views live until its next step, so
  // each event's actions are carried out before the next one is handled.
  tick_events_.clear();
  adapter_->on_tick(now_ms, tick_events_);
  for (const auto& ev : tick_events_) on_upstream(ev, now_ms, out);
}

std::optional<std::int64_t> call_state::next_wakeup() const {
  if (ended_) return std::nullopt;
  std::optional<std::int64_t> earliest;
  for (const auto wake : {next_pacing_wakeup(), session_lost_ ? std::nullopt : adapter_->next_wakeup(),
                          dtmf_.next_wakeup(), control_.next_wakeup()})
    if (wake && (!earliest || *wake < *earliest)) earliest = wake;
  return earliest;
}

std::optional<std::int64_t> call_state::next_pacing_wakeup() const {
  if (queue_.empty() || pacing_lead_ms() <= 0) return std::nullopt;
  // The first time release_paced_audio() lets the head chunk out (see there), rounded up to a whole ms.
  constexpr auto per_ms = static_cast<std::int64_t>(ulaw_bytes_per_ms);
  const auto head = static_cast<std::int64_t>(queue_.front().bytes);
  const auto lead = std::int64_t{pacing_lead_ms()} * per_ms;
  const auto fits = playout_end_ - std::max<std::int64_t>(0, lead - head);
  return fits / per_ms + (fits % per_ms > 0 ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Transcripts

call_state::assistant_turn& call_state::turn_for(std::string_view item_id, std::string_view response_id) {
  if (auto* t = find_turn(item_id)) return *t;
  assistant_turn t;
  t.item_id = item_id;
  t.response_id = response_id;
  turns_.push_back(std::move(t));
  return turns_.back();
}

call_state::assistant_turn* call_state::find_turn(std::string_view item_id) {
  const auto it = std::find_if(turns_.begin(), turns_.end(), [&](const auto& t) { return t.item_id == item_id; });
  return it == turns_.end() ? nullptr : &*it;
}

bool call_state::is_cut(std::string_view response_id) const {
  return std::find(cut_responses_.begin(), cut_responses_.end(), response_id) != cut_responses_.end();
}

void call_state::finalize_turns(std::vector<action>& out) {
  for (const auto& id : ledger_.take_finished())
    for (auto& t : turns_)
      if (t.item_id == id) t.audio_finished = true;
  // Publish in order; a turn waits until its transcript is complete and its audio played or cut,
  // so that the final text says whether the caller heard all of it.
  while (!turns_.empty()) {
    auto& t = turns_.front();
    if (!t.transcript_done || !(t.audio_finished || t.interrupted)) break;
    publish_final(final_of(std::move(t)), out);
    turns_.erase(turns_.begin());
  }
}

transcript_final call_state::final_of(assistant_turn&& turn) {
  transcript_final final{role::assistant, std::move(turn.item_id), std::move(turn.text), turn.interrupted};
  if (!turn.interrupted) return final;
  final.heard_ms = turn.heard_ms;
  const auto audio_ms = static_cast<std::int64_t>(turn.audio_bytes / ulaw_bytes_per_ms);
  final.heard_text = heard_prefix(final.text, turn.heard_ms, audio_ms);
  final.heard_text_estimated = turn.heard_ms > 0 && turn.heard_ms < audio_ms;
  return final;
}

void call_state::finish(std::vector<action>& out) {
  for (auto& t : turns_) publish_final(final_of(std::move(t)), out);
  turns_.clear();
}

}  // namespace mb::call
