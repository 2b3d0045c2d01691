#pragma once
// A SIP call as its sideband shows it (docs/sip.md, docs/architecture.md "SIP mode", docs/protocols.md
// J3): OpenAI carries the call's audio itself; the sideband delivers the session's events (transcripts,
// tool calls, DTMF, the session's end) and takes commands (tool results, context text, a greeting).
// This class decides what the call publishes and asks for; the I/O shell (bridge/sip_session) carries
// out its actions. Pure: no I/O, no clock; every input carries the shell's steady clock in ms.
//
// It reuses the Media Streams call's pieces: call::tool_calls for webhook tools, call::call_controller
// for end_call, transfer_call and the operator's commands (its allowlist and grace), and
// call::dtmf_collector for digit strings. Where a Media Streams call asks Twilio's REST API to hang up
// or redirect, a SIP call asks OpenAI's control plane (sip_control: hangup or refer).
//
// The sideband may drop and be reconnected while the call goes on at OpenAI: the same session
// continues, so transcripts left open stay open (when the provider names its items: a GPT-Live
// adapter's own turn ids do not survive the connection, and its open turns end as they stand, marked
// interrupted), tool calls in flight still get their results, and
// nothing is published or sent again on the new connection (call.started and the greeting happen on
// the first attach only). What the call has for the model while no sideband is attached (tool
// results, context text) waits, bounded, and goes out on the next attach.
//
// Thread safety: none. One instance per call, used on that call's executor only.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "call/actions.hpp"
#include "call/call_control.hpp"
#include "call/call_tools.hpp"
#include "call/control.hpp"
#include "call/dtmf_collector.hpp"
#include "call/tool_calls.hpp"
#include "limits/token_bucket.hpp"
#include "upstream/adapter.hpp"

namespace mb::sip {

// Ask OpenAI's control plane to change the call (docs/protocols.md J2): hang it up, or refer the
// caller to `target_uri`. Report the outcome with sideband_state::on_control_done(request_id, ...).
struct sip_control {
  std::uint64_t request_id = 0;
  enum class kind { hang_up, refer } what = kind::hang_up;
  std::string target_uri;  // refer: "tel:+15551234567" or a sip: URI; empty for hang_up
};

// What sideband_state asks its shell to do, in order, at once:
//   publish             - a call event (docs/events.md)
//   log_line            - a line for the call's log
//   send_upstream_event - a message for the sideband (only produced while a sideband is attached)
//   invoke_tool         - POST a webhook tool (call_tools_config::tools[tool_index]); report on_tool_response
//   end_call            - the call is over: close the sideband, release the call
//   sip_control         - hang up or refer at OpenAI's control plane; report on_control_done
using sideband_action = std::variant<call::publish, call::log_line, call::send_upstream_event, call::invoke_tool,
                                     call::end_call, sip_control>;

// What the call is, from the webhook that accepted it (bridge::sip_call_setup).
struct sideband_setup {
  std::string call_sid;    // Twilio's CallSid, or OpenAI's call id for a trunk pointed straight at OpenAI
  std::string stream_sid;  // OpenAI's call id: call.started's stream_sid
  std::string agent;
  std::vector<std::pair<std::string, std::string>> parameters;  // call.started's parameters (X-Mb-Var-*)
  std::string greeting;    // rendered instructions for a first response; empty: wait for the caller
  // Webhook tools, end_call, the transfer allowlist and DTMF handling. The built-in tools must have
  // been declared in the accepted session (call::declare_builtin_tools) for the model to call them.
  call::call_tools_config tools;
};

class sideband_state {
 public:
  // `adapter`: the provider's protocol (Realtime or GPT-Live); never null.
  sideband_state(sideband_setup setup, std::unique_ptr<upstream::adapter> adapter);

  // A sideband (re)connected: the adapter is attached (attach_sideband). The first attach publishes
  // call.started (transport "sip") and greets when a greeting is set; later ones send what waited.
  void on_attached(std::int64_t now_ms, std::vector<sideband_action>& out);
  // One neutral event, translated by upstream() from a sideband message.
  void on_upstream(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out);
  // The sideband dropped (the shell reconnects or gives up): nothing is sent until on_attached.
  void on_lost(std::int64_t now_ms, std::vector<sideband_action>& out);
  // The webhook of invoke_tool `request_id` answered, failed or timed out.
  void on_tool_response(std::uint64_t request_id, const call::webhook_response& response, std::int64_t now_ms,
                        std::vector<sideband_action>& out);
  // The control plane answered sip_control `request_id` (`detail`: the failure, safe to publish).
  void on_control_done(std::uint64_t request_id, bool ok, std::string_view detail, std::int64_t now_ms,
                       std::vector<sideband_action>& out);
  // An operator's command for this call (dashboard or API), already authorised.
  void on_operator(const call::operator_command& command, std::int64_t now_ms, std::vector<sideband_action>& out);
  // The DTMF gap, the end_call grace and the adapter's own wake-ups: call at or after next_wakeup().
  void on_tick(std::int64_t now_ms, std::vector<sideband_action>& out);
  [[nodiscard]] std::optional<std::int64_t> next_wakeup() const;
  // The call is ending: publish what is still pending (transcripts never finalised).
  void finish(std::vector<sideband_action>& out);

