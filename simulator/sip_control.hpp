#pragma once
// The simulated OpenAI SIP control plane (docs/protocols.md J2, J3): its options, the records tests
// observe, and the pure parts the simulator's I/O (sip_plane.cpp) acts on: the incoming-call webhook
// bodies and their Standard Webhooks headers, the control-plane request paths, the SIP URI of a
// simulated INVITE, and the sideband's scripted conversation. Pure.
//
// The simulator's choices where OpenAI documents nothing:
// - Call ids are "rtc_sim<n>" for both runtimes (the same id in both events, as OpenAI does).
// - Control requests need "Authorization: Bearer …" (401) and a known call that has not ended (404
//   call_id_not_found); a body must be a JSON object or empty (400). Errors have OpenAI's shape
//   {"error":{"message","type","param","code"}}.
// - Accept: the first simulator_options::sip_accept_failures attempts of each call answer 404
//   call_id_not_found (OpenAI does so while a call is being set up); the body must say its runtime
//   (Realtime {"type":"realtime"}, GPT-Live {"session":{"type":"live"}}; else 400). Success is 200 {}
//   (the service's body is not documented), after sip_accept_delay_ms. Accepting again with the same
//   runtime answers 200 again (a retry after a timeout); with the other runtime 409.
// - Reject of a pending call ends it: Realtime status_code defaults to 603, GPT-Live requires it
//   (400 without); outside 300-699 is 400; after an accept 409.
// - Refer needs an accepted call (409) and a non-blank target_uri (400); it is recorded, and the call
//   goes on (the simulator does not transfer anything).
// - Hangup ends the call; its sideband closes 1000 (GPT-Live without session.closed: what the service
//   sends then is not documented). end_sip_call (the caller hangs up) closes it 1000 too, GPT-Live's
//   after session.closed {reason:"remote_hangup"}.
// - Sidebands: /v1/realtime?call_id=<id> and /v1/live/sessions/<id>/attach need a bearer token (401)
//   and a call accepted by that runtime that has not ended (404). The Realtime sideband starts with
//   session.created {session:{id:<call id>}}; GPT-Live's sends nothing until the script runs. Each also
//   appears in upstream_simulator::sessions().
// - Their events carry no audio (call audio goes over SIP/RTP, which is not simulated). The script
//   (sip_script) is paced in wall time by turn_gap_ms and word_gap_ms; the GPT-Live timing fields are
//   ms of a simulated clock on which each word lasts 250 ms, continuing across reconnects.
// - Realtime: a caller turn is speech_started/stopped, input_audio_buffer.committed and
//   conversation.item.input_audio_transcription.completed; a reply is response.created,
//   response.output_item.added, response.output_audio_transcript.delta per word, .done,
//   response.output_item.done and response.done. DTMF is input_audio_buffer.dtmf_event_received
//   {event, received_at (unix s)}. response.create from the bridge gets a reply (about a tool's result
//   when one came); conversation.item.create message texts are kept as context.
// - GPT-Live: session.input_transcript.delta and session.output_transcript.delta per word with
//   start_ms/end_ms, transport.dtmf.received {event}. session.instructions/commentary/thinking.append
//   are acknowledged (session.*.appended) and the first two get a spoken reply; session.close ends
//   the sideband with session.closed {reason:"close_requested"}.
// - A scripted tool call is made as the sessions on the primary paths make it (a function_call response;
//   GPT-Live a Responses delegation) and the script waits for the result and the bridge's
//   response.create. A reconnected sideband goes on with the next turn not yet completed.
//
// @par Thread Safety
// Pure functions and plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/openai_sip.hpp"
#include "simulator/tool_script.hpp"

