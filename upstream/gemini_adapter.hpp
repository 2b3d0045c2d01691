#pragma once
// Google's Gemini Live API behind the neutral adapter interface (docs/protocols.md F1–F7).
// Not μ-law: caller audio is decoded, resampled to 16 kHz PCM16 and sent as realtimeInput.audio; model
// audio (24 kHz PCM16) is resampled to 8 kHz and encoded to μ-law in whole 20 ms frames (codec/).
// Interruption is signalled (serverContent.interrupted) but cannot be reported back; sessions are
// resumed on a new connection with the latest resumption handle.

#include "upstream/adapter.hpp"

namespace mb::upstream {

class gemini_adapter final : public adapter {
 public:
  gemini_adapter();

  [[nodiscard]] const capabilities& caps() const noexcept override { return caps_; }
  void open_session(const protocol::session_config& config, std::span<const context_turn> history,
                    std::vector<std::string>& out) override;
  void greet(std::string_view instructions, std::vector<std::string>& out) override;
  void append_caller_audio(std::string& out, std::string_view payload_b64) override;
  void report_heard(std::string_view turn_id, std::int64_t content_index, std::int64_t audio_end_ms,
                    std::vector<std::string>& out) override;
  void cancel_response(std::vector<std::string>& out) override;
  void close_session(std::vector<std::string>& out) override;
  std::optional<protocol::parse_error> translate(std::string_view json, std::size_t capacity, std::int64_t now_ms,
                                                 std::vector<event>& out) override;

 private:
  capabilities caps_;
};

}  // namespace mb::upstream
