#include "admission/pre_start.hpp"

namespace mb::admission {
namespace {

using metrics::stream_refusal;

// Only our own names: an unknown event's name is the peer's text.
const char* event_name(protocol::twilio_event e) {
  switch (e) {
    case protocol::twilio_event::connected: return "connected";
    case protocol::twilio_event::start: return "start";
    case protocol::twilio_event::media: return "media";
    case protocol::twilio_event::mark: return "mark";
    case protocol::twilio_event::dtmf: return "dtmf";
    case protocol::twilio_event::stop: return "stop";
    case protocol::twilio_event::unknown: break;
  }
  return "an unknown event";
}

}  // namespace

pre_start_decision decide_before_start(bool binary, std::string_view frame, std::size_t capacity,
                                       protocol::twilio_parser& parser, protocol::twilio_message& msg) {
  if (binary) return refusal{stream_refusal::bad_message, "a binary frame before start"};
  if (auto err = parser.parse(frame, capacity, msg))
    return refusal{stream_refusal::bad_message, "an unreadable message before start: " + err->what};
  switch (msg.event) {
    case protocol::twilio_event::connected: return wait_for_start{};
    case protocol::twilio_event::start:
      // The SIDs are echoed into JSON and log lines unescaped: only Twilio's own shape is accepted.
      if (!protocol::is_safe_sid(msg.start->call_sid) || !protocol::is_safe_sid(msg.start->stream_sid))
        return refusal{stream_refusal::bad_message, "start carries a malformed callSid or streamSid"};
      return admit_start{};
    default:
      return refusal{stream_refusal::bad_message, std::string("'") + event_name(msg.event) + "' before start"};
  }
}

std::optional<refusal> refusal_for(admit_result result) {
  switch (result) {
    case admit_result::admitted: return std::nullopt;
    case admit_result::already_live:
      return refusal{stream_refusal::already_live, "a stream for this call is already running"};
    case admit_result::full:
      return refusal{stream_refusal::full, "no free call slot (MAX_CONCURRENT_CALLS) and none reserved"};
  }
  return std::nullopt;
}

std::uint16_t close_code_for(stream_refusal why) noexcept {
  // "Try again later" when only capacity stood in the way; every other refusal is a policy violation.
  return why == stream_refusal::full ? 1013 : 1008;
}

}  // namespace mb::admission
