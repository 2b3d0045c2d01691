#pragma once
// A loopback WebSocket server standing in for the upstream model services, for demo mode, tests and
// load tests without an API key. It speaks each provider's protocol on that provider's path
// (path_for()): the GA subset of the OpenAI Realtime API (protocols.md A) on /v1/realtime and on
// Azure's /openai/v1/realtime?model=<deployment>, GPT-Live on /v1/live/sessions and on Azure's
// /openai/v1/live and /openai/v1/live/sessions, Gemini Live on Google's BidiGenerateContent path
// (gemini_session.hpp); any other path gets the Realtime API. Azure's paths refuse an upgrade
// without an `api-key` header or a bearer token, Gemini's one without `x-goog-api-key` (HTTP 401);
// OpenAI's accept every upgrade. Each connection is one session on its own strand, with an energy
// VAD on the caller's audio (energy_vad.hpp), answers in recognisable audio (audio_pattern.hpp)
// paced faster than real time, being talked over, and the service's errors. Fault hooks and an
// observation API let tests drive and check it without sleeping.
//
// Usage (tests): run the simulator's io_context on its own thread,
//     asio::io_context ioc; upstream_simulator sim(ioc, {}); sim.listen("127.0.0.1", 0);
//     std::thread t([&] { ioc.run(); });
//     ... connect sim.url_for(upstream::provider_kind::openai_realtime) + "?model=gpt-realtime" ...
//     sim.wait_until([](const auto& s) { return !s.empty() && s[0].closed; }, 5s);
//     sim.stop(); t.join();
// The io_context may also be run by several threads (load tests): sessions are strand-serialised.
// Destroy the simulator before its io_context.
//
// Realtime wire behaviour, where the service's is not documented (protocols.md marks these unconfirmed):
// - truncate of an unknown item: error code "invalid_value", param "item_id"; audio_end_ms beyond
//   the item's audio: "invalid_value", param "audio_end_ms", message "Audio content of Xms is already
//   shorter than Yms" (X = audio generated, or kept by an earlier truncate). Accepted truncates
//   shorten the item.
// - input_audio_buffer.commit with under 100 ms buffered: "input_audio_buffer_commit_empty".
// - Transcription events are sent only when session.audio.input.transcription is set; transcripts
//   are "Caller utterance N" (N = 1-based user turn), assistant transcripts "This is simulated reply
//   number N." (N = response index + 1), spread word by word over the audio deltas.
// - speech_stopped.audio_end_ms includes the silence that ended the turn (as the service's does).
// - After a cancel (client or turn_detected), late_deltas_after_cancel deltas of the cut item go
//   out before response.output_audio.done; response.done then says "cancelled".
// - A VAD turn that ends while a response is still active (interrupt_response false) gets no
//   automatic response. Audio in audio/pcm (24 kHz) is recorded but not analysed by the VAD.
// - Response audio is always the μ-law pattern, 8 bytes per ms, whatever format is announced.
// - Client-chosen item ids (conversation.item.create) must be 1-64 letters, digits, '_' or '-'.
//
// OpenAI's SIP mode (sip_control.hpp has the details and the choices made; docs/protocols.md J): the
// simulator also plays OpenAI's control plane on the same port. place_sip_call (or POST /sim/sip/invite
// {"uri","from","to"}, which a simulated Twilio sends for <Dial><Sip>; the X- headers come from the
// URI's query) raises a call whose signed incoming-call webhooks go to sip_webhook_url; the bridge
// answers with POST /v1/realtime/calls/{id}/accept|reject|refer|hangup or /v1/live/sessions/{id}/…,
// then attaches the sideband (/v1/realtime?call_id={id}, /v1/live/sessions/{id}/attach), which plays
// a scripted conversation (sip_script) as transcripts and DTMF; there is no audio. sip_calls() and
// wait_for_sip() observe it, drop_sideband() and end_sip_call() are its fault hooks.
//
// GPT-Live (live_session.hpp has the details; the choices below are the simulator's where the
// service documents nothing):
// - The first message must be session.start; anything else gets an `error` (invalid_event) and a
//   1008 close. The session config is checked strictly (live_config.hpp): a rejected start gets an
//   `error` echoing the start's event_id as client_event_id, no session.started, and a 1008 close.
// - session.started echoes the session with id "live_sim…", expires_at (now + session_lifetime_s)
//   and status "active"; force_output_format replaces the confirmed audio.format.
// - Caller audio goes through the same VAD (server-VAD defaults). When speech is detected,
//   session.input_transcript.delta "Caller" goes out at once; when it stops, " utterance N" follows
//   and the model answers with a turn of session.output_audio.delta (μ-law, paced as above) and
//   session.output_transcript.delta "This is simulated reply number N." word by word. The timing
//   fields are ms of the session's input clock (caller audio received); a model turn's words lie on
//   its audio played in real time from when the turn started.
// - Talked over, the model stops on its own: the caller's transcript delta goes out first, then at
//   most late_deltas_after_cancel more audio deltas, then nothing: no event says so.
// - session.instructions.append and session.commentary.append are acknowledged with
//   session.*.appended and then spoken (a new turn, unless one is playing); session.thinking.append
//   is acknowledged only. Only scripted tool calls delegate (tool_script.hpp); any delegation_id is
//   accepted on appends.
// - session.close: the playing turn finishes, then session.closed {reason "close_requested"} and a
//   1000 close.
// - Output audio is the μ-law pattern for audio/pcmu and audio/pcma (A-law clients get μ-law bytes),
//   and the PCM16 pattern at the confirmed rate for audio/pcm (so force_output_format "audio/pcm"
//   makes a μ-law session send and hear 24 kHz PCM16: Azure's transcoding fallback). PCM input is
//   heard by the VAD at the confirmed rate. response_record::item_bytes counts 8 kHz samples.
//
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agents/demo_mode.hpp"
#include "net/asio.hpp"
#include "protocol/webhook_signature.hpp"
#include "simulator/sip_control.hpp"
#include "simulator/tool_script.hpp"
#include "simulator/tool_webhook.hpp"
#include "upstream/provider.hpp"

