#pragma once
// For unit tests that feed a Realtime session's events (docs/protocols.md A4): the assistant's
// transcript messages, shaped like the service's.

#include <string>
#include <string_view>

namespace mb::test {

inline std::string said(std::string_view response, std::string_view item, std::string_view text) {
  return R"({"type":"response.output_audio_transcript.delta","response_id":")" + std::string(response) +
         R"(","item_id":")" + std::string(item) + R"(","content_index":0,"delta":")" + std::string(text) + R"("})";
}

inline std::string said_all(std::string_view response, std::string_view item, std::string_view text) {
  return R"({"type":"response.output_audio_transcript.done","response_id":")" + std::string(response) +
         R"(","item_id":")" + std::string(item) + R"(","content_index":0,"transcript":")" + std::string(text) + R"("})";
}

}  // namespace mb::test
