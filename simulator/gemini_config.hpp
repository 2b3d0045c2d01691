#pragma once
// The simulated Gemini Live session's wire decisions that need no socket:
// what a `setup` may carry, the rate a realtimeInput.audio MIME type declares, and how goAway's
// timeLeft is spelled. Pure. (The wire facts are described in docs/protocols.md.)
//
// Accepted in `setup` (anything else is refused, as the service refuses unknown names):
//   model                     required, "models/<id>"
//   generationConfig          object; responseModalities must be ["AUDIO"] (the only modality of
//                             the Live audio models); speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName
//   systemInstruction, tools, realtimeInputConfig, contextWindowCompression, proactivity,
//   historyConfig             objects (tools: an array), kept as given
//   inputAudioTranscription, outputAudioTranscription   objects: the transcripts are sent only when present
//   sessionResumption         object {handle?: string, transparent?: bool}

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "simulator/config_error.hpp"

namespace mb::simulator {

struct gemini_setup {
  std::string model;                 // without the "models/" prefix
  std::string voice;                 // "" when not chosen
  bool input_transcription = false;  // inputAudioTranscription present
  bool output_transcription = false;
  bool resumption = false;           // sessionResumption present: handles are sent after each turn
  std::string resume_handle;         // sessionResumption.handle ("" for a new session)
};

// Checks the value of a setup message's `setup` member. On success fills `out`; on failure leaves
// it alone and returns the error (param is the field's path, e.g. "setup.generationConfig").
[[nodiscard]] std::optional<config_error> parse_gemini_setup(const boost::json::value& setup, gemini_setup& out);

// The sample rate of "audio/pcm;rate=N" (spaces around ';' allowed); nullopt for another type or a
// missing or malformed rate.
[[nodiscard]] std::optional<std::uint32_t> pcm_mime_rate(std::string_view mime_type) noexcept;

// A protobuf Duration as JSON spells it: "2s", "0.500s", "61.250s".
[[nodiscard]] std::string duration_text(std::chrono::milliseconds d);

}  // namespace mb::simulator
