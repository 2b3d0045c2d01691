#include "tools/twilio_sim/call_report.hpp"

#include <algorithm>

namespace mb::tools::twilio {

const char* to_string(call_outcome outcome) noexcept {
  switch (outcome) {
    case call_outcome::completed: return "completed";
    case call_outcome::bridge_closed: return "bridge_closed";
    case call_outcome::rejected: return "rejected";
    case call_outcome::webhook_failed: return "webhook_failed";
    case call_outcome::connect_failed: return "connect_failed";
    case call_outcome::stream_failed: return "stream_failed";
    case call_outcome::timed_out: return "timed_out";
    case call_outcome::sip_dialed: return "sip_dialed";
  }
  return "?";
}

std::vector<std::string> call_problems(const call_report& r, const call_expectations& expect) {
  std::vector<std::string> problems;
  if (!r.ok()) problems.push_back(std::string(to_string(r.outcome)) + ": " + r.failure);
  // A bridge that sends malformed Media Streams messages would break a real call even if it "ended well".
  if (r.invalid_count > 0)
    problems.push_back(std::to_string(r.invalid_count) + " invalid message(s) from the bridge, first: " +
                       r.invalid_messages.front().reason);
  if (!expect.stream_url_prefix.empty() && !r.stream_url.starts_with(expect.stream_url_prefix))
    problems.push_back("stream URL '" + r.stream_url + "' does not start with '" + expect.stream_url_prefix + "'");
  const bool streamed = !r.stream_sid.empty();
  if (expect.answer && streamed && r.media_frames_received == 0)
    problems.push_back("no answer: the caller spoke and stayed on the line, but the bridge sent no audio");
  if (expect.audio_both_ways && (r.media_frames_sent == 0 || r.media_frames_received == 0 || r.played_bytes == 0))
    problems.push_back("audio did not flow both ways (sent " + std::to_string(r.media_frames_sent) +
                       " frames, received " + std::to_string(r.media_frames_received) + ", played " +
                       std::to_string(r.played_bytes / ulaw_bytes_per_ms) + " ms)");
  if (expect.barge_in && r.clears.empty()) problems.push_back("no barge-in: the bridge never sent clear");
  return problems;
}

bool answer_expected(std::span<const audio_segment> script, int hangup_after_ms, int answer_within_ms) {
  int at = 0;
  int speech_end = -1;  // the end of the first run of speech segments
  for (std::size_t i = 0; i < script.size(); ++i) {
    at += script[i].ms;
    const bool run_ends =
        script[i].kind == audio_kind::speech && (i + 1 == script.size() || script[i + 1].kind != audio_kind::speech);
    if (speech_end < 0 && run_ends) speech_end = at;
  }
  if (speech_end < 0) return false;
  const int hangup = hangup_after_ms > 0 ? std::min(at, hangup_after_ms) : at;
  return hangup - speech_end >= answer_within_ms;
}

}  // namespace mb::tools::twilio