namespace mb::simulator {

// The path each protocol is served on: "/v1/realtime", "/v1/live/sessions", Azure's
// "/openai/v1/realtime" and "/openai/v1/live" (also served on "/openai/v1/live/sessions", the
// other path Azure's docs give), and Gemini Live's
// "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent".
[[nodiscard]] std::string_view path_for(upstream::provider_kind provider) noexcept;
// The protocol a client gets for an upgrade request target (path and query): the provider whose
// path it is, the Realtime API for any other path.
[[nodiscard]] upstream::provider_kind provider_for_target(std::string_view target) noexcept;
// Whether the target's query carries a credential (key, api-key or access_token): the bridge must
// put keys in headers, never in URLs that reach logs.
[[nodiscard]] bool credential_in_query(std::string_view target) noexcept;
// The HTTP status an upgrade is refused with, 0 to accept it. OpenAI's paths accept every upgrade
// (session_snapshot::had_authorization tells what was sent); Azure's need an `api-key` header or
// `Authorization: Bearer <token>`, Gemini's an `x-goog-api-key` header: 401 without.
[[nodiscard]] unsigned upgrade_refusal(upstream::provider_kind provider, std::string_view api_key,
                                       std::string_view authorization, std::string_view goog_api_key) noexcept;

// Load-test instrumentation (tools/load_gen): sees each session's audio as it passes, on the
// session's strand, and may stamp outgoing deltas. Sessions run on several strands at once, so an
// implementation must be thread-safe across sessions, and cheap: it runs once per audio message.
class simulator_probe {
 public:
  virtual ~simulator_probe() = default;
  // The session's WebSocket handshake completed on the path of `provider`.
  virtual void on_session_opened(std::uint64_t session, upstream::provider_kind provider) = 0;
  // The decoded audio of one input_audio_buffer.append, as it is handled.
  virtual void on_input_audio(std::uint64_t session, std::span<const std::uint8_t> audio) = 0;
  // The VAD heard the caller start speaking (Realtime: input_audio_buffer.speech_started is about to
  // be sent; GPT-Live: the caller's first transcript delta is, and a playing turn stops).
  virtual void on_speech_started(std::uint64_t session) = 0;
  // A response.output_audio.delta (GPT-Live: session.output_audio.delta) is about to be sent; its audio starts at pattern `offset` of
  // response `response` (audio_pattern.hpp). The probe may overwrite whole 4-character groups of
  // `delta_b64` (whole 3-byte groups of audio).
  virtual void on_output_audio(std::uint64_t session, std::uint32_t response, std::uint64_t offset,
                               std::string& delta_b64) = 0;
  // A conversation.item.truncate of an assistant audio item of response `response` was handled.
  virtual void on_truncate(std::uint64_t session, std::uint32_t response, std::int64_t audio_end_ms,
                           bool accepted) = 0;
};

struct simulator_options {
  // Responses. Audio is μ-law 8 kHz (8 bytes = 1 ms) whatever format the session announces.
  std::uint32_t response_ms = 2000;        // audio per assistant item
  std::uint32_t chunk_bytes = 800;         // μ-law bytes per response.output_audio.delta (800 = 100 ms)
  double speed = 4.0;                      // audio is sent this many times faster than real time (> 0)
  std::uint32_t first_audio_delay_ms = 0;  // extra wait before an item's first delta (on top of one chunk period)
  std::uint32_t audio_items_per_response = 1;  // GPT-Live: a turn plays them back to back
  std::uint32_t late_deltas_after_cancel = 0;  // deltas of the cut item still sent after a cancel (as the service
                                               // does); GPT-Live: after the caller's speech is detected
  bool live_audio_timing = false;  // GPT-Live: start_ms/end_ms on session.output_audio.delta (the service's
                                   // docs disagree whether the primary WebSocket gets them)

