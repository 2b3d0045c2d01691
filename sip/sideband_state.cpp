#include "sip/sideband_state.hpp"

#include <algorithm>
#include <type_traits>

#include "log/escape.hpp"

namespace mb::sip {

using upstream::event_kind;

namespace {

// A person presses a few keys a second; more is a flood, dropped (as on a Media Streams call).
constexpr limits::rate dtmf_rate{.burst = 20, .refill_interval_ms = 100};
// Warnings the provider's messages can cause (errors, unknown events, failed transcriptions).
constexpr limits::rate peer_log_rate{.burst = 20, .refill_interval_ms = 1000};
// Transcripts left open at once per speaker; beyond, the oldest is published as it stands.
constexpr std::size_t max_open_turns = 16;
// Text kept per open turn for its final (the deltas are published as they come).
constexpr std::size_t max_turn_text_bytes = 32 * 1024;
// Messages kept for the model while no sideband is attached; beyond, the oldest is dropped.
constexpr std::size_t max_outbox_messages = 32;

std::string peer_text(std::string_view text, std::size_t max_bytes = log::name_bytes) {
  return log::escape_for_log(text, max_bytes);
}

void append_bounded(std::string& text, std::string_view more) {
  text.append(more.substr(0, max_turn_text_bytes - std::min(max_turn_text_bytes, text.size())));
}

// A transfer destination as a SIP Refer-To (docs/protocols.md J2): a number becomes a tel: URI.
std::string refer_uri(const std::string& target) {
  if (target.starts_with("sip:") || target.starts_with("sips:") || target.starts_with("tel:")) return target;
  return "tel:" + target;
}

template <typename Turn>
Turn* find_turn(std::vector<Turn>& turns, std::string_view item_id) {
  const auto it = std::find_if(turns.begin(), turns.end(), [&](const auto& t) { return t.item_id == item_id; });
  return it == turns.end() ? nullptr : &*it;
}

}  // namespace

sideband_state::sideband_state(sideband_setup setup, std::unique_ptr<upstream::adapter> adapter)
    : setup_(std::move(setup)),
      adapter_(std::move(adapter)),
      dtmf_(setup_.tools.dtmf),
      dtmf_budget_(dtmf_rate),
      peer_log_budget_(peer_log_rate) {
  tool_calls_.configure(setup_.tools);
  control_.configure(setup_.tools);
}

// ---------------------------------------------------------------------------------------------
// The sideband's connection

void sideband_state::on_attached(std::int64_t /*now_ms*/, std::vector<sideband_action>& out) {
  if (ended_) return;
  adapter_->attach_sideband();
  attached_ = true;
  for (auto& message : outbox_) out.push_back(call::send_upstream_event{std::move(message)});
  outbox_.clear();
  if (started_) {
    out.push_back(call::log_line{call::log_level::info, "sideband reattached: the session goes on"});
    // An adapter that names turns itself starts new ones on the new connection: the old ones can never
    // finish and end as they stand, cut by the loss. Item ids the provider gives continue instead.
    if (adapter_->caps().transcripts != upstream::transcript_model::items_with_finals) close_open_turns(out);
    return;
  }
  started_ = true;
  out.push_back(call::publish{call::call_started{setup_.stream_sid, setup_.parameters, setup_.agent, "sip"}});
  if (setup_.greeting.empty()) return;
  adapter_->greet(setup_.greeting, commands_);
  send(out);
}

void sideband_state::on_lost(std::int64_t /*now_ms*/, std::vector<sideband_action>& /*out*/) {
  // The call goes on at OpenAI and a new sideband joins the same session (docs/protocols.md J3): open
  // transcripts, tool calls in flight and a pending hang-up carry over; finish() closes what never does.
  attached_ = false;
}

void sideband_state::send(std::vector<sideband_action>& out) {
  for (auto& message : commands_) {
    if (attached_) {
      out.push_back(call::send_upstream_event{std::move(message)});
      continue;
    }
    if (outbox_.size() == max_outbox_messages) {
      outbox_.erase(outbox_.begin());
      warn_once(warned_outbox_full_, "no sideband attached: dropping the oldest message waiting for one", out);
    }
    outbox_.push_back(std::move(message));
  }
  commands_.clear();
}

// ---------------------------------------------------------------------------------------------
// The session's events

void sideband_state::on_upstream(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out) {
  // A sideband being replaced may still deliver events; its successor delivers the session's own.
  if (ended_ || !attached_) return;
  on_event(ev, now_ms, out);
  settle_control(now_ms, out);
}

void sideband_state::on_event(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out) {
  switch (ev.kind) {
    case event_kind::assistant_transcript_delta:
      spoke_this_turn_ = true;
      append_bounded(open_assistant_turn(ev, out).text, ev.text);
      out.push_back(call::publish{call::transcript_delta{call::role::assistant, std::string(ev.turn_id),
                                                         std::string(ev.text)}});
      return;
    case event_kind::assistant_transcript_final:
      spoke_this_turn_ = true;
      assistant_final(ev, out);
      return;
    case event_kind::caller_transcript_delta:
      append_bounded(open_caller_turn(ev.turn_id, out).text, ev.text);
      out.push_back(
          call::publish{call::transcript_delta{call::role::caller, std::string(ev.turn_id), std::string(ev.text)}});
      return;
    case event_kind::caller_transcript_final:
      std::erase_if(caller_turns_, [&](const auto& t) { return t.item_id == ev.turn_id; });
      out.push_back(
          call::publish{call::transcript_final{call::role::caller, std::string(ev.turn_id), std::string(ev.text)}});
      return;
    case event_kind::caller_transcript_failed:
      std::erase_if(caller_turns_, [&](const auto& t) { return t.item_id == ev.turn_id; });
      warn_peer("caller transcription failed for item " + peer_text(ev.turn_id), now_ms, out);
      return;
    case event_kind::caller_speech_started:
      on_speech_started();
      return;
    case event_kind::response_started:
      active_response_ = std::string(ev.response_id);
      control_.on_response_started();
      return;
    case event_kind::response_done:
      if (active_response_ == ev.response_id) active_response_.reset();
      tool_calls_.on_response_done(ev.response_id, active_response_.has_value(), *adapter_, scratch_);
      relay(out);
      usage_.input_tokens += ev.used.input_tokens;
      usage_.output_tokens += ev.used.output_tokens;
      usage_.total_tokens += ev.used.total_tokens;
      return;
    case event_kind::tool_call:
      on_tool_call(ev, now_ms, out);
      return;
    case event_kind::tool_call_cancelled:
      tool_calls_.on_cancelled(ev.tool_call_id, scratch_);
      relay(out);
      return;
    case event_kind::caller_dtmf:
      on_key(ev.text, now_ms, out);
      return;
    case event_kind::error:
      on_error(ev, now_ms, out);
      return;
    case event_kind::session_ended:
      on_session_ended(ev, out);
      return;
    case event_kind::unknown:
      if (peer_log_budget_.take(now_ms))
        out.push_back(call::log_line{call::log_level::debug,
                                     "ignoring unknown sideband event '" + peer_text(ev.type_name) + "'"});
      return;
    // The audio travels between OpenAI and the phone: the sideband may reflect some of it, never to relay.
    case event_kind::assistant_audio:
    case event_kind::assistant_audio_done:
    case event_kind::heard_report_accepted:
    case event_kind::caller_speech_stopped:
    case event_kind::session_ready:  // configured when the call was accepted
    case event_kind::session_renewal_due:  // Gemini's; no SIP path
    case event_kind::ignored:
      return;
  }
}

sideband_state::assistant_turn& sideband_state::open_assistant_turn(const upstream::event& ev,
                                                                     std::vector<sideband_action>& out) {
  if (auto* turn = find_turn(assistant_turns_, ev.turn_id)) return *turn;
  if (assistant_turns_.size() == max_open_turns) {
    warn_once(warned_open_turns_, "too many open transcripts: publishing the oldest as it stands", out);
    publish_assistant(std::move(assistant_turns_.front()), out);
    assistant_turns_.erase(assistant_turns_.begin());
  }
  assistant_turns_.push_back({std::string(ev.turn_id), std::string(ev.response_id), {},
                              !cut_response_.empty() && ev.response_id == cut_response_});
  return assistant_turns_.back();
}

sideband_state::caller_turn& sideband_state::open_caller_turn(std::string_view item_id,
                                                               std::vector<sideband_action>& out) {
  if (auto* turn = find_turn(caller_turns_, item_id)) return *turn;
  if (caller_turns_.size() == max_open_turns) {
    warn_once(warned_open_turns_, "too many open transcripts: publishing the oldest as it stands", out);
    publish_caller(std::move(caller_turns_.front()), out);
    caller_turns_.erase(caller_turns_.begin());
  }
  caller_turns_.push_back({std::string(item_id), {}});
  return caller_turns_.back();
}

void sideband_state::assistant_final(const upstream::event& ev, std::vector<sideband_action>& out) {
  const auto* open = find_turn(assistant_turns_, ev.turn_id);
  const bool interrupted = open ? open->interrupted : !cut_response_.empty() && ev.response_id == cut_response_;
  std::erase_if(assistant_turns_, [&](const auto& t) { return t.item_id == ev.turn_id; });
  publish_assistant({std::string(ev.turn_id), std::string(ev.response_id),
                     std::string(ev.text.substr(0, max_turn_text_bytes)), interrupted},
                    out);
}

void sideband_state::publish_assistant(assistant_turn&& turn, std::vector<sideband_action>& out) {
  // heard_ms stays -1: the audio plays between OpenAI and the phone, so what the caller heard of a cut
  // turn is unknown here (docs/protocols.md J3).
  out.push_back(call::publish{
      call::transcript_final{call::role::assistant, std::move(turn.item_id), std::move(turn.text), turn.interrupted}});
}

void sideband_state::publish_caller(caller_turn&& turn, std::vector<sideband_action>& out) {
  out.push_back(call::publish{call::transcript_final{call::role::caller, std::move(turn.item_id), std::move(turn.text)}});
}

void sideband_state::on_speech_started() {
  spoke_this_turn_ = false;
  tool_calls_.on_caller_turn();
  if (!active_response_) return;
  // The caller spoke over the answer: OpenAI stops it at the phone; its transcripts end interrupted.
  cut_response_ = *active_response_;
  for (auto& t : assistant_turns_)
    if (t.response_id == cut_response_) t.interrupted = true;
}

void sideband_state::on_error(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out) {
  // The session was configured when the call was accepted; an error here concerns one of the sideband's
  // commands (a tool result, context text), and the call goes on.
  std::string text = "sideband error";
  if (!ev.error.code.empty()) text += " " + peer_text(ev.error.code);
  text += ": " + peer_text(ev.error.message, log::reason_bytes);
  if (!ev.error.client_event_id.empty()) text += " (event " + peer_text(ev.error.client_event_id) + ")";
  warn_peer(std::move(text), now_ms, out);
}

void sideband_state::on_session_ended(const upstream::event& ev, std::vector<sideband_action>& out) {
  const auto why = "the provider ended the session (" + peer_text(ev.text) + ")";
  if (ev.ending == upstream::session_ending::end_call) {
    // On a SIP call the remote party is the caller: their hang-up is the call's ordinary end (docs/protocols.md D7).
    end(ev.text == "remote_hangup" ? call::end_reason::caller_hung_up : call::end_reason::upstream_closed, why, out);
    return;
  }
  // Anything else the sideband's own socket shows: the shell reconnects or ends the call when it closes.
  out.push_back(call::log_line{call::log_level::info, why});
}

// ---------------------------------------------------------------------------------------------
// Tools, call control and DTMF

void sideband_state::on_tool_call(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out) {
  // The built-in tools come first: a webhook tool cannot take their names.
  if (control_.handles(ev.tool_name)) {
    control_.on_tool_call(ev.tool_call_id, ev.tool_name, ev.tool_arguments, playback(), now_ms, scratch_, notes_);
  } else {
    tool_calls_.on_call(ev, {setup_.call_sid, setup_.agent, &setup_.parameters}, now_ms, *adapter_, scratch_);
  }
  relay(out);
}

void sideband_state::on_tool_response(std::uint64_t request_id, const call::webhook_response& response,
                                      std::int64_t now_ms, std::vector<sideband_action>& out) {
  if (ended_) return;
  tool_calls_.on_response(request_id, response, active_response_ ? std::string_view(*active_response_) : std::string_view(),
                          now_ms, *adapter_, scratch_);
  relay(out);
}

void sideband_state::on_control_done(std::uint64_t request_id, bool ok, std::string_view detail,
                                     std::int64_t /*now_ms*/, std::vector<sideband_action>& out) {
  if (ended_) return;
  const bool hung_up =
      ok && control_in_flight_ && *control_in_flight_ == std::pair{request_id, sip_control::kind::hang_up};
  if (control_in_flight_ && control_in_flight_->first == request_id) control_in_flight_.reset();
  control_.on_update_done(request_id, {ok, std::string(detail)}, scratch_, notes_);
  relay(out);
  // OpenAI ended the call: nothing more comes over the sideband.
  if (hung_up) end(call::end_reason::hung_up, "hung up through OpenAI's control plane", out);
}

void sideband_state::on_operator(const call::operator_command& command, std::int64_t now_ms,
                                 std::vector<sideband_action>& out) {
  if (ended_) return;
  control_.on_operator(command, now_ms, scratch_, notes_);
  relay(out);
}

call::playback_state sideband_state::playback() const noexcept {
  // The sideband sees no playback: an answer is over when its response is done (docs/protocols.md J3).
  return {!active_response_, spoke_this_turn_};
}

void sideband_state::settle_control(std::int64_t now_ms, std::vector<sideband_action>& out) {
  if (ended_) return;
  control_.on_playback(playback(), now_ms, scratch_);
  relay(out);
}

void sideband_state::relay(std::vector<sideband_action>& out) {
  for (auto& action : scratch_) {
    std::visit(
        [&](auto& a) {
          using type = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<type, call::send_upstream_event>) {
            commands_.push_back(std::move(a.json));
            send(out);
          } else if constexpr (std::is_same_v<type, call::update_twilio_call>) {
            const bool hang_up = a.what == call::update_twilio_call::kind::hang_up;
            sip_control control{a.request_id, hang_up ? sip_control::kind::hang_up : sip_control::kind::refer,
                                hang_up ? std::string() : refer_uri(a.target)};
            control_in_flight_ = std::pair{control.request_id, control.what};
            out.push_back(std::move(control));
          } else if constexpr (std::is_same_v<type, call::end_call>) {
            ended_ = true;
            out.push_back(std::move(a));
          } else if constexpr (std::is_same_v<type, call::publish> || std::is_same_v<type, call::log_line> ||
                               std::is_same_v<type, call::invoke_tool>) {
            out.push_back(std::move(a));
          }
          // Nothing else is produced by tool_calls and call_controller (Twilio media, upstream sessions).
        },
        action);
  }
  scratch_.clear();
  tell_model(out);
}

