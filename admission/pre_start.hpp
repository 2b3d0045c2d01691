#pragma once
// What a media stream may send before it is admitted (docs/security.md, "Admission control"), and how
// a refused stream is told. Until its start is authorised a stream may send Twilio's `connected` and
// `start` only; anything else refuses it. A refusal's detail is in our own words: the peer's text
// (an unknown event's name) is never echoed into the log.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "admission/admission_ledger.hpp"
#include "metrics/bridge_metrics.hpp"
#include "protocol/twilio_messages.hpp"

namespace mb::admission {

struct refusal {
  metrics::stream_refusal why;
  std::string detail;  // for the log line
};
struct wait_for_start {};  // `connected`: nothing to do until the start
struct admit_start {};     // a start with well-formed SIDs: authorise it, then take a call slot
using pre_start_decision = std::variant<wait_for_start, admit_start, refusal>;

// One message read before the stream was admitted. A text message (`frame`, followed by
// simdjson::SIMDJSON_PADDING readable bytes within `capacity`) is parsed into `msg` with `parser`; on
// admit_start, msg.start is the start to admit. A binary frame is refused unread.
pre_start_decision decide_before_start(bool binary, std::string_view frame, std::size_t capacity,
                                       protocol::twilio_parser& parser, protocol::twilio_message& msg);

// The admission ledger's answer to an authorised start: nullopt when it was admitted.
std::optional<refusal> refusal_for(admit_result result);

// The WebSocket close code Twilio gets for a refused stream (RFC 6455 section 7.4.1).
std::uint16_t close_code_for(metrics::stream_refusal why) noexcept;

}  // namespace mb::admission
