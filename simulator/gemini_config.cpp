#include "simulator/gemini_config.hpp"

#include <array>
#include <charconv>

#include <boost/json/object.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

// setup members kept as given: checked for their JSON type only.
constexpr std::array<std::string_view, 6> passthrough_objects = {
    "systemInstruction", "realtimeInputConfig", "contextWindowCompression", "proactivity", "historyConfig",
    "inputAudioTranscription"};

bool is_one_of(std::string_view key, const auto& set) {
  for (auto s : set)
    if (s == key) return true;
  return false;
}

std::optional<config_error> check_generation(const json::value& v, gemini_setup& out) {
  if (!v.is_object()) return invalid_type("setup.generationConfig", "an object");
  const auto& g = v.get_object();
  const auto* modalities = g.if_contains("responseModalities");
  if (!modalities) return missing("setup.generationConfig.responseModalities");
  const bool audio_only = modalities->is_array() && modalities->get_array().size() == 1 &&
                          modalities->get_array()[0].is_string() && modalities->get_array()[0].get_string() == "AUDIO";
  if (!audio_only) return invalid_value("setup.generationConfig.responseModalities", "[\"AUDIO\"]");
  if (const auto* speech = g.if_contains("speechConfig")) {
    if (!speech->is_object()) return invalid_type("setup.generationConfig.speechConfig", "an object");
    const auto* voice = speech->get_object().if_contains("voiceConfig");
    const auto* prebuilt = voice && voice->is_object() ? voice->get_object().if_contains("prebuiltVoiceConfig") : nullptr;
    const auto* name = prebuilt && prebuilt->is_object() ? prebuilt->get_object().if_contains("voiceName") : nullptr;
    if (name) {
      if (!name->is_string())
        return invalid_type("setup.generationConfig.speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName", "a string");
      out.voice = name->get_string();
    }
  }
  return std::nullopt;
}

std::optional<config_error> check_resumption(const json::value& v, gemini_setup& out) {
  if (!v.is_object()) return invalid_type("setup.sessionResumption", "an object");
  for (const auto& [key, value] : v.get_object()) {
    if (key == "handle") {
      if (!value.is_string() && !value.is_null()) return invalid_type("setup.sessionResumption.handle", "a string");
      if (value.is_string()) out.resume_handle = value.get_string();
    } else if (key == "transparent") {
      if (!value.is_bool()) return invalid_type("setup.sessionResumption.transparent", "a boolean");
    } else {
      return unknown("setup.sessionResumption." + std::string(key));
    }
  }
  out.resumption = true;
  return std::nullopt;
}

}  // namespace

std::optional<config_error> parse_gemini_setup(const json::value& setup, gemini_setup& out) {
  if (!setup.is_object()) return invalid_type("setup", "an object");
  gemini_setup next;
  bool has_generation = false;
  for (const auto& [key, value] : setup.get_object()) {
    const std::string path = "setup." + std::string(key);
    if (key == "model") {
      if (!value.is_string()) return invalid_type(path, "a string");
      const std::string_view model = value.get_string();
      if (!model.starts_with("models/") || model.size() == 7) return invalid_value(path, "'models/<id>'");
      next.model = model.substr(7);
    } else if (key == "generationConfig") {
      if (auto e = check_generation(value, next)) return e;
      has_generation = true;
    } else if (key == "sessionResumption") {
      if (auto e = check_resumption(value, next)) return e;
    } else if (key == "tools") {
      if (!value.is_array()) return invalid_type(path, "an array");
    } else if (key == "outputAudioTranscription" || is_one_of(key, passthrough_objects)) {
      if (!value.is_object()) return invalid_type(path, "an object");
      if (key == "inputAudioTranscription") next.input_transcription = true;
      if (key == "outputAudioTranscription") next.output_transcription = true;
    } else {
      return unknown(path);
    }
  }
  if (next.model.empty()) return missing("setup.model");
  if (!has_generation) return missing("setup.generationConfig.responseModalities");
  out = std::move(next);
  return std::nullopt;
}

std::optional<std::uint32_t> pcm_mime_rate(std::string_view mime_type) noexcept {
  const auto semicolon = mime_type.find(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  const auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  if (trim(mime_type.substr(0, semicolon)) != "audio/pcm") return std::nullopt;
  const std::string_view parameter = trim(mime_type.substr(semicolon + 1));
  if (!parameter.starts_with("rate=")) return std::nullopt;
  const std::string_view digits = parameter.substr(5);
  std::uint32_t rate = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), rate);
  if (ec != std::errc{} || end != digits.data() + digits.size() || rate == 0) return std::nullopt;
  return rate;
}

std::string duration_text(std::chrono::milliseconds d) {
  const auto ms = d.count() < 0 ? 0 : d.count();
  std::string text = std::to_string(ms / 1000);
  if (const auto fraction = ms % 1000; fraction != 0) {
    const std::string digits = std::to_string(fraction);
    text += "." + std::string(3 - digits.size(), '0') + digits;
  }
  return text + "s";
}

}  // namespace mb::simulator
