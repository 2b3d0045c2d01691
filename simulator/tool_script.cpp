#include "simulator/tool_script.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "simulator/tool_webhook.hpp"

namespace mb::simulator {
namespace {

namespace json = boost::json;

constexpr std::size_t max_answer_output = 400;

std::string string_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string serialized_member(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? json::serialize(*v) : std::string();
}

}  // namespace

std::optional<scripted_tool_call> parse_tool_call(std::string_view spec) {
  const auto first = spec.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const std::string_view turn_text = spec.substr(0, first);
  std::uint32_t turn = 0;
  const auto [end, ec] = std::from_chars(turn_text.data(), turn_text.data() + turn_text.size(), turn);
  if (ec != std::errc() || end != turn_text.data() + turn_text.size() || turn == 0) return std::nullopt;
  const std::string_view rest = spec.substr(first + 1);
  const auto second = rest.find(':');
  const std::string_view tool = rest.substr(0, second);
  // The tool webhook's rule for names: they travel in URLs and events unescaped.
  if (!tool_name_of("/tools/" + std::string(tool))) return std::nullopt;
  scripted_tool_call call{turn, std::string(tool), "{}"};
  if (second != std::string_view::npos) {
    json::error_code json_ec;
    const json::value arguments = json::parse(rest.substr(second + 1), json_ec);
    if (json_ec || !arguments.is_object()) return std::nullopt;
    call.arguments_json = json::serialize(arguments);
  }
  return call;
}

std::optional<std::vector<scripted_tool_call>> script_in_instructions(std::string_view instructions) {
  std::optional<std::vector<scripted_tool_call>> script;
  while (!instructions.empty()) {
    const auto newline = instructions.find('\n');
    std::string_view line = instructions.substr(0, newline);
    instructions = newline == std::string_view::npos ? std::string_view() : instructions.substr(newline + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.starts_with(script_line_prefix)) continue;
    line.remove_prefix(script_line_prefix.size());
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (!script) script.emplace();
    if (auto call = parse_tool_call(line)) script->push_back(std::move(*call));
  }
  return script;
}

std::vector<declared_tool> function_tools(const json::value& tools) {
  std::vector<declared_tool> out;
  if (!tools.is_array()) return out;
  for (const auto& tool : tools.get_array()) {
    if (!tool.is_object()) continue;
    const auto& o = tool.get_object();
    std::string name = string_member(o, "name");
    if (string_member(o, "type") != "function" || name.empty()) continue;
    out.push_back({std::move(name), serialized_member(o, "parameters")});
  }
  return out;
}

std::vector<declared_tool> gemini_function_declarations(const json::value& tools) {
  std::vector<declared_tool> out;
  if (!tools.is_array()) return out;
  for (const auto& tool : tools.get_array()) {
    const json::value* declarations = tool.is_object() ? tool.get_object().if_contains("functionDeclarations") : nullptr;
    if (!declarations || !declarations->is_array()) continue;
    for (const auto& d : declarations->get_array()) {
      if (!d.is_object()) continue;
      std::string name = string_member(d.get_object(), "name");
      if (!name.empty()) out.push_back({std::move(name), serialized_member(d.get_object(), "parameters")});
    }
  }
  return out;
}

const scripted_tool_call* due_tool_call(const std::vector<scripted_tool_call>& script, std::uint32_t turn,
                                        const std::vector<declared_tool>& declared) {
  const auto it = std::find_if(script.begin(), script.end(), [&](const scripted_tool_call& call) {
    return call.turn == turn && std::any_of(declared.begin(), declared.end(),
                                            [&](const declared_tool& d) { return d.name == call.tool; });
  });
  return it == script.end() ? nullptr : &*it;
}

std::string tool_answer_text(std::string_view output) {
  std::size_t cut = std::min(output.size(), max_answer_output);
  // Back off to the start of a UTF-8 sequence: continuation bytes are 10xxxxxx.
  while (cut > 0 && cut < output.size() && (static_cast<unsigned char>(output[cut]) & 0xC0) == 0x80) --cut;
  const std::string quoted = json::serialize(json::string(output.substr(0, cut)));
  return "The tool answered: " + quoted.substr(1, quoted.size() - 2);
}

std::string unescaped(std::string_view escaped) {
  if (escaped.find('\\') == std::string_view::npos) return std::string(escaped);
  json::error_code ec;
  const json::value text = json::parse("\"" + std::string(escaped) + "\"", ec);
  return ec || !text.is_string() ? std::string(escaped) : std::string(text.get_string());
}

}  // namespace mb::simulator
