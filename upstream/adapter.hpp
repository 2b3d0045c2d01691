#pragma once
// One upstream protocol, translated both ways: the provider's messages into neutral events, and the
// call core's neutral commands into the provider's messages. Pure: no I/O, no clock of its own.
//
// The call core (call::call_state) owns one adapter per call and speaks to the provider only through
// it; the I/O shell moves the bytes. A new session (after a loss or a rollover) starts with
// open_session(), which also forgets the previous session's state.
//
// Commands a provider has no message for append nothing: GPT-Live cannot be told what was heard, nor
// asked to cancel (docs/protocols.md D5).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parse_error.hpp"
#include "protocol/realtime_events.hpp"
#include "upstream/capabilities.hpp"
#include "upstream/event.hpp"

namespace mb::upstream {

enum class speaker { caller, assistant };

// A turn of the conversation so far, as the caller heard it: replayed into a new session.
struct context_turn {
  speaker who;
  std::string_view text;
};

class adapter {
 public:
  virtual ~adapter() = default;

  [[nodiscard]] virtual const capabilities& caps() const noexcept = 0;

  // --- neutral commands → the provider's messages; each appends whole messages to `out` ---

  // A new session: its configuration, then the conversation so far as context.
  virtual void open_session(const protocol::session_config& config, std::span<const context_turn> history,
                            std::vector<std::string>& out) = 0;
  // A SIP call's sideband (docs/protocols.md J3): the session was configured when the call was
  // accepted, so nothing is sent; the adapter forgets any earlier connection's state and treats the
  // session as configured.
  virtual void attach_sideband() {}
  // The session is ready and the assistant should speak first, following `instructions`.
  virtual void greet(std::string_view instructions, std::vector<std::string>& out) = 0;
  // Hot path, once per caller frame: appends one message to `out` (cleared by the caller), or nothing
  // while a transcoding adapter gathers a block of samples (the shell then sends no message).
  // `payload_b64` is valid base64 (checked by the caller), so it needs no escaping.
  virtual void append_caller_audio(std::string& out, std::string_view payload_b64) = 0;
  // The caller heard `audio_end_ms` of a turn's audio before it was cut.
  virtual void report_heard(std::string_view turn_id, std::int64_t content_index, std::int64_t audio_end_ms,
                            std::vector<std::string>& out) = 0;
  // Stop the answer being generated.
  virtual void cancel_response(std::vector<std::string>& out) = 0;
  // The result of a tool call (event_kind::tool_call): `output_json` is a JSON value. `respond`: ask the
  // model to go on now (the last pending result of its turn); a protocol that resumes by itself sends
  // no extra message.
  virtual void send_tool_result(std::string_view tool_call_id, std::string_view tool_name, std::string_view output_json,
                                bool respond, std::vector<std::string>& out) = 0;
  // Ask the model to answer now, with what the conversation holds (a tool result sent while the response
  // that called the tool was still running); a protocol that resumes by itself sends nothing.
  virtual void request_response(std::vector<std::string>& out) = 0;
  // Text the model should take into account as the caller's context, not as speech (DTMF keys, an
  // operator's message); `respond`: and answer it now.
  virtual void add_context_text(std::string_view text, bool respond, std::vector<std::string>& out) = 0;
  // The call is ending: ask the provider to close the session (capabilities::acknowledges_close).
  virtual void close_session(std::vector<std::string>& out) = 0;
  // The caller's playback was cleared (a barge-in, a lost session): whatever the adapter still holds
  // of the assistant's audio (a transcoder's filter state, a partial frame) belongs to the cut turn.
  virtual void playback_cleared() {}

  // --- the provider's messages → neutral events ---

  // Translates one message (followed by simdjson::SIMDJSON_PADDING readable bytes, within `capacity`)
  // into zero or more events appended to `out`. `now_ms`: the shell's steady clock, for adapters that
  // infer turns from timing.
  virtual std::optional<protocol::parse_error> translate(std::string_view json, std::size_t capacity,
                                                         std::int64_t now_ms, std::vector<event>& out) = 0;
  // Adapters that infer events from time (a turn that stopped) ask to be woken; call at or after
  // next_wakeup().
  virtual void on_tick(std::int64_t /*now_ms*/, std::vector<event>& /*out*/) {}
  [[nodiscard]] virtual std::optional<std::int64_t> next_wakeup() const { return std::nullopt; }
};

}  // namespace mb::upstream
