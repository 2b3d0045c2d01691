#include "simulator/realtime_config.hpp"

#include <array>
#include <utility>

#include <boost/json/string.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

// Beta (flat) session fields; the GA service answers them with unknown_parameter (protocols.md A2, A10).
constexpr std::array<std::string_view, 10> beta_fields = {
    "voice",           "modalities",   "input_audio_format", "output_audio_format", "turn_detection",
    "input_audio_transcription", "temperature", "input_audio_noise_reduction", "max_response_output_tokens",
    "speed"};

// GA fields the simulator stores and echoes without interpreting them.
constexpr std::array<std::string_view, 10> opaque_fields = {
    "output_modalities", "tools", "tool_choice", "max_output_tokens", "tracing",
    "truncation",        "include", "prompt",    "reasoning",         "parallel_tool_calls"};

// Fields a client may send back from session.created but that never change.
constexpr std::array<std::string_view, 4> fixed_fields = {"model", "id", "object", "expires_at"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view key) {
  for (auto s : set)
    if (s == key) return true;
  return false;
}

json::object default_turn_detection(std::string_view type) {
  if (type == "semantic_vad")
    return {{"type", "semantic_vad"}, {"eagerness", "auto"}, {"create_response", true}, {"interrupt_response", true}};
  return {{"type", "server_vad"},
          {"threshold", 0.5},
          {"prefix_padding_ms", 300},
          {"silence_duration_ms", 500},
          {"idle_timeout_ms", nullptr},
          {"create_response", true},
          {"interrupt_response", true}};
}

json::object pcm24k() { return {{"type", "audio/pcm"}, {"rate", 24000}}; }

std::optional<config_error> normalize_format(const json::value& v, const std::string& path, json::value& out) {
  if (!v.is_object()) return invalid_type(path, "an object");
  const auto* type = v.get_object().if_contains("type");
  if (!type) return missing(path + ".type");
  if (!type->is_string()) return invalid_type(path + ".type", "a string");
  const std::string_view t = type->get_string();
  if (t == "audio/pcm") {
    const auto* rate = v.get_object().if_contains("rate");
    if (rate && !(rate->is_int64() && rate->get_int64() == 24000))
      return invalid_value(path + ".rate", "24000");
    out = pcm24k();
  } else if (t == "audio/pcmu" || t == "audio/pcma") {
    out = json::object{{"type", t}};
  } else {
    return invalid_value(path + ".type", "'audio/pcm', 'audio/pcmu', 'audio/pcma'");
  }
  return std::nullopt;
}

std::optional<config_error> normalize_turn_detection(const json::value& v, const std::string& path, json::value& out) {
  if (v.is_null()) {
    out = nullptr;
    return std::nullopt;
  }
  if (!v.is_object()) return invalid_type(path, "an object or null");
  const auto& in = v.get_object();
  const auto* type = in.if_contains("type");
  if (!type) return missing(path + ".type");
  if (!type->is_string() || (type->get_string() != "server_vad" && type->get_string() != "semantic_vad"))
    return invalid_value(path + ".type", "'server_vad', 'semantic_vad'");
  const bool semantic = type->get_string() == "semantic_vad";
  json::object result = default_turn_detection(type->get_string());
  for (const auto& [key, value] : in) {
    const std::string p = path + "." + std::string(key);
    if (key == "type") continue;
    if (key == "create_response" || key == "interrupt_response") {
      if (!value.is_bool()) return invalid_type(p, "a boolean");
    } else if (!semantic && key == "threshold") {
      if (!value.is_number() || value.to_number<double>() < 0.0 || value.to_number<double>() > 1.0)
        return invalid_value(p, "a number between 0 and 1");
    } else if (!semantic && (key == "prefix_padding_ms" || key == "silence_duration_ms")) {
      if (!value.is_int64() || value.get_int64() < 0) return invalid_type(p, "a non-negative integer");
    } else if (!semantic && key == "idle_timeout_ms") {
      if (!value.is_null() && !value.is_int64()) return invalid_type(p, "an integer or null");
    } else if (semantic && key == "eagerness") {
      if (!value.is_string()) return invalid_type(p, "a string");
    } else {
      return unknown(p);
    }
    result[key] = value;
  }
  out = std::move(result);
  return std::nullopt;
}