namespace mb::simulator {

// Which incoming-call events the simulator sends for one call (in this order).
enum class sip_event_set {
  both,              // realtime.call.incoming, then live.transport.incoming (OpenAI's behaviour)
  realtime_only,     // realtime.call.incoming
  live_only,         // live.transport.incoming
  live_deprecated,   // live.call.incoming (the deprecated GPT-Live event, no data.type)
};

// One scripted caller turn on the sideband.
struct sip_script_turn {
  std::string dtmf;           // keys the caller presses before speaking (0-9 * # A-D), one event each
  std::string caller_text;    // "" = "Caller utterance N"
  std::string assistant_text; // "" = "This is simulated reply number N."
};

// The sideband's conversation. After the sideband attaches (and, GPT-Live, once the bridge greets or
// right away), each turn: the caller's DTMF keys, speech started/stopped, the caller's transcript,
// then the assistant's transcript word by word and its end. A scripted tool call (tool_script.hpp)
// replaces the assistant's answer of its turn; the turn after the bridge's result answers with
// tool_answer_text(result) (Realtime: after the bridge's response.create).
struct sip_script {
  std::vector<sip_script_turn> turns = {{}, {}};
  std::uint32_t turn_gap_ms = 300;    // between one turn's end and the next turn's start
  std::uint32_t word_gap_ms = 40;     // between transcript deltas
  std::vector<scripted_tool_call> tool_calls;  // the turn numbers are 1-based caller turns
  // After the last turn (and a turn gap) the caller hangs up, as upstream_simulator::end_sip_call does;
  // false: the call stays up until a test ends it. Demo mode's calls end by themselves.
  bool caller_hangs_up_after_script = false;
};


// The data of a simulated INVITE: the URI without its query and the X- headers of its query.
struct sip_invite {
  std::string uri;  // "sip:proj@127.0.0.1:5060;transport=tls"
  std::vector<protocol::sip_header> headers;  // percent-decoded, in query order
};

// Splits "sip:user@host[:port][;params]?Name=value&Name2=value2" into the URI and its headers,
// percent-decoded ('+' stays '+', as in SIP URI headers: RFC 3261 19.1.1). nullopt when it is not a
// sip:/sips: URI, a header is unnamed or has a bad %-escape, or a bound is broken
// (protocol::max_sip_headers, max_sip_header_bytes).
[[nodiscard]] std::optional<sip_invite> parse_sip_invite_uri(std::string_view uri);

// A call placed on the simulator (upstream_simulator::place_sip_call).
struct sip_call_request {
  std::vector<protocol::sip_header> sip_headers;  // extra headers, e.g. X-Mb-Agent
  std::string from = "+15005550006";  // the caller's number: From "<sip:+1…@sip.example>"
  std::string to = "+15005550001";    // To "<sip:+1…@sip.example>"
};

// The event body of one incoming call webhook, compact JSON: {"object":"event","id":"evt_…","type",
// "created_at", "data":{…}} with data {call_id, sip_headers} (Realtime), {type:"sip", session_id,
// sip_headers} (live.transport.incoming) or {session_id, sip_headers} (live.call.incoming).
[[nodiscard]] std::string incoming_webhook_body(std::string_view event_type, std::string_view event_id,
                                                std::string_view call_id, std::int64_t created_at,
                                                const std::vector<protocol::sip_header>& sip_headers);
// The event types `events` sends, in order.
[[nodiscard]] std::vector<std::string_view> incoming_event_types(sip_event_set events);
// The three Standard Webhooks headers for one delivery signed with `secret` (whsec_…); empty when the
// secret is not a valid whsec_ secret. Tests use it to send their own (forged, replayed) webhooks.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> standard_webhook_headers_for(
    std::string_view secret, std::string_view webhook_id, std::int64_t timestamp, std::string_view body);

// The simulated INVITE's endpoint (POST {"uri","from","to"} → {"call_id"}).
inline constexpr std::string_view sim_sip_invite_path = "/sim/sip/invite";
// Whether a plain HTTP request target belongs to the SIP control plane (the INVITE, or anything under
// /v1/realtime/calls/ or /v1/live/sessions/, which answers 404 unless it is a control request).
[[nodiscard]] bool is_sip_http_target(std::string_view target);

// A control-plane request target: POST /v1/realtime/calls/{id}/{action} or /v1/live/sessions/{id}/{action}.
enum class sip_action { accept, reject, refer, hangup };
[[nodiscard]] std::string_view to_string(sip_action a) noexcept;
struct sip_control_target {
  protocol::sip_runtime runtime = protocol::sip_runtime::realtime;
  std::string call_id;
  sip_action action = sip_action::accept;
};
// nullopt for any other target (a query, an id outside protocol::valid_sip_call_id, another action).
[[nodiscard]] std::optional<sip_control_target> parse_sip_control_target(std::string_view target);
// The call id of a sideband upgrade target: "/v1/realtime?call_id=<id>" (other parameters allowed)
// or "/v1/live/sessions/<id>/attach"; nullopt for any other target.
struct sip_sideband_target {
  protocol::sip_runtime runtime = protocol::sip_runtime::realtime;
  std::string call_id;
};
[[nodiscard]] std::optional<sip_sideband_target> parse_sip_sideband_target(std::string_view target);

// ------------------------------------------------------------------------------------------------
// Records (upstream_simulator::sip_calls)

struct sip_webhook_record {
  std::string event_type;
  std::string webhook_id;  // "wh_…"
  std::string body;
  int status = 0;          // the receiver's HTTP status; 0 while pending or when none came
  std::string failure;     // why no status came ("" otherwise)
};

struct sip_control_record {
  protocol::sip_runtime runtime = protocol::sip_runtime::realtime;
  sip_action action = sip_action::accept;
  std::string body;     // as received
  unsigned status = 0;  // as answered
};

struct sip_call_snapshot {
  std::string call_id;
  std::string from;
  std::string to;
  std::vector<protocol::sip_header> sip_headers;  // as sent in the webhooks (From and To first)
  std::vector<sip_webhook_record> webhooks;
  std::vector<sip_control_record> requests;       // every control request, in arrival order
  std::uint32_t accept_attempts = 0;
  std::optional<protocol::sip_runtime> accepted_runtime;
  std::string accept_body;                        // of the successful accept
  std::optional<int> reject_status;               // of the successful reject (603 when the body had none)
  std::vector<std::string> refers;                // target_uri of each refer
  std::uint32_t hangups = 0;
  std::uint32_t sideband_connects = 0;            // sideband WebSockets accepted
  bool sideband_open = false;
  std::uint32_t turns_done = 0;                   // scripted turns completed (across reconnects)
  std::vector<std::string> received_types;        // sideband client event types, in order
  std::vector<std::string> context_texts;         // conversation.item.create input_text, session.*.append content
  std::vector<std::string> response_creates;      // raw text of each Realtime response.create
  std::vector<tool_call_record> tool_calls;       // the scripted calls made
  std::vector<tool_result_record> tool_results;   // function_call_output / delegation results received
  bool ended = false;
  std::string ended_by;                           // "caller" (end_sip_call), "hangup", "reject"
};

inline constexpr std::size_t max_sip_calls = 1024;  // calls kept; more are refused by place_sip_call

}  // namespace mb::simulator
