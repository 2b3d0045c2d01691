#include "call/wire_tap.hpp"

#include <algorithm>

namespace mb::call {

std::optional<wire_message> wire_tap::on_message(std::string_view direction, std::string_view type,
                                                 std::size_t bytes, std::int64_t now_ms) {
  if (!enabled_) return std::nullopt;
  if (!budget_.take(now_ms)) {
    ++dropped_;
    return std::nullopt;
  }
  std::string shown(type.substr(0, max_type_bytes));
  std::replace_if(shown.begin(), shown.end(), [](unsigned char c) { return c < 0x20 || c >= 0x7F; }, '?');
  return wire_message{std::string(direction), std::move(shown), bytes};
}

namespace {
// The JSON string starting at `json[at]` (a quote), without escapes; empty when there is none.
std::string_view string_at(std::string_view json, std::size_t at) {
  if (at >= json.size() || json[at] != '"') return {};
  const auto end = json.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(at + 1, end - at - 1);
}

std::size_t skip_space(std::string_view json, std::size_t at) {
  while (at < json.size() && (json[at] == ' ' || json[at] == '\n' || json[at] == '\r' || json[at] == '\t')) ++at;
  return at;
}
}  // namespace

// Our own messages put "type" first or have one top-level key: a scan of the first key is enough.
std::string_view wire_type_of(std::string_view json) {
  auto at = skip_space(json, 0);
  if (at >= json.size() || json[at] != '{') return "?";
  at = skip_space(json, at + 1);
  const auto key = string_at(json, at);
  if (key.empty()) return "?";
  if (key != "type") return key;
  at = skip_space(json, at + key.size() + 2);
  if (at >= json.size() || json[at] != ':') return "?";
  const auto type = string_at(json, skip_space(json, at + 1));
  return type.empty() ? "?" : type;
}

}  // namespace mb::call
