#pragma once
// Hang-up and transfer (docs/tools.md, "Hang-up", "Transfer", "Operator controls"): the built-in tools
// end_call and transfer_call the model may call, and the operator's commands. Decides; the shell
// carries out update_twilio_call through Twilio's REST API and reports back.
//
// A model's hang-up waits for its goodbye: the call ends once the assistant's audio sent so far has
// played (mark echoes) and no response is active; when the model called end_call without having
// spoken, its result asks it to answer, and that answer is the goodbye it waits for. A model's
// transfer likewise lets what the model said play first. Both are bounded by end_call_grace_ms. An
// operator's hang-up or transfer goes at once. One hang-up or transfer at a time: another is refused.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "call/actions.hpp"
#include "call/call_tools.hpp"
#include "call/control.hpp"
#include "protocol/session_config.hpp"

namespace mb::call {

inline constexpr std::string_view end_call_tool = "end_call";
inline constexpr std::string_view transfer_call_tool = "transfer_call";

// `session.tools` without any earlier built-in declarations, plus end_call (when enabled) and
// transfer_call (when the allowlist is not empty, with an enum of its names).
void declare_builtin_tools(protocol::session_config& session, const call_tools_config& tools);

// What the model is to be told through the call's adapter.
struct model_note {
  enum class kind { tool_result, context_text } what = kind::context_text;
  std::string tool_call_id;  // tool_result
  std::string tool_name;     // tool_result
  std::string text;          // tool_result: JSON; context_text: plain text
  bool respond = false;
};

// What the call is doing with its audio, as call_control needs it.
struct playback_state {
  bool idle = false;           // no response active, nothing queued, every mark echoed
  bool spoke_this_turn = false;  // the assistant sent audio since the caller last started speaking
};

class call_controller {
 public:
  void configure(const call_tools_config& tools);

  [[nodiscard]] static bool is_builtin(std::string_view tool_name) {
    return tool_name == end_call_tool || tool_name == transfer_call_tool;
  }
  // A built-in tool this call declares: its calls are decided here, not by a webhook.
  [[nodiscard]] bool handles(std::string_view tool_name) const {
    return (tool_name == end_call_tool && end_call_enabled_) || (tool_name == transfer_call_tool && !transfers_.empty());
  }

  // The model called a tool handles() says yes to.
  void on_tool_call(std::string_view tool_call_id, std::string_view tool_name, std::string_view arguments_json,
                    const playback_state& playback, std::int64_t now_ms, std::vector<action>& out,
                    std::vector<model_note>& notes);
  void on_operator(const operator_command& command, std::int64_t now_ms, std::vector<action>& out,
                   std::vector<model_note>& notes);
  // A response started: the goodbye a hang-up waits for is under way.
  void on_response_started();
  // After each step of the call: a waiting hang-up or transfer goes once playback is idle, or at its deadline.
  void on_playback(const playback_state& playback, std::int64_t now_ms, std::vector<action>& out);
  void on_update_done(std::uint64_t request_id, const call_update_outcome& outcome, std::vector<action>& out,
                      std::vector<model_note>& notes);
  [[nodiscard]] std::optional<std::int64_t> next_wakeup() const;

 private:
  struct request {
    std::string action;  // "hang_up" or "transfer"
    std::string by;      // "model" or "operator"
    std::string target;  // transfer: the destination's name
    std::string tool_call_id;  // a model's transfer: its result waits for the outcome
    update_twilio_call update;
  };
  struct waiting {
    request req;
    std::int64_t deadline_ms = 0;
    bool goodbye_due = false;  // a response must start (and play) first
  };

  void on_end_call(std::string_view tool_call_id, std::string_view arguments_json, const playback_state& playback,
                   std::int64_t now_ms, std::vector<action>& out, std::vector<model_note>& notes);
  void on_transfer_call(std::string_view tool_call_id, std::string_view arguments_json, std::int64_t now_ms,
                        std::vector<action>& out, std::vector<model_note>& notes);
  // The destination's update, or nullopt after publishing the refusal.
  std::optional<update_twilio_call> transfer_to(std::string_view destination, std::string_view by,
                                                std::vector<action>& out);
  [[nodiscard]] bool busy() const noexcept { return waiting_.has_value() || in_flight_.has_value(); }
  void send(request req, std::vector<action>& out);
  [[nodiscard]] std::string allowed_names() const;

  bool end_call_enabled_ = false;
  int grace_ms_ = 10000;
  std::vector<transfer_destination> transfers_;
  std::string caller_id_;
  std::uint64_t next_request_id_ = 1;
  std::optional<waiting> waiting_;
  std::optional<request> in_flight_;
};

}  // namespace mb::call