void sideband_state::tell_model(std::vector<sideband_action>& out) {
  for (auto& note : notes_) {
    if (note.what == call::model_note::kind::context_text)
      adapter_->add_context_text(note.text, note.respond, commands_);
    else
      adapter_->send_tool_result(note.tool_call_id, note.tool_name, note.text, note.respond, commands_);
    send(out);
  }
  notes_.clear();
}

void sideband_state::on_key(std::string_view key, std::int64_t now_ms, std::vector<sideband_action>& out) {
  if (!upstream::is_dtmf_key(key) || !dtmf_budget_.take(now_ms)) {
    warn_once(warned_dtmf_dropped_, "dropping DTMF that is not a key or comes faster than a person types", out);
    return;
  }
  const bool mask = setup_.tools.dtmf.mask;
  out.push_back(call::publish{call::dtmf{mask ? std::string() : std::string(key), mask}});
  if (auto digits = dtmf_.on_key(key[0], now_ms)) hand_over_digits(*digits, out);
}

void sideband_state::hand_over_digits(const std::string& digits, std::vector<sideband_action>& out) {
  auto [line, event] = call::digits_handed_over(digits, setup_.tools.dtmf);
  out.push_back(std::move(line));
  out.push_back(std::move(event));
  adapter_->add_context_text(call::dtmf_context_text(digits), setup_.tools.dtmf.respond, commands_);
  send(out);
}

