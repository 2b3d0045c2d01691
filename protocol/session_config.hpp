#pragma once
// What a call asks of its upstream session, in the project's terms; each upstream adapter sends the
// parts its protocol has (docs/protocols.md A2 for the Realtime API, D2 for GPT-Live).

#include <string>
#include <vector>

namespace mb::protocol {

// A function the model may call (docs/tools.md): declared to the provider in its session
// configuration, in that protocol's shape (Realtime `tools`, GPT-Live Responses delegation `tools`,
// Gemini `functionDeclarations`).
struct tool_declaration {
  std::string name;             // [A-Za-z0-9_-], 1-64 characters
  std::string description;
  std::string parameters_json;  // a JSON Schema object, serialised; validated when the profile is read
};

// Whether a session's configuration names its audio format: μ-law at 8 kHz on a WebSocket the bridge
// carries audio on, none for a SIP call, whose codec the SIP leg negotiates (docs/protocols.md J2).
enum class session_audio_format { pcmu, negotiated };

enum class turn_detection_type { server_vad, semantic_vad, none };

struct session_config {
  std::string instructions;
  std::string voice;
  std::string model;  // protocols that name the model in the session (GPT-Live); the Realtime API's is in its URL
  std::string transcription_model;  // empty: no input transcription
  // The caller's language (ISO-639-1, e.g. "ja") and a prompt or vocabulary for input transcription;
  // empty: the provider guesses.
  std::string transcription_language;
  std::string transcription_prompt;
  turn_detection_type turn_detection = turn_detection_type::server_vad;
  double vad_threshold = 0.5;
  int vad_prefix_padding_ms = 300;
  int vad_silence_duration_ms = 500;
  std::string vad_eagerness = "auto";
  bool vad_create_response = true;
  bool vad_interrupt_response = true;
  // The agent's tools, the built-in call-control tools (end_call, transfer_call) included.
  std::vector<tool_declaration> tools;
};

}  // namespace mb::protocol