  // Session configuration replies
  std::string force_output_format;         // e.g. "audio/pcm": announced in session.updated (GPT-Live:
                                           // session.started's audio.format) whatever was asked
  std::uint32_t session_updated_delay_ms = 0;  // session.updated or session.started (and everything after
                                               // it) waits this long
  std::uint16_t close_after_configuration = 0;  // a failing provider: right after confirming the session's
                                               // configuration, close with this code (0 = never)

  // Observation. Switch off for load tests: audio and event names are the only per-frame records.
  bool record_audio = true;   // session_snapshot::input_audio
  bool record_events = true;  // session_snapshot::received_types

  // Transport.
  std::size_t max_message_bytes = 1 << 20;
  int idle_timeout_ms = 0;                 // 0 = never (the service has no idle timeout within a session)
  int handshake_timeout_ms = 5000;         // WebSocket upgrade and close handshake
  std::uint32_t upgrade_delay_ms = 0;      // a slow provider: each upgrade request is read this long after
                                           // the TCP connection was accepted
  unsigned refuse_upgrade_status = 0;      // a failing provider: every upgrade is refused with this HTTP
                                           // status, e.g. 401 (0 = as the provider would)
  std::size_t writer_queue = 32;           // messages per session (>= 16); deltas back off at half of it,
                                           // a client that lets it fill up is aborted (stats().overflows)
  std::int64_t session_lifetime_s = 3600;  // only reported, as expires_at

  // Gemini Live (gemini_session.hpp). Replies are response_ms long, paced by `speed`, and wait
  // first_audio_delay_ms; setupComplete waits session_updated_delay_ms.
  std::uint32_t gemini_chunk_ms = 80;            // audio per modelTurn message (the service sends 40-120 ms)
  std::uint32_t gemini_go_away_after_ms = 0;     // connection age at which goAway is sent (0 = never)
  std::uint32_t gemini_go_away_time_left_ms = 2000;  // goAway's timeLeft; the connection closes when it runs out
  std::uint32_t gemini_handle_lifetime_ms = 2 * 3600 * 1000;  // a resumption handle is refused after this
  bool gemini_refuse_resumption = false;         // every setup with a handle is refused (a lost session)

  // Tool webhooks (POST /tools/<name>, plain HTTP on the same port; tool_webhook.hpp). With a secret,
  // X-Mediabridge-Signature is checked and a request that fails gets 401; without, nothing is checked.
  std::string tool_webhook_secret;
  std::map<std::string, tool_reply, std::less<>> tool_replies;  // by tool name; absent: echo

  // Scripted tool calls (tool_script.hpp): after caller turn N the model calls the tool instead of
  // answering (Realtime: a function_call item; GPT-Live: a Responses delegation; Gemini: toolCall),
  // then, given the result and asked to go on, speaks tool_answer_text(result). end_call is said
  // goodbye to first. A session's instructions may carry its own script.
  std::vector<scripted_tool_call> tool_call_script;
  bool gemini_cancel_tool_calls_on_barge_in = false;  // toolCallCancellation for calls still unanswered

