#pragma once
// What an upstream protocol can and cannot do, declared by its adapter, so that the call core decides
// by capability and never by provider name (docs/protocols.md D1 and E1 compare the protocols).

#include <chrono>
#include <optional>
#include <string_view>

namespace mb::upstream {

// What the provider imposes on a session's life.
struct provider_lifecycle {
  // The provider ends a session this long after it opened; nullopt: no cap, no rollover.
  std::optional<std::chrono::seconds> session_cap;
  // A fresh session is opened this long before the cap, in a pause of the assistant's speech.
  // Must be shorter than the cap.
  std::chrono::seconds rollover_margin{std::chrono::minutes(5)};
};

// OpenAI's Realtime API: 60 minutes, then session_expired and a close (protocols.md A9).
inline constexpr provider_lifecycle openai_realtime_lifecycle{std::chrono::minutes(60), std::chrono::minutes(5)};
// The Realtime API on Azure OpenAI: 30 minutes (protocols.md A9).
inline constexpr provider_lifecycle azure_realtime_lifecycle{std::chrono::minutes(30), std::chrono::minutes(5)};
// GPT-Live documents no cap, only each session's expires_at (protocols.md D7): it ends the session
// with reason "expired", and the call goes on in a new one.
inline constexpr provider_lifecycle openai_live_lifecycle{std::nullopt, std::chrono::minutes(5)};

// Gemini Live drops each connection after about 10 minutes, saying so a minute before (goAway); the
// session goes on in a new connection with the resumption handle (docs/protocols.md F6). Rolling over in
// a pause before then means no answer is cut by the provider's deadline.
inline constexpr provider_lifecycle gemini_live_lifecycle{std::chrono::minutes(10), std::chrono::seconds(90)};

// How the caller's interruption of the assistant is handled.
enum class interruption_model {
  truncate_exact,    // the provider signals the caller's speech; the bridge reports what was heard
  local_flush_only,  // the provider signals it, but cannot be told what was heard
  model_owned,       // no signal at all: the bridge infers it and only clears its own playback
};

// How transcripts arrive.
enum class transcript_model {
  items_with_finals,  // per item: deltas, then one final text
  timed_deltas,       // deltas with server-timeline times and no finals: the adapter groups them into turns
  chunks_finished,    // text chunks per direction, no ids, a `finished` flag: the adapter groups them into turns
};

struct capabilities {
  std::string_view provider;      // the PROVIDER value: "openai-realtime", "openai-live"
  std::string_view audio_format;  // what the session must confirm both ways; μ-law passthrough: "audio/pcmu"
  interruption_model interruption = interruption_model::truncate_exact;
  transcript_model transcripts = transcript_model::items_with_finals;
  provider_lifecycle lifecycle;
  // The session can be resumed after a loss; without it a new session is told the conversation so far.
  bool resumable = false;
  // The provider answers a close request (and the bridge waits, within the closing grace, for it).
  bool acknowledges_close = false;
  // Tool calls come from a backend response that runs beside the voice and goes on only when asked
  // (GPT-Live's Responses delegation, docs/protocols.md I2): a turn's results always ask it to go on,
  // whether or not the voice is speaking, or they would never be used.
  bool tools_beside_speech = false;
};

}  // namespace mb::upstream
