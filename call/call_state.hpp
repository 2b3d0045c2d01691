#pragma once
// The per-call state machine: Twilio messages and neutral upstream events in, actions out. No I/O, no
// clock of its own: every input carries the caller's monotonic time in ms.
//
// It speaks to the provider only through its upstream::adapter, which translates the provider's
// messages into neutral events and its commands into the provider's messages, and decides by the
// adapter's capabilities (interruption model, audio format), never by the provider's name.
//
// It owns the decisions of a call: when the upstream is ready, buffering caller audio until then,
// pacing assistant audio to Twilio, marks, barge-in (clear + truncate + dropping late deltas) and the
// transcripts the call emits.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call/actions.hpp"
#include "call/call_control.hpp"
#include "call/call_tools.hpp"
#include "call/control.hpp"
#include "call/dtmf_collector.hpp"
#include "call/playback_ledger.hpp"
#include "call/tool_calls.hpp"
#include "containers/ring.hpp"
#include "limits/token_bucket.hpp"
#include "protocol/realtime_events.hpp"
#include "upstream/adapter.hpp"
#include "protocol/twilio_messages.hpp"

namespace mb::call {

struct call_options {
  int pacing_lead_ms = 300;           // assistant audio allowed ahead of real-time playout; 0: no pacing
  // The lead when the model owns interruption (GPT-Live): nothing can cut Twilio's queue at the moment
  // the caller starts speaking, so it is kept short (docs/protocols.md D5). Never above pacing_lead_ms.
  int model_owned_pacing_lead_ms = 150;
  int pre_connect_buffer_ms = 2000;   // caller audio kept until the upstream is ready (oldest dropped)
  int max_queued_audio_ms = 120000;   // assistant audio held back by pacing; beyond it the call ends
  std::uint64_t max_chunk_bytes = 1200;  // 150 ms; larger deltas are split (a multiple of 3: base64-aligned)
  std::string greeting;               // instructions for a first response; empty: wait for the caller
  std::size_t max_history_chars = 16000;  // transcript kept for replay into a new upstream session
  // DTMF keys published per call: a person presses a few keys a second; more is a flood, dropped.
  std::uint32_t dtmf_per_second = 10;
  std::uint32_t dtmf_burst = 20;
  // After the caller's turn ends, an answer is due: a rollover waits this long for it to start rather
  // than close the session that is about to answer.
  int answer_wait_ms = 3000;
};

struct call_stats {
  std::uint64_t caller_frames = 0;          // Twilio media forwarded upstream
  std::uint64_t caller_bytes = 0;
  std::uint64_t assistant_chunks = 0;       // media sent to Twilio
  std::uint64_t assistant_bytes = 0;
  std::uint64_t barge_ins = 0;
  std::uint64_t truncates_sent = 0;
  std::uint64_t late_deltas_dropped = 0;
  std::uint64_t buffered_frames_dropped = 0;  // pre-connect buffer overflow
  std::uint64_t invalid_frames = 0;
  std::uint64_t dtmf_dropped = 0;           // over the rate limit, or not a key
  protocol::token_usage usage;              // summed over response.done
};

class call_state {
 public:
  // `adapter`: the provider's protocol; null: the Realtime API's.
  call_state(protocol::session_config session, call_options options, std::unique_ptr<upstream::adapter> adapter = nullptr);

  // The call's own agent profile (rendered instructions, greeting), known once Twilio's start has
  // been read. Call before on_twilio(start): the session is sent when the upstream connects, and
  // `agent` is reported in call_started.
  // `adapter` null: keep the current one.
  void configure(protocol::session_config session, std::string greeting, std::string agent,
                 std::unique_ptr<upstream::adapter> adapter = nullptr);

  // The call's tools, transfer allowlist and DTMF handling (its agent profile's); before the upstream
  // connects, since the tools are declared in the session.
  void set_tools(call_tools_config tools);

