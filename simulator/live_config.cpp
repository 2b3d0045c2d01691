#include "simulator/live_config.hpp"

#include <array>
#include <utility>

#include <boost/json/string.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

constexpr std::size_t max_input_messages = 128;

// What session.start may set and session.update may not change.
constexpr std::array<std::string_view, 6> immutable_fields = {"model", "instructions", "input", "audio", "store", "client"};

// The Responses backend's settings under delegation.responses.
constexpr std::array<std::string_view, 9> responses_fields = {
    "model", "instructions", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text", "service_tier",
    "max_output_tokens"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view key) {
  for (auto s : set)
    if (s == key) return true;
  return false;
}

json::object format_object(std::string_view type, std::int64_t rate) { return {{"type", type}, {"rate", rate}}; }

std::int64_t default_rate(std::string_view type) { return type == "audio/pcm" ? 24000 : 8000; }

std::optional<config_error> check_format(const json::value& v, const std::string& path, json::value& out) {
  if (!v.is_object()) return invalid_type(path, "an object");
  const auto& in = v.get_object();
  for (const auto& [key, value] : in)
    if (key != "type" && key != "rate") return unknown(path + "." + std::string(key));
  const auto* type = in.if_contains("type");
  if (!type) return missing(path + ".type");
  if (!type->is_string()) return invalid_type(path + ".type", "a string");
  const std::string_view t = type->get_string();
  if (t != "audio/pcm" && t != "audio/pcmu" && t != "audio/pcma")
    return invalid_value(path + ".type", "'audio/pcm', 'audio/pcmu', 'audio/pcma'");
  std::int64_t rate = default_rate(t);
  if (const auto* r = in.if_contains("rate")) {
    if (!r->is_int64()) return invalid_type(path + ".rate", "an integer");
    rate = r->get_int64();
    const bool pcm = t == "audio/pcm";
    if (pcm ? rate != 16000 && rate != 24000 : rate != 8000)
      return invalid_value(path + ".rate", pcm ? "16000, 24000" : "8000");
  }
  out = format_object(t, rate);
  return std::nullopt;
}

std::optional<config_error> check_audio(const json::value& v, json::object& audio) {
  if (!v.is_object()) return invalid_type("session.audio", "an object");
  for (const auto& [key, value] : v.get_object()) {
    const std::string path = "session.audio." + std::string(key);
    if (key == "format") {
      if (auto e = check_format(value, path, audio["format"])) return e;
    } else if (key == "output") {
      if (!value.is_object()) return invalid_type(path, "an object");
      for (const auto& [okey, ovalue] : value.get_object()) {
        if (okey != "voice") return unknown(path + "." + std::string(okey));
        if (!ovalue.is_string()) return invalid_type(path + ".voice", "a string");
        audio["output"].as_object()["voice"] = ovalue;
      }
    } else {
      return unknown(path);
    }
  }
  return std::nullopt;
}

std::optional<config_error> check_message(const json::value& v, const std::string& path) {
  if (!v.is_object()) return invalid_type(path, "an object");
  const auto& m = v.get_object();
  for (const auto& [key, value] : m) {
    const std::string p = path + "." + std::string(key);
    if (key == "type") {
      if (!value.is_string() || value.get_string() != "message") return invalid_value(p, "'message'");
    } else if (key == "role") {
      if (!value.is_string() || (value.get_string() != "developer" && value.get_string() != "user" &&
                                 value.get_string() != "assistant"))
        return invalid_value(p, "'developer', 'user', 'assistant'");
    } else if (key == "content") {
      const bool one_part = value.is_array() && value.get_array().size() == 1 && value.get_array()[0].is_object();
      if (!value.is_string() && !one_part) return invalid_type(p, "a string or an array of one content part");
    } else {
      return unknown(p);
    }
  }
  if (!m.contains("role")) return missing(path + ".role");
  if (!m.contains("content")) return missing(path + ".content");
  return std::nullopt;
}

std::optional<config_error> check_input(const json::value& v) {
  if (!v.is_array()) return invalid_type("session.input", "an array");
  const auto& messages = v.get_array();
  if (messages.size() > max_input_messages)
    return invalid_value("session.input", "at most 128 messages");
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (auto e = check_message(messages[i], "session.input[" + std::to_string(i) + "]")) return e;
  return std::nullopt;
}

