#pragma once
// Google's Gemini Live API behind the neutral adapter interface (docs/protocols.md F1–F7).
//
// Audio (F3). Gemini takes and sends linear PCM only, so the adapter transcodes and the call core sees
// μ-law both ways: caller frames are decoded, resampled to 16 kHz and sent as realtimeInput.audio;
// model audio (PCM16 at 24 kHz) is resampled to 8 kHz and encoded to μ-law in whole 20 ms frames, the
// last partial frame held for the next chunk. The end of the model's generation flushes what the
// resampler and the partial frame hold (padded with silence to a frame); an interruption, a cleared
// playback or a new session drops it. Buffers are members: once grown, a frame allocates nothing.
//
// Turns (F4). Gemini's chunks carry no ids, so the adapter gives each turn one, unique within the call
// ("gm_a<n>" for the assistant, "gm_c<n>" for the caller; the counter survives open_session):
//
// - An assistant turn opens at the first model audio or output transcription while none is open:
//   response_started{response_id = turn id}, then the chunk. generationComplete (or turnComplete,
//   whichever comes first) ends its audio: the flushed tail, then assistant_audio_done. turnComplete
//   or interrupted end the turn, but output transcription may still arrive after them (its order
//   against the audio is not guaranteed), so the turn closes — assistant_transcript_final (the
//   turn's chunks, concatenated) and response_done with the latest usageMetadata — only once its
//   transcription is `finished`, or `late_transcript_gap` has passed without a chunk, or model audio
//   of a next turn arrives.
// - serverContent.interrupted: caller_speech_started at once (the core clears the caller's playback),
//   and the open turn gets no more audio; it closes by the rule above.
// - A caller turn opens at the first input transcription chunk with text while none is open, and
//   closes (caller_transcript_final, the concatenated text) at a chunk marked `finished`, when an
//   assistant turn opens, or once `caller_gap` passes without a chunk.
//
// Sessions (F6). Every setup asks for resumption; the latest resumable handle is kept for the call,
// across open_session. With a handle, open_session resumes the session and does not replay the
// conversation (the service still has it); without one, it replays it as clientContent. A resumption
// that fails before setupComplete — an error, or the connection lost and open_session called again —
// drops the handle, so the next session starts afresh with the replay. goAway becomes
// session_renewal_due. Gemini has no close message: the socket's close ends the session.
//
// open_session() forgets an open assistant turn without closing it (the core has finished it on the
// loss) but keeps an open caller turn: with resumption the caller's utterance goes on in the new
// session, and its final closes it either way.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/transcoder.hpp"
#include "protocol/gemini_events.hpp"
#include "upstream/adapter.hpp"

namespace mb::upstream {

struct gemini_turn_timing {
  // After turnComplete or interrupted, how long the turn waits for more output transcription before
  // it closes without it (F4).
  std::chrono::milliseconds late_transcript_gap{1000};
  // No input transcription for this long: the caller's turn is over, unless `finished` or the
  // model's answer closed it first. As long as GPT-Live's: an utterance's transcript may come in two
  // pieces, at the start and at the end of the speech.
  std::chrono::milliseconds caller_gap{2500};
};

class gemini_adapter final : public adapter {
 public:
  explicit gemini_adapter(gemini_turn_timing timing = {});

  [[nodiscard]] const capabilities& caps() const noexcept override { return caps_; }
  void open_session(const protocol::session_config& config, std::span<const context_turn> history,
                    std::vector<std::string>& out) override;
  void greet(std::string_view instructions, std::vector<std::string>& out) override;
  void append_caller_audio(std::string& out, std::string_view payload_b64) override;
  void report_heard(std::string_view turn_id, std::int64_t content_index, std::int64_t audio_end_ms,
                    std::vector<std::string>& out) override;
  void cancel_response(std::vector<std::string>& out) override;
  void send_tool_result(std::string_view tool_call_id, std::string_view tool_name, std::string_view output_json,
                        bool respond, std::vector<std::string>& out) override;
  void request_response(std::vector<std::string>& out) override;
  void add_context_text(std::string_view text, bool respond, std::vector<std::string>& out) override;
  void close_session(std::vector<std::string>& out) override;
  void playback_cleared() override;
  std::optional<protocol::parse_error> translate(std::string_view json, std::size_t capacity, std::int64_t now_ms,
                                                 std::vector<event>& out) override;
  void on_tick(std::int64_t now_ms, std::vector<event>& out) override;
  [[nodiscard]] std::optional<std::int64_t> next_wakeup() const override;