  // OpenAI's SIP mode (sip_control.hpp): where place_sip_call's incoming-call webhooks go
  // (e.g. http://127.0.0.1:PORT/openai/webhook; "" = none are sent), signed with the whsec_ secret
  // ("" = unsigned), which events each call raises, how many accepts of each call fail first (404
  // call_id_not_found, as OpenAI answers while a call is still being set up), how long an accept
  // takes, and the sideband's scripted conversation.
  std::string sip_webhook_url;
  std::string sip_webhook_secret;
  sip_event_set sip_events = sip_event_set::both;
  std::uint32_t sip_accept_failures = 0;
  std::uint32_t sip_accept_delay_ms = 0;
  sip_script sip_conversation;

  bool log_sessions = false;  // one spdlog info line per session start and end
  std::shared_ptr<simulator_probe> probe;  // null: none
};

// A Realtime response, or a GPT-Live model turn.
struct response_record {
  std::string id;           // GPT-Live: the simulator's own "turn_<session>_<n>" (the wire has no id);
                            // Gemini: "reply_<conversation>_<n>"
  std::uint32_t index = 0;  // 0-based per session (Gemini: per conversation, across resumptions); the
                            // audio_pattern response index
  std::string trigger;      // "client" (response.create) or "vad" (after speech); GPT-Live: "vad",
                            // "instructions" or "commentary" (after session.*.append); a scripted
                            // call: "tool_call" (Realtime), "end_call" (the goodbye); after a result:
                            // "tool" (GPT-Live), "tool_response" (Gemini)
  std::string instructions; // response.instructions, or the appended content
  std::vector<std::string> item_ids;      // assistant audio items, in output order (GPT-Live: none)
  std::vector<std::uint64_t> item_bytes;  // μ-law bytes sent per item, late deltas included (GPT-Live:
                                          // one entry for the turn)
  std::string status = "in_progress";    // then "completed" or "cancelled" (GPT-Live, Gemini: "interrupted";
                                          // Gemini: "cut" when the connection ended mid-reply)
  std::string cancel_reason;              // "client_cancelled" or "turn_detected"
  std::string transcript;                 // the words sent in the transcript events so far (unescaped)
};

// A GPT-Live session.instructions.append, .thinking.append or .commentary.append that was accepted.
struct append_record {
  std::string kind;  // "instructions", "thinking" or "commentary"
  std::string content;
  std::optional<std::string> delegation_id;  // nullopt for null
};

struct truncate_record {
  std::string item_id;
  std::int64_t content_index = 0;
  std::int64_t audio_end_ms = 0;
  std::int64_t generated_ms = 0;  // audio of the item at that moment (bytes / 8); -1 for unknown items
  bool accepted = false;
  std::string error_code;         // when rejected
};

struct error_record {
  std::string type;
  std::string code;
  std::string message;
  std::string param;
  std::string client_event_id;
};

struct speech_record {
  std::string item_id;              // GPT-Live: empty
  std::int64_t audio_start_ms = 0;  // as sent in speech_started (prefix padding subtracted)
  std::int64_t audio_end_ms = -1;   // as sent in speech_stopped; -1 while speaking
};

struct session_snapshot {
  std::uint64_t number = 0;  // 1-based, in accept order (ids are item_<number>_…, resp_<number>_…)
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;  // chosen by the path
  std::string session_id;    // "sess_…" (GPT-Live: "live_…")
  std::string target;        // upgrade request target, e.g. /v1/realtime?model=gpt-realtime
  std::string model;         // `model` query parameter ("" when absent); GPT-Live: session.model once started
  bool had_authorization = false;  // an "Authorization: Bearer <non-empty>" header (value never kept)
  std::string credentials;         // the credential header: "bearer", "api-key", "x-goog-api-key" or ""
  bool key_in_query = false;       // credential_in_query(target)

  std::vector<std::string> session_updates;  // raw text of every session.update received
  std::vector<std::string> item_creates;     // raw text of every conversation.item.create received
  std::string effective_session;             // JSON of the session object last sent (created or updated;
                                             // GPT-Live: started or updated, "" before)
  std::string input_format;                  // e.g. "audio/pcmu" (GPT-Live: both directions)
  std::string output_format;

  // GPT-Live
  std::vector<std::string> session_starts;   // raw text of every session.start received
  bool session_started = false;              // session.started was sent
  std::vector<append_record> appends;
  std::string closed_reason;                 // of the session.closed sent ("" when none)