  // The provider's protocol: the shell translates sideband messages with it.
  [[nodiscard]] upstream::adapter& upstream() noexcept { return *adapter_; }
  [[nodiscard]] bool attached() const noexcept { return attached_; }
  // end_call was asked for: the shell stops reconnecting.
  [[nodiscard]] bool ended() const noexcept { return ended_; }

 private:
  struct assistant_turn {
    std::string item_id;
    std::string response_id;
    std::string text;
    bool interrupted = false;
  };
  struct caller_turn {
    std::string item_id;
    std::string text;
  };

  void on_event(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out);
  // The open transcript of `ev.turn_id`, opened when new.
  assistant_turn& open_assistant_turn(const upstream::event& ev, std::vector<sideband_action>& out);
  caller_turn& open_caller_turn(std::string_view item_id, std::vector<sideband_action>& out);
  void assistant_final(const upstream::event& ev, std::vector<sideband_action>& out);
  void publish_assistant(assistant_turn&& turn, std::vector<sideband_action>& out);
  void publish_caller(caller_turn&& turn, std::vector<sideband_action>& out);
  void on_speech_started();
  void close_open_turns(std::vector<sideband_action>& out);
  void on_error(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out);
  void on_session_ended(const upstream::event& ev, std::vector<sideband_action>& out);
  void on_tool_call(const upstream::event& ev, std::int64_t now_ms, std::vector<sideband_action>& out);
  void on_key(std::string_view key, std::int64_t now_ms, std::vector<sideband_action>& out);
  void hand_over_digits(const std::string& digits, std::vector<sideband_action>& out);
  [[nodiscard]] call::playback_state playback() const noexcept;
  void settle_control(std::int64_t now_ms, std::vector<sideband_action>& out);
  // Moves what the reused call/ pieces appended to scratch_ into `out` (update_twilio_call becomes
  // sip_control), then tells the model what call_controller has for it.
  void relay(std::vector<sideband_action>& out);
  void tell_model(std::vector<sideband_action>& out);
  // The adapter's messages in commands_: sent now, or kept until the next attach.
  void send(std::vector<sideband_action>& out);
  void end(call::end_reason reason, std::string detail, std::vector<sideband_action>& out);
  void warn_once(bool& flag, std::string text, std::vector<sideband_action>& out);
  // A warning the provider's messages cause: rate-limited.
  void warn_peer(std::string text, std::int64_t now_ms, std::vector<sideband_action>& out);

  sideband_setup setup_;
  std::unique_ptr<upstream::adapter> adapter_;
  call::tool_calls tool_calls_;
  call::call_controller control_;
  call::dtmf_collector dtmf_;
  limits::token_bucket dtmf_budget_;
  limits::token_bucket peer_log_budget_;

  bool attached_ = false;
  bool started_ = false;  // call.started published (the first attach)
  bool ended_ = false;

  std::optional<std::string> active_response_;
  std::string cut_response_;  // the response the caller last spoke over: its turns end interrupted
  bool spoke_this_turn_ = false;  // the assistant answered since the caller last started speaking
  std::vector<assistant_turn> assistant_turns_;  // open: deltas so far
  std::vector<caller_turn> caller_turns_;        // open: deltas so far

  std::vector<call::action> scratch_;        // what the reused call/ pieces append, relayed into `out`
  std::vector<call::model_note> notes_;      // what call_controller has for the model
  std::vector<std::string> commands_;        // the adapter's messages for one command
  std::vector<std::string> outbox_;          // messages waiting for a sideband
  std::vector<upstream::event> tick_events_;  // what the adapter infers on a tick
  // Which sip_control is in flight, by request id: a hang-up's success ends the call.
  std::optional<std::pair<std::uint64_t, sip_control::kind>> control_in_flight_;

  bool warned_dtmf_dropped_ = false;
  bool warned_outbox_full_ = false;
  bool warned_open_turns_ = false;
};

}  // namespace mb::sip
