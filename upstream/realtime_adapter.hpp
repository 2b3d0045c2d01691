#pragma once
// OpenAI's Realtime API (GA) behind the neutral adapter interface (docs/protocols.md A2–A9): μ-law
// passthrough, server VAD, exact truncation, per-item transcripts with finals, a 60-minute cap.

#include "protocol/realtime_events.hpp"
#include "upstream/adapter.hpp"

namespace mb::upstream {

class realtime_adapter final : public adapter {
 public:
  // `provider`: the PROVIDER name it serves; `lifecycle`: the host's session cap (OpenAI 60 min, Azure 30 min).
  explicit realtime_adapter(std::string_view provider = "openai-realtime",
                            provider_lifecycle lifecycle = openai_realtime_lifecycle);

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

 private:
  capabilities caps_;
  protocol::realtime_parser parser_;
  protocol::realtime_event parsed_;
  bool configured_ = false;  // session.updated seen: later errors no longer doom the session
};

}  // namespace mb::upstream
