#pragma once
// What a call tells the world (listeners, the store, metrics): one event model, docs/events.md.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mb::call {

enum class role { caller, assistant };

struct call_started {
  std::string stream_sid;
  std::vector<std::pair<std::string, std::string>> parameters;  // Twilio customParameters
  std::string agent;  // the agent profile answering the call; empty when none is configured
};

struct transcript_delta {
  role speaker;
  std::string item_id;
  std::string text;
};

struct transcript_final {
  role speaker;
  std::string item_id;
  std::string text;
  bool interrupted = false;   // assistant only: barge-in (or the upstream's loss) cut this turn
  std::int64_t heard_ms = -1;  // assistant only, when interrupted: audio the caller heard
  // Assistant only, when interrupted: the words of `text` the caller heard (heard_text.hpp), and
  // whether they were estimated from heard_ms (false when none or all of the audio was heard).
  std::string heard_text{};
  bool heard_text_estimated = false;
};

struct barge_in {
  std::string item_id;
  std::int64_t audio_end_ms = 0;
};

struct dtmf {
  std::string digit;
};

using call_event = std::variant<call_started, transcript_delta, transcript_final, barge_in, dtmf>;

inline const char* to_string(role r) { return r == role::caller ? "caller" : "assistant"; }

}  // namespace mb::call
