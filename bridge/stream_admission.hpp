#pragma once
// A media stream's way to becoming a call (docs/security.md, "Admission control and draining"). It is
// pending until its start is authorised (bridge_context::authorize_start) and admitted by the registry
// (one live stream per CallSid, within MAX_CONCURRENT_CALLS). A refusal is one metric, one log line
// within the budgets and Twilio's close with the refusal's code; nothing is published, stored or
// counted as a call.
//
// Thread safety: none. One per stream, used on the stream's executor only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "admission/pre_start.hpp"
#include "bridge/call_registry.hpp"
#include "bridge/call_session.hpp"

namespace mb::bridge {

// Who an admitted start says is calling, for events and the store.
call_identity identity_of(const protocol::twilio_start& start);

class stream_admission {
 public:
  // `lines`: the connection's log budget; `twilio`: the stream's writer, closed on a refusal.
  stream_admission(const bridge_context& ctx, metrics::bridge_metrics& m, std::string remote,
                   call_registry::pending_slot pending, log::connection_lines& lines, net::ws_writer& twilio);

  // One message read before the stream was admitted (admission::decide_before_start). A start is
  // authorised and takes its call slot: the stream becomes a call (admitted(), msg.start its start),
  // counted, logged, and registered so that `stop` (run on `ex`) reaches it at shutdown. Returns the
  // refusal to pass to refuse(), if any.
  std::optional<admission::refusal> on_message(bool binary, std::string_view frame, std::size_t capacity,
                                               protocol::twilio_parser& parser, protocol::twilio_message& msg,
                                               asio::any_io_executor ex, call_registry::stop_fn stop,
                                          call_registry::command_fn command);
  // Counts and logs the refusal and closes Twilio with its code.
  void refuse(const admission::refusal& r);
  // The stream is over: gives back its pending place or, once admitted, its call slot.
  void leave();

  [[nodiscard]] bool admitted() const noexcept { return admitted_; }
  [[nodiscard]] bool refused() const noexcept { return refused_; }

 private:
  std::optional<admission::refusal> admit(const protocol::twilio_start& start, asio::any_io_executor ex,
                                          call_registry::stop_fn stop,
                                          call_registry::command_fn command);

  const bridge_context& ctx_;
  metrics::bridge_metrics& m_;
  std::string remote_;
  call_registry::pending_slot pending_;  // released once admitted
  log::connection_lines& lines_;
  net::ws_writer& twilio_;
  std::string call_sid_;  // of the start being admitted, once checked well-formed
  std::uint64_t registry_id_ = 0;
  bool admitted_ = false;  // an authorised start took a call slot: this stream is a call
  bool refused_ = false;
};

}  // namespace mb::bridge