std::optional<config_error> merge_direction(const json::value& v, const std::string& path, bool input,
                                            json::object& target) {
  if (!v.is_object()) return invalid_type(path, "an object");
  for (const auto& [key, value] : v.get_object()) {
    const std::string p = path + "." + std::string(key);
    json::value normalized;
    if (key == "format") {
      if (auto e = normalize_format(value, p, normalized)) return e;
    } else if (input && key == "turn_detection") {
      if (auto e = normalize_turn_detection(value, p, normalized)) return e;
    } else if (input && (key == "transcription" || key == "noise_reduction")) {
      if (!value.is_null() && !value.is_object()) return invalid_type(p, "an object or null");
      normalized = value;
    } else if (!input && key == "voice") {
      const auto* id = value.is_object() ? value.get_object().if_contains("id") : nullptr;
      if (!value.is_string() && !(id && id->is_string())) return invalid_type(p, "a string or {\"id\": string}");
      normalized = value;
    } else if (!input && key == "speed") {
      if (!value.is_number()) return invalid_type(p, "a number");
      normalized = value;
    } else {
      return unknown(p);
    }
    target[key] = std::move(normalized);
  }
  return std::nullopt;
}

}  // namespace

realtime_config::realtime_config(std::string session_id, std::string model, std::int64_t expires_at_unix_s) {
  session_ = {
      {"object", "realtime.session"},
      {"type", "realtime"},
      {"id", std::move(session_id)},
      {"model", std::move(model)},
      {"output_modalities", json::array{"audio"}},
      {"instructions", "You are a simulated assistant. Answer briefly."},
      {"tools", json::array{}},
      {"tool_choice", "auto"},
      {"max_output_tokens", "inf"},
      {"tracing", nullptr},
      {"truncation", "auto"},
      {"prompt", nullptr},
      {"include", nullptr},
      {"expires_at", expires_at_unix_s},
      {"audio",
       {{"input",
         {{"format", pcm24k()},
          {"transcription", nullptr},
          {"noise_reduction", nullptr},
          {"turn_detection", default_turn_detection("server_vad")}}},
        {"output", {{"format", pcm24k()}, {"voice", "alloy"}, {"speed", 1.0}}}}},
  };
  refresh_views();
}

std::optional<config_error> realtime_config::apply(const json::value& session) {
  if (!session.is_object()) return invalid_type("session", "an object");
  const auto& update = session.get_object();
  // The discriminator is checked first: a beta-shaped update has no type at all.
  const auto* type = update.if_contains("type");
  if (!type) return missing("session.type");
  if (!type->is_string() || type->get_string() != "realtime")
    return invalid_value("session.type", "'realtime' (the simulator has no transcription sessions)");
  for (const auto& [key, value] : update)
    if (contains(beta_fields, key)) return unknown("session." + std::string(key));

  json::object next = session_;
  for (const auto& [key, value] : update) {
    const std::string path = "session." + std::string(key);
    if (key == "type" || contains(fixed_fields, key)) continue;
    if (key == "instructions") {
      if (!value.is_string()) return invalid_type(path, "a string");
      next[key] = value;
    } else if (key == "audio") {
      if (!value.is_object()) return invalid_type(path, "an object");
      auto& audio = next["audio"].as_object();
      for (const auto& [dir, dir_value] : value.get_object()) {
        if (dir != "input" && dir != "output") return unknown(path + "." + std::string(dir));
        if (auto e = merge_direction(dir_value, path + "." + std::string(dir), dir == "input", audio[dir].as_object()))
          return e;
      }
    } else if (contains(opaque_fields, key)) {
      next[key] = value;
    } else {
      return unknown(path);
    }
  }
  session_ = std::move(next);
  refresh_views();
  return std::nullopt;
}

void realtime_config::force_output_format(std::string_view type) {
  auto& output = session_["audio"].as_object()["output"].as_object();
  if (type == "audio/pcm")
    output["format"] = pcm24k();
  else
    output["format"] = json::object{{"type", type}};
  refresh_views();
}

void realtime_config::refresh_views() {
  const auto& audio = session_.at("audio").as_object();
  const auto& input = audio.at("input").as_object();
  const auto& output = audio.at("output").as_object();
  input_format_ = input.at("format").at("type").as_string();
  output_format_ = output.at("format").at("type").as_string();
  const auto& voice = output.at("voice");
  voice_ = voice.is_string() ? std::string(voice.get_string()) : std::string(voice.at("id").as_string());
  transcription_ = !input.at("transcription").is_null();
  const auto& td = input.at("turn_detection");
  if (td.is_null()) {
    vad_.reset();
    return;
  }
  // semantic_vad is approximated by server_vad with the default energy parameters.
  vad_params p;
  const auto& o = td.get_object();
  if (const auto* v = o.if_contains("threshold")) p.threshold = v->to_number<double>();
  if (const auto* v = o.if_contains("prefix_padding_ms")) p.prefix_padding_ms = v->to_number<std::int64_t>();
  if (const auto* v = o.if_contains("silence_duration_ms")) p.silence_duration_ms = v->to_number<std::int64_t>();
  p.create_response = o.at("create_response").as_bool();
  p.interrupt_response = o.at("interrupt_response").as_bool();
  vad_ = p;
}

}  // namespace mb::simulator