  // Gemini Live. A conversation spans the connections that resume it; responses' indices continue
  // across them, so a repeated answer shows as a repeated index.
  std::string conversation;                  // "conv_<n>" once setup was accepted
  std::string resumed_with;                  // the sessionResumption.handle of the setup ("" for a new one)
  std::vector<std::string> setups;           // raw text of every setup received
  bool setup_complete = false;               // setupComplete was sent
  std::vector<std::string> handles_sent;     // sessionResumptionUpdate.newHandle, in order
  bool go_away_sent = false;
  std::vector<std::string> client_contents;  // raw text of every clientContent received

  // Tools (tool_script.hpp). Context texts: Realtime conversation.item.create user input_text,
  // GPT-Live session.instructions/thinking/commentary.append content, Gemini clientContent text
  // parts and realtimeInput.text, in arrival order.
  std::vector<declared_tool> declared_tools;        // of the latest configuration that declared any
  std::vector<tool_call_record> tool_calls;         // the calls the model made
  std::vector<tool_result_record> tool_results;     // the results the client sent
  std::vector<std::string> tool_cancellations;      // Gemini: ids sent in toolCallCancellation
  std::vector<std::string> context_texts;

  std::uint64_t messages_received = 0;
  std::vector<std::string> received_types;  // client event types in order ("" when unparsable)
  std::uint64_t input_audio_bytes = 0;      // decoded bytes appended
  std::uint64_t input_audio_messages = 0;   // appends (Gemini: realtimeInput.audio) that decoded
  std::vector<std::uint8_t> input_audio;    // every decoded appended byte, in order

  std::vector<speech_record> speech;
  std::vector<response_record> responses;
  std::vector<truncate_record> truncates;
  std::vector<error_record> errors;  // error events sent

  bool closed = false;
  bool clean_close = false;        // a close frame was exchanged
  std::uint16_t close_code = 0;    // the code in the client's close frame (0 when none)
  std::string close_reason;
  bool closed_by_simulator = false;  // stop(), close_all(), drop_all(), a writer overflow or (Gemini) a
                                     // refused setup or the end of goAway's timeLeft
  std::uint16_t simulator_close_code = 0;  // the code of the simulator's own close frame (0 when none)
  std::string simulator_close_reason;
};

// A request to the tool webhook endpoint. Kept for the first max_tool_requests requests.
struct tool_request_record {
  std::string tool;       // from the path
  std::string body;       // as received
  std::string signature;  // the X-Mediabridge-Signature header ("" when absent)
  std::optional<protocol::webhook_check> signature_check;  // nullopt when no secret was given
  unsigned status = 0;    // the status it was (or, after a delay, will be) answered with
  std::chrono::system_clock::time_point arrived;
};

inline constexpr std::size_t max_tool_requests = 4096;

// Cheap totals for load tests (no lock).
struct simulator_stats {
  std::uint64_t sessions_accepted = 0;
  std::uint64_t sessions_active = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t audio_deltas_sent = 0;
  std::uint64_t audio_bytes_received = 0;
  std::uint64_t overflows = 0;  // sessions aborted because their client did not read
  std::uint64_t live_sessions = 0;    // handshakes completed on a GPT-Live path (OpenAI's or Azure's)
  std::uint64_t gemini_sessions = 0;  // handshakes completed on the Gemini Live path
  std::uint64_t refused_upgrades = 0; // upgrades refused for missing credentials
};

// Demo mode's options: the defaults, and a call of agents::demo_tool_name after the caller's
// second turn (agents::with_demo_tool declares it).
[[nodiscard]] simulator_options demo_options();

class upstream_simulator {
 public:
  // Throws std::invalid_argument for unusable options (speed <= 0, chunk_bytes or response_ms 0).
  upstream_simulator(asio::io_context& ioc, simulator_options options);
  ~upstream_simulator();  // stop()
  upstream_simulator(const upstream_simulator&) = delete;
  upstream_simulator& operator=(const upstream_simulator&) = delete;

  // Binds a loopback address (port 0 = ephemeral) and starts accepting. Returns the bound port.
  // Throws std::invalid_argument for a non-loopback host, boost::system::system_error on bind errors.
  std::uint16_t listen(const std::string& host, std::uint16_t port);

  // ws://HOST:PORT + path_for(provider) on the first address listen() bound, without a query (the
  // Realtime APIs take ?model=, OpenAI's the model and Azure's the deployment). Throws
  // std::logic_error before listen().
  [[nodiscard]] std::string url_for(upstream::provider_kind provider) const;
  // http://HOST:PORT: the simulator as an Azure OpenAI resource endpoint (AZURE_OPENAI_ENDPOINT),
  // to which the bridge appends Azure's paths. Throws std::logic_error before listen().
  [[nodiscard]] std::string endpoint() const;
  // Every protocol's address here, as demo mode points the simulated providers at them.
  [[nodiscard]] agents::simulator_urls demo_urls() const;

