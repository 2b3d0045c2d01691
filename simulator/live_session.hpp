#pragma once
// OpenAI GPT-Live on one simulated session (the client connected to /v1/live/sessions).
//
// The session starts with the client's session.start, checked strictly (live_config.hpp), and is
// confirmed with session.started. From then on the caller's audio (session.input_audio.append) goes
// through the energy VAD with server-VAD defaults, and the model owns turn-taking:
//   caller speech detected   session.input_transcript.delta "Caller" (the window that was heard)
//   caller speech ended      session.input_transcript.delta " utterance N" (the rest of the speech),
//                            then, unless a turn is playing, a model turn
//   model turn               session.output_audio.delta chunks (audio_pattern.hpp, paced like the
//                            Realtime responses) and session.output_transcript.delta word by word
//   talked over              the caller's first transcript delta goes out, then at most
//                            late_deltas_after_cancel more audio deltas, then the turn stops; no
//                            event says so
// There is no done event; a turn just ends. Timing fields (start_ms inclusive, end_ms exclusive) are
// ms of the session's input clock, the caller audio received so far; a model turn starts at that
// clock (or where the previous turn's audio ended, if later) and its words lie on its audio played in
// real time. Every client event is checked for unknown fields as the session config is.
// Scripted tool calls (tool_script.hpp) need Responses delegation with the tool among
// delegation.responses.tools: after the caller's turn, session.delegation.created {target "responses"}
// and a response.event wrapping response.output_item.done with the function_call item (providers.md
// 1.7); response.item.create {function_call_output} records the result and the following
// response.create speaks about it. end_call is said goodbye to first, then delegated.
// upstream_simulator.hpp lists the choices made where the service documents nothing.
//
// @par Thread Safety
// As sim_session: everything runs on the session's strand; end() may be called from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/canned_speech.hpp"
#include "simulator/energy_vad.hpp"
#include "simulator/live_config.hpp"
#include "simulator/sim_session.hpp"
#include "simulator/tool_script.hpp"

namespace mb::simulator {

class live_session final : public sim_session {
 public:
  // `provider`: OpenAI's or Azure's (the path the client connected to); the protocol is the same.
  live_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number, upstream::provider_kind provider);

  // Once started: session.closed with `reason`, then a 1000 close. Posts to the strand.
  void end(std::string reason);

 private:
  enum class phase { awaiting_start, active, closing, closed };

  struct turn_state {
    std::uint32_t index = 0;      // audio pattern response index
    std::size_t record_slot = 0;  // in session_snapshot::responses
    std::uint32_t chunk = 0;      // next chunk, counted across the turn's audio items
    std::uint64_t bytes = 0;      // sent so far
    std::int64_t start_ms = 0;    // where the turn's audio starts on the session's clock
    canned_speech transcript;
    std::optional<std::uint32_t> deltas_before_stop;  // set once the caller talked over the turn
    std::optional<scripted_tool_call> call_after;     // end_call: delegated once the goodbye is said
  };

  void open(session_snapshot& record) override;
  void opened() override {}
  void handle_event(std::string_view type, simdjson::dom::object event) override;
  void reject_event(std::string_view message, std::string_view param) override;
  void on_tick() override;
  void send_error(std::string_view type, std::string_view code, std::string_view message,
                  std::string_view param) override;
  [[nodiscard]] bool accepts_injected_errors() const override;

  void on_start();
  void on_update();
  void on_append(simdjson::dom::object event);
  void on_text_append(std::string_view kind, simdjson::dom::object event);
  void on_mute(bool muted);
  void on_response_command(std::string_view type, simdjson::dom::object event);
  void refresh_tools();
  void answer_turn();
  void delegate_tool_call(const scripted_tool_call& call);
  void on_close_requested();

  void on_speech_started(std::int64_t window_start_ms);
  void on_speech_stopped(std::int64_t end_ms);

  // `spoken`: what the turn says instead of the numbered reply ("" for that).
  void start_turn(std::string_view trigger, std::string content, std::string spoken = {});
  void send_words_due();
  void send_delta();
  void finish_turn(std::string_view status);
  void send_started();
  void send_closed(std::string_view reason);
  void reject_start(std::string_view code, std::string_view message, std::string_view param);

  // Where chunk `chunk` of a turn (counted across its items; the turn's chunk count for its end)
  // starts, in ms from the turn's start.
  [[nodiscard]] std::int64_t chunk_start_ms(std::uint64_t chunk) const;
  [[nodiscard]] std::uint64_t chunks_per_turn() const;

  std::optional<live_config> config_;
  energy_vad vad_;
  std::optional<turn_state> turn_;
  phase phase_ = phase::awaiting_start;
  bool muted_ = false;
  std::uint32_t user_turns_ = 0;
  std::int64_t speech_heard_ms_ = 0;  // end of the window in which the caller's speech was detected
  std::int64_t output_end_ms_ = 0;    // where the last turn's audio ended
  std::vector<scripted_tool_call> script_;
  std::vector<declared_tool> declared_;
  std::uint32_t tool_calls_made_ = 0;
  std::string answer_text_;  // what the next response.create's turn says: about the last tool result
};

}  // namespace mb::simulator