  void on_twilio(const protocol::twilio_message& msg, std::int64_t now_ms, std::vector<action>& out);
  // The webhook of invoke_tool `request_id` answered, failed or timed out.
  void on_tool_response(std::uint64_t request_id, const webhook_response& response, std::int64_t now_ms,
                        std::vector<action>& out);
  // Twilio's REST API answered update_twilio_call `request_id`.
  void on_call_update_done(std::uint64_t request_id, const call_update_outcome& outcome, std::int64_t now_ms,
                           std::vector<action>& out);
  // An operator's command for this call (dashboard or API), already authorised.
  void on_operator(const operator_command& command, std::int64_t now_ms, std::vector<action>& out);
  // A new upstream session is open: configure it and replay the conversation so far as text items.
  void on_upstream_connected(std::vector<action>& out);
  // The upstream session is gone (the shell reconnects): stop assistant audio, buffer caller audio,
  // close its unfinished transcripts. Its events are ignored from now on, until on_upstream_connected.
  void on_upstream_lost(std::int64_t now_ms, std::vector<action>& out);
  // No assistant audio playing or coming, and no answer due to the caller's last turn (for up to
  // answer_wait_ms): a good moment to roll the upstream session over.
  [[nodiscard]] bool quiet(std::int64_t now_ms) const noexcept;
  // One neutral event, translated by upstream() from the provider's message.
  void on_upstream(const upstream::event& ev, std::int64_t now_ms, std::vector<action>& out);
  // The call is ending: what to tell the provider first (its close request, when it has one).
  void close_upstream_session(std::vector<action>& out);
  // Pacing, and the adapter's own wake-ups: call at or after next_wakeup().
  void on_tick(std::int64_t now_ms, std::vector<action>& out);
  [[nodiscard]] std::optional<std::int64_t> next_wakeup() const;
  // The call is ending: publish what is still pending (assistant turns never finalised).
  void finish(std::vector<action>& out);

  [[nodiscard]] bool started() const noexcept { return start_.has_value(); }
  [[nodiscard]] bool upstream_ready() const noexcept { return ready_; }
  [[nodiscard]] const protocol::twilio_start* start_info() const { return start_ ? &*start_ : nullptr; }
  [[nodiscard]] const call_stats& stats() const noexcept { return stats_; }
  [[nodiscard]] const call_tools_config& tools() const noexcept { return tools_; }
  [[nodiscard]] const playback_ledger& ledger() const noexcept { return ledger_; }
  [[nodiscard]] std::size_t queued_chunks() const noexcept { return queue_.size(); }
  // The caller cut this response (barge-in, or a lost session): its late deltas are dropped.
  [[nodiscard]] bool is_cut(std::string_view response_id) const;
  // The provider's protocol: the shell translates the provider's messages and builds caller audio
  // messages with it.
  [[nodiscard]] upstream::adapter& upstream() noexcept { return *adapter_; }

 private:
  struct queued_chunk {
    std::uint64_t serial = 0;
    std::uint64_t bytes = 0;
    std::string payload_b64;
  };
  struct assistant_turn {
    std::string item_id;
    std::string response_id;
    std::string text;            // deltas so far, replaced by the final transcript
    bool transcript_done = false;
    bool audio_finished = false;
    bool interrupted = false;
    std::int64_t heard_ms = -1;
    std::uint64_t audio_bytes = 0;  // all audio generated for it, late deltas included: what `text` spans
  };

  void on_start(const protocol::twilio_message& msg, std::int64_t now_ms, std::vector<action>& out);
  void on_caller_media(const protocol::twilio_message& msg, std::int64_t now_ms, std::vector<action>& out);
  void on_mark(std::string_view name, std::int64_t now_ms, std::vector<action>& out);
  void on_dtmf(std::string_view digit, std::int64_t now_ms, std::vector<action>& out);
  void on_upstream_event(const upstream::event& ev, std::int64_t now_ms, std::vector<action>& out);
  void on_session_ready(const upstream::event& ev, std::vector<action>& out);
  void on_error(const upstream::event& ev, std::vector<action>& out);
  void on_session_ended(const upstream::event& ev, std::vector<action>& out);
  void on_audio_delta(const upstream::event& ev, std::int64_t now_ms, std::vector<action>& out);
  // The adapter's messages for one command, as actions.
  void send_upstream(std::vector<std::string>& messages, std::vector<action>& out);
  void on_speech_started(std::int64_t now_ms, std::vector<action>& out);
  enum class stop_cause { barge_in, upstream_lost };
  void stop_playback(std::int64_t now_ms, bool unplayed, bool cut_active, stop_cause cause, std::vector<action>& out);
  void publish_final(transcript_final final, std::vector<action>& out);
  void on_transcript_done(const upstream::event& ev, std::vector<action>& out);
  void remember_cut(std::string_view response_id);
  void mark_cut(const playback_ledger::cut& c);
  void settle_if_cut(assistant_turn& turn) const;

