#pragma once
// OpenAI's GPT-Live behind the neutral adapter interface (docs/protocols.md D1–D8): μ-law passthrough,
// turn-taking owned by the model, timed transcript deltas without finals, session.close answered by
// session.closed.
//
// GPT-Live sends no turn boundaries, item ids, finals or done events (D6), so this adapter groups the
// deltas into turns by wall time (translate's and on_tick's now_ms) and gives each an id unique within
// the call ("live_a<n>" for the assistant, "live_c<n>" for the caller; the counter survives
// open_session):
//
// - An assistant turn opens at the first output audio or output transcript delta while none is open:
//   response_started{response_id = turn id}, then the delta (turn_id = response_id = the turn's id).
//   It closes once `assistant_gap` passes with neither: assistant_audio_done,
//   assistant_transcript_final (every output transcript delta of the turn, concatenated),
//   response_done.
// - A caller turn opens at the first input transcript delta while none is open. It closes
//   (caller_transcript_final, the concatenated text) when an assistant turn opens after it, or once
//   `caller_gap` passes without an input transcript delta.
//
// The interruption rule (D5): GPT-Live stops talking on its own when the caller talks over it and
// says nothing about it; and it may have sent an answer well ahead of its playback. So:
// - when an input transcript delta arrives while an assistant turn is open and has had audio (the
//   model is sending), the turn closes after the shorter `yield_gap` (at once if the model has been
//   silent that long), and the adapter emits caller_speech_started right before its closing events;
// - when a caller turn begins while no assistant turn is open (the model has finished sending, but
//   its answer may still be playing), the adapter emits caller_speech_started at once;
// and the call core then clears the assistant audio still queued for the caller (if any) and records
// the turn as interrupted at what was heard. Without caller speech the turn closes normally and its
// queued audio plays out.
//
// Turns still open when the session closes are closed first, by the same rules, so no transcript is
// lost. open_session() forgets open turns without closing them (the core has finalised them on the loss).
//
// On a SIP call's sideband (attach_sideband, docs/protocols.md J3) the same rules hold, except that an
// output transcript delta counts as the model sending, as audio does: the sideband may see no audio.
//
// The transcoding fallback (docs/protocols.md G2): session.start asks for μ-law, but GPT-Live on Azure
// may only speak PCM16 at 24 kHz. When session.started confirms that instead, the adapter converts
// both ways (caller μ-law → PCM16 24 kHz; model PCM16 → μ-law in whole 20 ms frames, the tail flushed
// when the assistant's turn closes, dropped when the turn is cut or playback_cleared()), so the core
// sees audio/pcmu both ways; session_ready's text says so, once per session, for the log. Any other
// format is reported as it is, and the core's format guard ends the call (format_mismatch). The
// buffers keep their capacity: a frame allocates nothing once they have grown to the call's largest.

#include <chrono>
#include <memory>
#include <string>

#include "codec/transcoder.hpp"

#include "protocol/live_events.hpp"
#include "upstream/adapter.hpp"

namespace mb::upstream {

struct live_turn_timing {
  // No output audio or transcript for this long: the assistant's turn is over.
  std::chrono::milliseconds assistant_gap{500};
  // The same once the caller has talked over the turn: the model yields at once, and every ms of
  // waiting is stale audio the caller hears (docs/protocols.md D5). Shorter than assistant_gap.
  std::chrono::milliseconds yield_gap{200};
  // No input transcript for this long: the caller's turn is over. A caller's turn usually ends when
  // the model answers; the gap only closes one it does not answer, so it must outlast the pauses
  // within an utterance the transcript may show (a fragment when speech starts, the rest when it ends).
  std::chrono::milliseconds caller_gap{2500};
};

class live_adapter final : public adapter {
 public:
  // `provider`: the PROVIDER name it serves (OpenAI's or Azure's GPT-Live).
  explicit live_adapter(std::string_view provider = "openai-live", live_turn_timing timing = {});

  [[nodiscard]] const capabilities& caps() const noexcept override { return caps_; }
  void open_session(const protocol::session_config& config, std::span<const context_turn> history,
                    std::vector<std::string>& out) override;
  void attach_sideband() override;
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
  std::optional<protocol::parse_error> translate(std::string_view json, std::size_t capacity, std::int64_t now_ms,
                                                 std::vector<event>& out) override;
  void on_tick(std::int64_t now_ms, std::vector<event>& out) override;
  [[nodiscard]] std::optional<std::int64_t> next_wakeup() const override;
  void playback_cleared() override;

  // The PCM16 rate the transcoding fallback accepts: the one Azure documents (docs/protocols.md G2).
  static constexpr int transcoded_rate = 24000;

 private:
  // The transcoding fallback's state, created when a session first confirms PCM16.
  struct transcoder {
    codec::ulaw_to_pcm16 caller{transcoded_rate, codec::caller_preset};
    codec::pcm16_to_ulaw assistant{transcoded_rate, codec::assistant_preset};
    std::string decoded;     // one message's audio, base64-decoded (either direction)
    std::string caller_b64;  // the caller's PCM16
    std::string delta_b64;   // a delta's μ-law frames
    std::string tail_b64;    // a closing turn's flushed μ-law: viewed in the same step as a new delta's
    // Room for deltas of up to half a second, so that the buffers do not grow (and move) with the
    // resampler's bursts once the call is under way.
    transcoder();
  };

  // One speaker's turn being assembled. Each speaker has two, swapped on close, so that a closed
  // turn's id and text (viewed by its closing events) survive a new turn opening in the same step.
  struct turn {
    bool open = false;
    std::string id;
    std::string text;
    std::int64_t last_ms = 0;  // the latest delta
  };

  // Open turns and the transcoder's state belong to the previous session or sideband.
  void forget_session();
  [[nodiscard]] std::int64_t assistant_deadline() const noexcept;
  [[nodiscard]] std::int64_t caller_deadline() const noexcept;
  void close_expired(std::int64_t now_ms, std::vector<event>& out);
  void open_turn(turn& t, char speaker, std::int64_t now_ms);
  void on_assistant_delta(const protocol::live_event& p, std::int64_t now_ms, std::vector<event>& out);
  void on_caller_delta(const protocol::live_event& p, std::int64_t now_ms, std::vector<event>& out);
  void close_assistant(std::vector<event>& out);
  void close_caller(std::vector<event>& out);
  void on_session(const protocol::live_event& p, event& ev);
  // The μ-law (base64) of an output delta while transcoding: empty until it completes a frame.
  std::string_view transcode_delta(std::string_view pcm_b64);

  capabilities caps_;
  live_turn_timing timing_;
  protocol::live_parser parser_;
  protocol::live_event parsed_;
  bool started_ = false;  // session.started seen: later errors no longer doom the session
  bool sideband_ = false;  // attached to a SIP call's session (attach_sideband) rather than opening one
  std::string format_;    // the confirmed format as session_ready reports it
  std::uint64_t turns_opened_ = 0;
  turn assistant_, closed_assistant_;
  turn caller_, closed_caller_;
  bool assistant_audio_ = false;      // the open assistant turn has had audio
  bool caller_talked_over_ = false;   // … and an input transcript delta arrived since (the rule above)
  std::unique_ptr<transcoder> transcoder_;  // kept across sessions, reset by open_session()
  bool transcoding_ = false;                // the session confirmed PCM16 at transcoded_rate
};

}  // namespace mb::upstream
