#include "protocol/tool_calls.hpp"

#include <algorithm>

#include <boost/json.hpp>

namespace mb::protocol {
namespace {

bool valid_name_character(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::optional<tool_call_problem> check_tool_call(std::string_view call_id, std::string_view name,
                                                 std::size_t arguments_bytes) noexcept {
  if (call_id.empty() || call_id.size() > max_tool_call_id_bytes)
    return tool_call_problem{"invalid_tool_call_id", "a tool call's id was empty or over 128 bytes: the call was dropped"};
  if (name.empty() || name.size() > max_tool_name_bytes || !std::all_of(name.begin(), name.end(), valid_name_character))
    return tool_call_problem{"invalid_tool_name",
                             "a tool call's name was not 1-64 characters of [A-Za-z0-9_-]: the call was dropped"};
  if (arguments_bytes > max_tool_arguments_bytes)
    return tool_call_problem{"tool_arguments_too_large", "a tool call's arguments were over 16 KiB: the call was dropped"};
  return std::nullopt;
}

bool add_function_fields(const tool_declaration& tool, boost::json::object& out) {
  namespace json = boost::json;
  json::object parameters;
  if (tool.parameters_json.empty()) {
    parameters = {{"type", "object"}, {"properties", json::object{}}};
  } else {
    boost::system::error_code ec;
    auto value = json::parse(tool.parameters_json, ec);
    if (ec || !value.is_object()) return false;
    parameters = std::move(value.as_object());
  }
  out["name"] = tool.name;
  out["description"] = tool.description;
  out["parameters"] = std::move(parameters);
  return true;
}

}  // namespace mb::protocol
