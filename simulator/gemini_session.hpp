#pragma once
// Google's Gemini Live API on one simulated session (the client connected to
// /ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent with an
// x-goog-api-key header; the wire facts are described in docs/protocols.md).
//
// Messages are JSON objects keyed by their kind, not typed events:
//   setup              first, and only first (gemini_config.hpp checks it) -> setupComplete.
//                      sessionResumption.handle resumes a conversation (gemini_conversation in
//                      sim_state.hpp): reply and caller-turn numbering continue. An unknown, replaced
//                      or expired handle is refused with a 1008 close.
//   realtimeInput      audio {mimeType "audio/pcm;rate=N" (N = 8000, 16000, 24000 or 48000), data}
//                      goes through the energy VAD (server-VAD defaults); audioStreamEnd, text,
//                      activityStart/End are accepted and change nothing.
//   clientContent      recorded; turnComplete true asks for an answer (one playing is interrupted
//                      first, as 3.8 models do).
//   toolResponse       functionResponses [{id, name, response}] recorded; a reply about the last one
//                      follows (tool_answer_text), unless one is playing.
// The caller's turn: inputTranscription {text "Caller"} when speech is detected, {text " utterance N",
// finished true} when it ends (only with inputAudioTranscription), then a reply:
//   serverContent.modelTurn.parts[{inlineData {mimeType "audio/pcm;rate=24000", data}}]  gemini_chunk_ms
//       of the 24 kHz PCM16 pattern (audio_pattern.hpp) per message, paced `speed` times real time
//   serverContent.outputTranscription {text}  word by word along the audio (only with
//       outputAudioTranscription), then {text "", finished true}
//   serverContent.generationComplete once every chunk is out; serverContent.turnComplete,
//   usageMetadata and sessionResumptionUpdate {newHandle, resumable true} (only with sessionResumption)
//   when the client would have played the reply in real time (response_ms after the first chunk)
// Talked over before turnComplete (while sending, or while the client still plays what was sent):
// serverContent.interrupted, serverContent.turnComplete, a sessionResumptionUpdate, and nothing more
// of that reply. goAway {timeLeft} goes out gemini_go_away_after_ms after setupComplete
// (or on go_away()); when timeLeft runs out the connection closes with 1000. A reply cut by the
// close is recorded as "cut"; the next connection of the conversation answers with the next number.
// Scripted tool calls (tool_script.hpp) for functions declared in setup.tools: after the caller's
// turn, toolCall {functionCalls [{id, name, args}]} instead of a reply; end_call after a goodbye reply.
// With gemini_cancel_tool_calls_on_barge_in, caller speech while calls are unanswered sends
// toolCallCancellation {ids}. clientContent text parts and realtimeInput.text are context texts.
// Malformed messages, an unknown kind or bad audio close with 1007 and a reason, as the service
// does; an injected error closes with 1011.
//
// @par Thread Safety
// As sim_session: everything runs on the session's strand; go_away() may be called from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simulator/canned_speech.hpp"
#include "simulator/energy_vad.hpp"
#include "simulator/gemini_config.hpp"
#include "simulator/sim_session.hpp"
#include "simulator/tool_script.hpp"

namespace mb::simulator {

class gemini_session final : public sim_session {
 public:
  gemini_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number);

  // Once set up: goAway {timeLeft} now, and a close when it runs out. Posts to the strand.
  void go_away(std::chrono::milliseconds time_left);

 private:
  enum class phase { awaiting_setup, active, closed };

  struct reply_state {
    std::uint32_t index = 0;       // audio pattern response index, per conversation
    std::size_t record_slot = 0;   // in session_snapshot::responses
    std::uint64_t chunk = 0;       // next chunk
    canned_speech transcript;
    // The service generates faster than real time but completes the turn only when the client would
    // have played it (docs/protocols.md F4): until then the caller can still interrupt it.
    clock::time_point played_at{};  // when the first chunk went out, plus the reply's length
    bool generated = false;         // every chunk sent, generationComplete too
    std::optional<scripted_tool_call> call_after;  // end_call: called once the goodbye is complete
  };

  void open(session_snapshot& record) override;
  void opened() override {}
  void handle_message(simdjson::dom::object message) override;
  void reject_event(std::string_view message, std::string_view param) override;
  void on_tick() override;
  void send_error(std::string_view type, std::string_view code, std::string_view message,
                  std::string_view param) override;
  [[nodiscard]] bool accepts_injected_errors() const override { return phase_ == phase::active; }
  void reading_ended() override;

  void on_setup();
  void on_realtime_input(simdjson::dom::object input);
  void on_client_content(simdjson::dom::object content);
  void refuse(std::uint16_t code, std::string_view reason);

  void on_speech_started();
  void on_speech_stopped();

  // trigger "vad", "client_content", "tool_response" or "end_call"; `spoken` replaces the numbered reply.
  void start_reply(std::string_view trigger, std::string spoken = {});
  void on_tool_response(simdjson::dom::object response);
  void answer_turn(std::uint32_t turn);
  void call_tool(const scripted_tool_call& call, std::uint32_t turn);
  void cancel_tool_calls();
  void interrupt_reply();
  void finish_generation();
  void complete_turn();
  void send_resumption_update();
  void send_go_away(std::chrono::milliseconds time_left);
  void arm_lifetime(std::chrono::milliseconds after, bool then_go_away);
  void send_text(std::string text);

  [[nodiscard]] std::uint64_t chunk_samples() const;
  [[nodiscard]] std::uint64_t reply_samples() const;
  [[nodiscard]] std::uint64_t chunks_per_reply() const;

  asio::steady_timer lifetime_timer_;
  gemini_setup setup_;
  std::shared_ptr<gemini_conversation> conversation_;
  energy_vad vad_;
  std::optional<reply_state> reply_;
  phase phase_ = phase::awaiting_setup;
  bool go_away_sent_ = false;
  std::vector<scripted_tool_call> script_;
  std::vector<declared_tool> declared_;
  std::vector<std::string> unanswered_calls_;  // ids of toolCall functionCalls without a response
  std::uint32_t tool_calls_made_ = 0;
};

}  // namespace mb::simulator
