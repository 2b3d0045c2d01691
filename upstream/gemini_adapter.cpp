#include "upstream/gemini_adapter.hpp"

// Placeholder while the Gemini adapter is built on its own branch (issue 15).
namespace mb::upstream {

gemini_adapter::gemini_adapter()
    : caps_{.provider = "gemini",
            .audio_format = "audio/pcmu",
            .interruption = interruption_model::local_flush_only,
            .transcripts = transcript_model::chunks_finished,
            .lifecycle = gemini_live_lifecycle,
            .resumable = true,
            .acknowledges_close = false} {}

void gemini_adapter::open_session(const protocol::session_config&, std::span<const context_turn>,
                                  std::vector<std::string>&) {}
void gemini_adapter::greet(std::string_view, std::vector<std::string>&) {}
void gemini_adapter::append_caller_audio(std::string&, std::string_view) {}
void gemini_adapter::report_heard(std::string_view, std::int64_t, std::int64_t, std::vector<std::string>&) {}
void gemini_adapter::cancel_response(std::vector<std::string>&) {}
void gemini_adapter::close_session(std::vector<std::string>&) {}
std::optional<protocol::parse_error> gemini_adapter::translate(std::string_view, std::size_t, std::int64_t,
                                                               std::vector<event>&) {
  return std::nullopt;
}

}  // namespace mb::upstream