  void enqueue(std::uint64_t serial, std::string_view payload, std::uint64_t bytes);
  [[nodiscard]] std::optional<std::int64_t> next_pacing_wakeup() const;
  [[nodiscard]] int pacing_lead_ms() const noexcept;
  [[nodiscard]] bool may_release(std::uint64_t bytes, std::int64_t now_ms) const noexcept;
  void send_chunk(std::uint64_t serial, std::string_view payload_b64, std::uint64_t bytes, std::int64_t now_ms,
                  std::vector<action>& out);
  void release_paced_audio(std::int64_t now_ms, std::vector<action>& out);
  void finalize_turns(std::vector<action>& out);
  [[nodiscard]] static transcript_final final_of(assistant_turn&& turn);
  assistant_turn& turn_for(std::string_view item_id, std::string_view response_id);
  [[nodiscard]] assistant_turn* find_turn(std::string_view item_id);
  [[nodiscard]] std::int64_t twilio_clock(std::int64_t now_ms) const noexcept { return now_ms + clock_offset_ms_; }
  void warn_once(bool& flag, std::string text, std::vector<action>& out);
  // Call control and DTMF (call_control.hpp, dtmf_collector.hpp).
  [[nodiscard]] playback_state playback() const noexcept;
  void settle_control(std::int64_t now_ms, std::vector<action>& out);
  void tell_model(std::vector<action>& out);
  void add_context(std::string text, bool respond, std::vector<action>& out);
  void hand_over_digits(const std::string& digits, std::vector<action>& out);

  protocol::session_config session_;
  call_options options_;
  call_tools_config tools_;
  tool_calls tool_calls_;
  std::unique_ptr<upstream::adapter> adapter_;
  std::vector<std::string> commands_;        // the adapter's messages for one command, reused
  std::vector<upstream::event> tick_events_;  // what the adapter infers on a tick, reused
  std::string agent_;
  std::optional<protocol::twilio_start> start_;
  bool upstream_requested_ = false;
  bool ready_ = false;
  bool session_lost_ = false;  // on_upstream_lost until the next on_upstream_connected
  bool ended_ = false;

  // Twilio media clock: local time plus the smallest observed network delay (max of timestamp - arrival).
  std::int64_t clock_offset_ms_ = 0;

  std::vector<std::string> pre_connect_;  // base64 frames waiting for the session to be ready
  std::uint64_t pre_connect_bytes_ = 0;

  playback_ledger ledger_;
  containers::ring<queued_chunk> queue_;  // chunks held back by pacing
  std::uint64_t queued_bytes_ = 0;
  // Local time when Twilio will have played all we sent, in μ-law byte durations (1/8 ms): whole ms
  // would drift by up to 7/8 ms per odd-sized chunk.
  std::int64_t playout_end_ = 0;

  std::optional<std::string> active_response_;
  // When the caller's last turn ended with no answer started since (quiet()).
  std::optional<std::int64_t> answer_due_since_ms_;
  std::vector<std::string> cut_responses_;  // recent responses cut by barge-in: their late deltas are dropped
  std::vector<assistant_turn> turns_;
  struct history_turn {
    role speaker;
    std::string text;  // what the caller heard of it
  };
  std::deque<history_turn> history_;
  std::size_t history_chars_ = 0;
  bool greeted_ = false;

  limits::token_bucket dtmf_budget_;
  dtmf_collector dtmf_;
  call_controller control_;
  std::vector<model_note> notes_;  // what call_controller has for the model, reused
  struct context_note {
    std::string text;
    bool respond = false;
  };
  std::vector<context_note> pending_context_;  // context text waiting for the session to be ready
  bool spoke_this_turn_ = false;  // assistant audio since the caller last started speaking

  call_stats stats_;
  bool warned_media_before_start_ = false;
  bool warned_invalid_payload_ = false;
  bool warned_audio_before_ready_ = false;
  bool warned_unknown_mark_ = false;
  bool warned_pre_connect_overflow_ = false;
  bool warned_invalid_delta_ = false;
  bool warned_unknown_item_ = false;
  bool warned_dtmf_dropped_ = false;
  bool warned_context_dropped_ = false;
};

}  // namespace mb::call