// ---------------------------------------------------------------------------------------------
// Time and the end

void sideband_state::on_tick(std::int64_t now_ms, std::vector<sideband_action>& out) {
  if (ended_) return;
  if (auto digits = dtmf_.on_tick(now_ms)) hand_over_digits(*digits, out);
  settle_control(now_ms, out);
  if (!attached_ || ended_) return;
  if (const auto wake = adapter_->next_wakeup(); !wake || *wake > now_ms) return;
  // What the adapter infers from time (a GPT-Live turn that stopped); its views live until its next step.
  tick_events_.clear();
  adapter_->on_tick(now_ms, tick_events_);
  for (const auto& ev : tick_events_) on_upstream(ev, now_ms, out);
}

std::optional<std::int64_t> sideband_state::next_wakeup() const {
  if (ended_) return std::nullopt;
  std::optional<std::int64_t> earliest;
  for (const auto wake : {attached_ ? adapter_->next_wakeup() : std::nullopt, dtmf_.next_wakeup(),
                          control_.next_wakeup()})
    if (wake && (!earliest || *wake < *earliest)) earliest = wake;
  return earliest;
}

void sideband_state::end(call::end_reason reason, std::string detail, std::vector<sideband_action>& out) {
  if (ended_) return;
  ended_ = true;
  out.push_back(call::end_call{reason, std::move(detail)});
}

void sideband_state::finish(std::vector<sideband_action>& out) {
  // The call ended before these turns did.
  close_open_turns(out);
}

void sideband_state::close_open_turns(std::vector<sideband_action>& out) {
  // Transcripts that will never finish end with what arrived, the assistant's as interrupted.
  for (auto& t : caller_turns_) publish_caller(std::move(t), out);
  caller_turns_.clear();
  for (auto& t : assistant_turns_) {
    t.interrupted = true;
    publish_assistant(std::move(t), out);
  }
  assistant_turns_.clear();
}

void sideband_state::warn_once(bool& flag, std::string text, std::vector<sideband_action>& out) {
  if (flag) return;
  flag = true;
  out.push_back(call::log_line{call::log_level::warn, std::move(text)});
}

void sideband_state::warn_peer(std::string text, std::int64_t now_ms, std::vector<sideband_action>& out) {
  if (peer_log_budget_.take(now_ms)) out.push_back(call::log_line{call::log_level::warn, std::move(text)});
}

}  // namespace mb::sip
