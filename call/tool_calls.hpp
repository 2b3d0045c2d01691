#pragma once
// The model's calls to webhook tools (docs/tools.md): each call becomes an invoke_tool action for the
// shell, and each webhook answer (or failure) a result for the model through the call's adapter, with
// tool.call and tool.result events. Pure: time comes with every input.
//
// The built-in tools (end_call, transfer_call) are not handled here: call_state hands them to their
// own owner before forwarding a tool call to on_call(). Any other name this class does not know gets
// an error result.
//
// @par Thread Safety
// None: one instance per call, used from the call's strand.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "call/actions.hpp"
#include "call/call_tools.hpp"
#include "upstream/adapter.hpp"

namespace mb::call {

// A webhook's answer becomes the model's result only when it is at most this big.
inline constexpr std::size_t max_tool_response_bytes = 64 * 1024;
// A model's arguments beyond this are refused with an error result.
inline constexpr std::size_t max_tool_arguments_bytes = 64 * 1024;
// Arguments and outputs are cut to this in tool.call / tool.result events (and so in the history).
inline constexpr std::size_t max_tool_event_text_bytes = 4096;

class tool_calls {
 public:
  // Who is calling: what the webhook body names besides the tool and its arguments.
  struct call_identity {
    std::string_view call_sid;
    std::string_view agent;
    const std::vector<std::pair<std::string, std::string>>* parameters = nullptr;  // the stream's customParameters
  };

  // The call's webhook tools and its bound on calls in flight; pending calls are kept.
  void configure(const call_tools_config& config);

  // The model called `ev.tool_name` (event_kind::tool_call): an invoke_tool, or an error result at once
  // (unknown tool, too many calls in flight, arguments too big or not a JSON object).
  void on_call(const upstream::event& ev, const call_identity& who, std::int64_t now_ms, upstream::adapter& adapter,
               std::vector<action>& out);
  // The model no longer wants the result of `tool_call_id` (event_kind::tool_call_cancelled): it
  // will be dropped when the webhook answers.
  void on_cancelled(std::string_view tool_call_id, std::vector<action>& out);
  // The webhook of invoke_tool `request_id` answered, failed or timed out. `active_response`: the
  // answer being generated, empty when none. While it is the very response that made the call (its
  // response.done has not come yet), the result goes to the model at once and the answer to it is
  // asked for when that response is done (on_response_done). While it is another answer, the result
  // of a keep_talking tool does not ask for one more.
  void on_response(std::uint64_t request_id, const webhook_response& response, std::string_view active_response,
                   std::int64_t now_ms, upstream::adapter& adapter, std::vector<action>& out);
  // The provider finished response `response_id` (event_kind::response_done). `other_response_active`:
  // a newer answer is already being generated, and takes the results in without another request.
  void on_response_done(std::string_view response_id, bool other_response_active, upstream::adapter& adapter,
                        std::vector<action>& out);
  // The caller started speaking: their turn's answer will take the results in, so an answer still owed
  // to a finished tool turn is not asked for.
  void on_caller_turn() noexcept { answer_owed_.clear(); }
  // The upstream session is gone: the next session never saw the calls still running, so their
  // results will be dropped.
  void on_session_lost();

  [[nodiscard]] std::size_t in_flight() const noexcept { return pending_.size(); }

 private:
  enum class fate { deliver, cancelled, session_lost };
  struct pending_call {
    std::uint64_t request_id = 0;
    std::size_t tool_index = 0;
    std::string tool_call_id;
    std::string turn;  // the response that made the call: its calls are answered together
    std::int64_t started_ms = 0;
    fate outcome = fate::deliver;
  };

  // An error result for the model, at once.
  void refuse(std::string_view tool_call_id, std::string_view name, std::string_view turn, std::string error,
              std::vector<action>& out, upstream::adapter& adapter);
  void deliver(std::string_view tool_call_id, std::string_view name, std::string_view turn, const std::string& output,
               bool respond_allowed, upstream::adapter& adapter, std::vector<action>& out);
  [[nodiscard]] bool turn_pending(std::string_view turn) const;

  std::vector<webhook_tool> tools_;
  std::size_t max_in_flight_ = 4;
  std::vector<pending_call> pending_;
  std::uint64_t next_request_id_ = 1;
  std::vector<std::string> commands_;  // the adapter's messages for one result, reused
  // The response whose tool results are all in while it was still being generated: the model is asked
  // to answer once it is done. Empty: no answer owed.
  std::string answer_owed_;
};

}  // namespace mb::call
