#pragma once
// What a call asks of its upstream session, in the project's terms; each upstream adapter sends the
// parts its protocol has (docs/protocols.md A2 for the Realtime API, D2 for GPT-Live).

#include <string>

namespace mb::protocol {

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
};

}  // namespace mb::protocol