  // Stops accepting and closes every session with 1001 (going away). Sessions end within the
  // handshake timeout; the io_context then runs out of work.
  void stop();

  // Fault hooks, applied to every open session.
  void drop_all();                                       // abort the TCP connection, no close frame
  void close_all(std::uint16_t code, std::string reason);  // close frame, after queued events
  void send_to_all(std::string raw_text);                // inject a raw text message
  // An `error` event in each session's protocol (GPT-Live sessions only once started), recorded in
  // session_snapshot::errors; the sessions stay open.
  void error_all(std::string type, std::string code, std::string message);
  // GPT-Live sessions that have started: session.closed with `reason` (close_requested, expired,
  // content, remote_hangup or connection_lost), then a 1000 close. Realtime sessions are left alone.
  void end_live_sessions(std::string reason);
  // Gemini Live sessions whose setup completed: goAway {timeLeft} now, then a close when it runs out.
  void go_away_all(std::chrono::milliseconds time_left);

  // Observation. Records survive their sessions, in the order their WebSocket handshakes completed
  // (failed handshakes leave none).
  [[nodiscard]] std::vector<session_snapshot> sessions() const;
  // Blocks until pred(records) is true or the timeout passes; pred runs under the simulator's
  // lock after every state change, so it must be quick and must not call back into the simulator.
  bool wait_until(const std::function<bool(const std::vector<session_snapshot>&)>& pred,
                  std::chrono::milliseconds timeout) const;
  // Tool webhook requests, in arrival order, recorded when they arrive (before a scripted delay).
  [[nodiscard]] std::vector<tool_request_record> tool_requests() const;
  // Blocks until pred(requests) is true or the timeout passes (same rules as wait_until).
  bool wait_for_tool_requests(const std::function<bool(const std::vector<tool_request_record>&)>& pred,
                              std::chrono::milliseconds timeout) const;
  // Replaces the scripted reply of `tool` for requests that arrive from now on.
  void set_tool_reply(std::string tool, tool_reply reply);
  // http://HOST:PORT/tools/<tool>. Throws std::logic_error before listen().
  [[nodiscard]] std::string tool_url(std::string_view tool) const;
  [[nodiscard]] simulator_stats stats() const;
  [[nodiscard]] const simulator_options& options() const noexcept;

  // OpenAI's SIP mode (sip_control.hpp, docs/protocols.md J). A call arrives: a new "rtc_sim<n>" id,
  // and its webhooks (options().sip_events) are POSTed to sip_webhook_url one after the other,
  // asynchronously (each one's status lands in sip_call_snapshot::webhooks). Returns the call id.
  // Throws std::logic_error before listen() and when max_sip_calls were placed.
  std::string place_sip_call(sip_call_request request);
  // Every call placed, in order.
  [[nodiscard]] std::vector<sip_call_snapshot> sip_calls() const;
  // Blocks until pred(calls) is true or the timeout passes (same rules as wait_until).
  bool wait_for_sip(const std::function<bool(const std::vector<sip_call_snapshot>&)>& pred,
                    std::chrono::milliseconds timeout) const;
  // Aborts the call's sideband TCP connection without a close frame (the bridge should reconnect;
  // the script resumes where it was). No-op without an open sideband.
  void drop_sideband(std::string_view call_id);
  // The caller hangs up: the call ends; its sideband (if open) closes 1000, GPT-Live's after
  // session.closed {reason:"remote_hangup"}; a sideband attaching later is refused (404).
  void end_sip_call(std::string_view call_id);
  // sip:proj@HOST:PORT;transport=tls: the simulator as OPENAI_SIP_URI (a simulated Twilio rings it
  // with POST http://HOST:PORT/sim/sip/invite). Throws std::logic_error before listen().
  [[nodiscard]] std::string sip_uri() const;
  // Where the webhooks of calls placed from now on go, and their whsec_ secret ("" = unsigned),
  // replacing simulator_options::sip_webhook_url/secret: a server that listens after the simulator
  // (an ephemeral port) tells it its address once it is known.
  void set_sip_webhook(std::string url, std::string secret);

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace mb::simulator
