#pragma once
// A rejected session configuration, as both simulated protocols report it in an `error` event
// (docs/protocols.md A8), and the four kinds of rejection they share. Pure.

#include <string>
#include <string_view>
#include <utility>

namespace mb::simulator {

// `param` empty means null (or absent, in GPT-Live's error).
struct config_error {
  std::string code;
  std::string param;
  std::string message;
};

inline config_error missing(std::string param) {
  std::string message = "Missing required parameter: '" + param + "'.";
  return {"missing_required_parameter", std::move(param), std::move(message)};
}

inline config_error unknown(std::string param) {
  std::string message = "Unknown parameter: '" + param + "'.";
  return {"unknown_parameter", std::move(param), std::move(message)};
}

inline config_error invalid_type(std::string param, std::string_view expected) {
  std::string message = "Invalid type for '" + param + "': expected " + std::string(expected) + ".";
  return {"invalid_type", std::move(param), std::move(message)};
}

inline config_error invalid_value(std::string param, std::string_view supported) {
  std::string message = "Invalid value for '" + param + "'. Supported values are: " + std::string(supported) + ".";
  return {"invalid_value", std::move(param), std::move(message)};
}

}  // namespace mb::simulator
