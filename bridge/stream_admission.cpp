#include "bridge/stream_admission.hpp"

#include <utility>
#include <variant>

#include <spdlog/spdlog.h>

#include "bridge/peer_log.hpp"

namespace mb::bridge {

call_identity identity_of(const protocol::twilio_start& start) {
  call_identity identity;
  identity.call_sid = start.call_sid;
  identity.stream_sid = start.stream_sid;
  for (const auto& [k, v] : start.custom_parameters) {
    if (k == "From") identity.from = v;
    if (k == "To") identity.to = v;
  }
  return identity;
}

stream_admission::stream_admission(const bridge_context& ctx, metrics::bridge_metrics& m, std::string remote,
                                   call_registry::pending_slot pending, log::connection_lines& lines,
                                   net::ws_writer& twilio)
    : ctx_(ctx), m_(m), remote_(std::move(remote)), pending_(std::move(pending)), lines_(lines), twilio_(twilio) {}

std::optional<admission::refusal> stream_admission::on_message(bool binary, std::string_view frame,
                                                               std::size_t capacity, protocol::twilio_parser& parser,
                                                               protocol::twilio_message& msg, asio::any_io_executor ex,
                                                               call_registry::stop_fn stop,
                                          call_registry::command_fn command) {
  auto decision = admission::decide_before_start(binary, frame, capacity, parser, msg);
  if (auto* refusal = std::get_if<admission::refusal>(&decision)) return std::move(*refusal);
  if (std::holds_alternative<admission::admit_start>(decision)) return admit(*msg.start, std::move(ex), std::move(stop), std::move(command));
  return std::nullopt;
}

std::optional<admission::refusal> stream_admission::admit(const protocol::twilio_start& start,
                                                          asio::any_io_executor ex, call_registry::stop_fn stop,
                                          call_registry::command_fn command) {
  call_sid_ = start.call_sid;
  if (ctx_.authorize_start)
    if (auto why = ctx_.authorize_start(start); !why.empty())
      return admission::refusal{metrics::stream_refusal::unauthorized, std::move(why)};
  const auto outcome = ctx_.registry->admit(start.call_sid, std::move(ex), std::move(stop), std::move(command));
  if (auto refusal = admission::refusal_for(outcome.result)) return refusal;
  admitted_ = true;
  registry_id_ = outcome.id;
  pending_.release();
  m_.calls_started.inc();
  spdlog::info("call {}: stream {} started", start.call_sid, start.stream_sid);
  return std::nullopt;
}

void stream_admission::refuse(const admission::refusal& r) {
  m_.streams_refused(r.why).inc();
  // One line per connection, but connections are many: the process-wide budget decides.
  if (const auto admitted = lines_.admit_closing(log_clock_ms())) {
    const auto note = log::suppression_note(*admitted);
    const auto text = log::escape_for_log(r.detail, log::reason_bytes);
    if (call_sid_.empty())
      spdlog::warn("call [{}]: stream refused ({}): {}{}", remote_, metrics::to_string(r.why), text, note);
    else
      spdlog::warn("call {}: stream from {} refused ({}): {}{}", call_sid_, remote_, metrics::to_string(r.why), text,
                   note);
  }
  refused_ = true;
  twilio_.close({admission::close_code_for(r.why), std::string("stream refused: ") + metrics::to_string(r.why)});
}

void stream_admission::leave() {
  pending_.release();
  if (admitted_) ctx_.registry->remove(registry_id_);
}

}  // namespace mb::bridge