// Normalises null to the client default.
std::optional<config_error> check_delegation(const json::value& v, json::value& out) {
  if (v.is_null()) {
    out = json::object{{"type", "client"}};
    return std::nullopt;
  }
  if (!v.is_object()) return invalid_type("session.delegation", "an object or null");
  const auto& d = v.get_object();
  const auto* type = d.if_contains("type");
  if (!type) return missing("session.delegation.type");
  if (!type->is_string() || (type->get_string() != "client" && type->get_string() != "responses"))
    return invalid_value("session.delegation.type", "'client', 'responses'");
  const bool responses = type->get_string() == "responses";
  for (const auto& [key, value] : d) {
    const std::string path = "session.delegation." + std::string(key);
    if (key == "type") continue;
    if (!responses || key != "responses") return unknown(path);
    if (!value.is_object()) return invalid_type(path, "an object");
    for (const auto& [rkey, rvalue] : value.get_object())
      if (!contains(responses_fields, rkey)) return unknown(path + "." + std::string(rkey));
  }
  out = d;
  return std::nullopt;
}

}  // namespace

live_config::live_config(std::string session_id, std::int64_t expires_at_unix_s) {
  session_ = {
      {"id", std::move(session_id)},
      {"expires_at", expires_at_unix_s},
      {"model", ""},
      {"status", "active"},
      {"audio", {{"format", format_object("audio/pcm", 24000)}, {"output", {{"voice", "marin"}}}}},
      {"delegation", {{"type", "client"}}},
      {"input", json::array{}},
      {"instructions", ""},
      {"store", false},
      {"client", nullptr},
  };
  refresh_views();
}

std::optional<config_error> live_config::start(const json::value& session) {
  if (!session.is_object()) return invalid_type("session", "an object");
  const auto& start = session.get_object();
  json::object next = session_;
  for (const auto& [key, value] : start) {
    const std::string path = "session." + std::string(key);
    if (key == "model") {
      if (!value.is_string()) return invalid_type(path, "a string");
      if (value.get_string().empty()) return invalid_value(path, "a model name, e.g. 'gpt-live-1'");
      next[key] = value;
    } else if (key == "instructions") {
      if (!value.is_string()) return invalid_type(path, "a string");
      next[key] = value;
    } else if (key == "input") {
      if (auto e = check_input(value)) return e;
      next[key] = value;
    } else if (key == "audio") {
      if (auto e = check_audio(value, next["audio"].as_object())) return e;
    } else if (key == "delegation") {
      if (auto e = check_delegation(value, next[key])) return e;
    } else if (key == "store") {
      if (!value.is_bool()) return invalid_type(path, "a boolean");
      next[key] = value;
    } else if (key == "client") {
      if (!value.is_null() && !value.is_object()) return invalid_type(path, "an object or null");
      next[key] = value;
    } else {
      return unknown(path);
    }
  }
  if (!start.contains("model")) return missing("session.model");
  session_ = std::move(next);
  refresh_views();
  return std::nullopt;
}

std::optional<config_error> live_config::update(const json::value& session) {
  if (!session.is_object()) return invalid_type("session", "an object");
  const auto& changes = session.get_object();
  json::value delegation;
  for (const auto& [key, value] : changes) {
    const std::string path = "session." + std::string(key);
    if (contains(immutable_fields, key))
      return config_error{"immutable_field_update", path, "'" + path + "' cannot be changed after the session started."};
    if (key != "delegation") return unknown(path);
    if (auto e = check_delegation(value, delegation)) return e;
    if (delegation.at("type") != session_.at("delegation").at("type"))
      return config_error{"immutable_field_update", "session.delegation.type",
                          "The delegation type cannot be changed after the session started."};
  }
  if (!delegation.is_null()) session_["delegation"] = std::move(delegation);
  return std::nullopt;
}

void live_config::force_format(std::string_view type) {
  session_["audio"].as_object()["format"] = format_object(type, default_rate(type));
  refresh_views();
}

void live_config::refresh_views() {
  const auto& format = session_.at("audio").at("format").as_object();
  format_ = format.at("type").as_string();
  rate_ = format.at("rate").as_int64();
  model_ = session_.at("model").as_string();
}

}  // namespace mb::simulator