 private:
  struct turn {
    std::string id;
    std::string text;
    std::int64_t last_ms = 0;  // the latest chunk, or the moment the turn began ending
  };

  // One speaker's turns: the open one and the last ones closed. A closed turn's id and text (viewed by
  // its closing events) stay untouched while up to two more turns of the speaker open and close in
  // the same step.
  class turn_ring {
   public:
    [[nodiscard]] bool open() const noexcept { return open_; }
    turn& current() noexcept { return slots_[current_]; }
    [[nodiscard]] const turn& current() const noexcept { return slots_[current_]; }
    void begin(std::string id, std::int64_t now_ms);
    // The turn just closed; valid until two more turns have begun.
    const turn& close() noexcept;
    void forget() noexcept { open_ = false; }

   private:
    std::array<turn, 3> slots_;
    std::size_t current_ = 0;
    bool open_ = false;
  };

  [[nodiscard]] std::string next_id(char speaker_letter);
  void on_server_content(const protocol::gemini_message& m, std::int64_t now_ms, std::vector<event>& out);
  void on_interrupted(std::int64_t now_ms, std::vector<event>& out);
  // The message has model audio the adapter can play; reports the parts it cannot, once per session.
  bool has_model_audio(const protocol::gemini_message& m, std::vector<event>& out);
  // Appends the μ-law of the message's playable audio to model_ulaw_.
  void transcode_model_audio(const protocol::gemini_message& m);
  void open_assistant(std::int64_t now_ms, std::vector<event>& out);
  void on_output_transcription(const protocol::gemini_transcription& t, std::int64_t now_ms, std::vector<event>& out);
  void on_input_transcription(const protocol::gemini_transcription& t, std::int64_t now_ms, std::vector<event>& out);
  void begin_ending(std::int64_t now_ms, std::vector<event>& out);
  void close_assistant(std::vector<event>& out);
  void close_caller(std::vector<event>& out);
  void close_expired(std::int64_t now_ms, std::vector<event>& out);
  [[nodiscard]] std::int64_t assistant_deadline() const noexcept;
  [[nodiscard]] std::int64_t caller_deadline() const noexcept;
  // An error of command scope, once per session; `mime_type` is quoted (truncated) when given.
  void report_unusable_audio(std::string_view what, std::string_view mime_type, std::vector<event>& out);
  void on_tool_messages(const protocol::gemini_message& m, std::vector<event>& out);
  void on_error(const protocol::gemini_error& e, event& ev);

  capabilities caps_;
  gemini_turn_timing timing_;
  protocol::gemini_parser parser_;
  protocol::gemini_message parsed_;

  // The session and the call's resumption (F6).
  std::string resume_handle_;
  bool opened_ = false;    // open_session was called at least once
  bool resuming_ = false;  // the last setup carried resume_handle_
  bool ready_ = false;     // setupComplete seen since the last open_session

  std::uint64_t turns_opened_ = 0;
  turn_ring assistant_;
  turn_ring caller_;
  bool audio_ended_ = false;           // the open assistant turn's audio is done (generated or interrupted)
  bool audio_done_sent_ = false;       // … and assistant_audio_done was emitted for it
  bool ending_ = false;                // turnComplete or interrupted seen: it closes when its transcript is complete
  bool transcript_finished_ = false;   // the latest output transcription chunk was marked finished
  usage pending_usage_;                // the latest usageMetadata, for the next response_done
  bool unusable_audio_reported_ = false;  // once per session
  std::string unusable_audio_text_;

  // Audio buffers, reused frame after frame.
  codec::ulaw_to_pcm16 caller_codec_;
  codec::pcm16_to_ulaw model_codec_;
  std::string caller_ulaw_;
  std::string caller_pcm_b64_;
  std::string model_pcm_;
  std::string model_ulaw_;
  std::string model_ulaw_b64_;
};

}  // namespace mb::upstream
