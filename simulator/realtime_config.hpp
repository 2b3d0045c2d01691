#pragma once
// The simulator's effective GA session object (protocols.md A2) and how session.update changes it.
// Pure: no I/O. The object is what session.created / session.updated carry.
//
// Update rules (as the real service documents them): only fields present change; `session`,
// `session.audio`, `.audio.input` and `.audio.output` merge key by key; every other value, formats
// included, is replaced whole; `turn_detection` is replaced by the given object with the type's
// defaults filled in, or by null (no VAD). `model`, `id`, `object` and `expires_at` never change.
// A rejected update changes nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "simulator/config_error.hpp"

namespace mb::simulator {

struct vad_params {
  double threshold = 0.5;  // 0..1, higher = needs louder audio (see energy_vad.hpp for the level)
  std::int64_t prefix_padding_ms = 300;
  std::int64_t silence_duration_ms = 500;
  bool create_response = true;
  bool interrupt_response = true;
};

class realtime_config {
 public:
  realtime_config(std::string session_id, std::string model, std::int64_t expires_at_unix_s);

  // Applies the `session` member of a session.update.
  std::optional<config_error> apply(const boost::json::value& session);

  // Replaces the output format type (negative tests: announce a format the bridge did not ask for).
  void force_output_format(std::string_view type);

  [[nodiscard]] const boost::json::object& json() const noexcept { return session_; }
  [[nodiscard]] const std::string& input_format() const noexcept { return input_format_; }
  [[nodiscard]] const std::string& output_format() const noexcept { return output_format_; }
  [[nodiscard]] const std::string& voice() const noexcept { return voice_; }
  [[nodiscard]] const std::optional<vad_params>& vad() const noexcept { return vad_; }
  [[nodiscard]] bool transcription_enabled() const noexcept { return transcription_; }

 private:
  void refresh_views();

  boost::json::object session_;
  std::string input_format_;
  std::string output_format_;
  std::string voice_;
  std::optional<vad_params> vad_;
  bool transcription_ = false;
};

}  // namespace mb::simulator
