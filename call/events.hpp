#pragma once
// What a call tells the world (listeners, the store, metrics): one event model, docs/events.md.

#include <cstdint>
#include <optional>
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
  // How the call's audio travels: "media-stream" (through this server) or "sip" (OpenAI takes the call
  // itself; this server watches it over a sideband, docs/sip.md).
  std::string transport = "media-stream";
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

// One key the caller pressed. Masked (dtmf_options::mask): `digit` is empty and `masked` true.
struct dtmf {
  std::string digit;
  bool masked = false;
};

// A digit string handed to the model (ended by '#', a pause or its length). Masked: `digits` holds
// one '•' per key.
struct dtmf_input {
  std::string digits;
  bool masked = false;
};

// The model called a tool (docs/tools.md). `arguments`: JSON text, truncated for events.
struct tool_call {
  std::string tool_call_id;
  std::string name;
  std::string arguments;
};

// What the model got back: the webhook's JSON, or an error result (`ok` false, `error` says why).
struct tool_result {
  std::string tool_call_id;
  std::string name;
  bool ok = false;
  std::string output;  // JSON text, truncated for events
  std::string error;
  std::int64_t latency_ms = 0;
};

// Hang-up, transfer or an operator's message: asked for, then done or failed.
struct call_control {
  std::string action;  // "hang_up", "transfer", "message"
  std::string by;      // "model" or "operator"
  std::string status;  // "requested", "done", "failed", "refused"
  std::string target;  // transfer: the destination's name
  std::string detail;
};

// A wire message of the call, for the debug panel (WIRE_EVENTS): its type and size, never its payload.
struct wire_message {
  std::string direction;  // "twilio_in", "twilio_out", "upstream_in", "upstream_out"
  std::string type;
  std::size_t bytes = 0;
};

// One assistant turn's waterfall (docs/latency.md, "A call's waterfall"): every span in ms from the
// caller stopping speaking, except bridge_ms, this server's own share of the turn's first audio.
struct turn_waterfall {
  std::int64_t turn = 0;        // 1, 2, ... within the call
  std::string item_id;          // the answer's assistant item (its first delta's)
  bool stopped_by_provider = false;  // false: the caller's end of speech is the bridge's estimate
  std::int64_t stopped_unix_ms = 0;  // wall-clock time the caller stopped speaking
  double to_first_delta_ms = 0;      // the answer's first delta (transcript or audio) read
  double to_first_audio_ms = 0;      // its first audio written to Twilio
  std::optional<double> to_heard_ms;  // Twilio's first mark echo after it; none: cut by the caller first
  double bridge_ms = 0;              // the first audio's upstream message read -> its media written to Twilio
};

using call_event = std::variant<call_started, transcript_delta, transcript_final, barge_in, dtmf, dtmf_input, tool_call,
                                tool_result, call_control, wire_message, turn_waterfall>;

inline const char* to_string(role r) { return r == role::caller ? "caller" : "assistant"; }

}  // namespace mb::call
