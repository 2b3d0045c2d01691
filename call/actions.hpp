#pragma once
// What call_state asks its I/O shell to do. The shell executes a step's actions in order, at once.
//
// string_views point into the input that produced them or into call_state's own queues, and are
// valid until the next call into call_state.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "call/events.hpp"

namespace mb::call {

enum class end_reason {
  caller_hung_up,      // Twilio stop
  hung_up,             // the model or an operator hung up, and Twilio's REST API could not: the stream closes
  twilio_closed,       // Twilio socket closed or failed without stop
  upstream_closed,     // the provider closed the session or its socket
  upstream_error,      // fatal upstream error event or I/O failure
  upstream_connect_failed,
  format_mismatch,     // the session did not confirm the adapter's audio format both ways
  bad_media_format,    // Twilio start with anything but μ-law 8 kHz mono
  bad_input,           // a protocol violation we cannot continue after
  slow_peer,           // a writer queue overflowed
  timeout,
  shutdown,
};

const char* to_string(end_reason r);

struct send_twilio_media { std::string_view payload_b64; };
struct send_twilio_mark { std::string name; };  // short: fits the small-string buffer
struct send_twilio_clear {};
struct send_upstream_audio { std::string_view payload_b64; };
struct send_upstream_event { std::string json; };
struct open_upstream {};  // Twilio start arrived: connect to the provider now
struct publish { call_event event; };
enum class log_level { debug, info, warn, error };
struct log_line { log_level level; std::string text; };
struct end_call { end_reason reason; std::string detail; };
struct restart_upstream { std::string reason; };  // close this upstream session and open a new one
// The provider will drop this session soon: move to a new one at the next pause of the assistant.
struct renew_upstream { std::string reason; };
// POST `body` to the call's tool number `tool_index` (call_tools_config::tools), signed; report the
// outcome with call_state::on_tool_response(request_id, ...).
struct invoke_tool {
  std::uint64_t request_id;
  std::size_t tool_index;
  std::string body;
};
// Change the call through Twilio's REST API; report with call_state::on_call_update_done(request_id, ...).
struct update_twilio_call {
  std::uint64_t request_id;
  enum class kind { hang_up, redirect } what = kind::hang_up;
  std::string twiml;  // redirect: the call's new TwiML (<Response><Dial>…)
  // redirect: the destination's +E.164 number or sip: URI (a SIP call refers the caller there instead)
  std::string target{};
};

using action = std::variant<send_twilio_media, send_twilio_mark, send_twilio_clear, send_upstream_audio,
                            send_upstream_event, open_upstream, publish, log_line, end_call, restart_upstream,
                            renew_upstream, invoke_tool, update_twilio_call>;

}  // namespace mb::call
