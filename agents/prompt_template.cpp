#include "agents/prompt_template.hpp"

#include <algorithm>
#include <optional>

namespace mb::agents {
namespace {

constexpr std::size_t max_name_chars = 64;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

struct placeholder {
  std::size_t begin = 0;  // offset of "{{"
  std::size_t end = 0;    // one past "}}"
  std::string_view name;
  std::optional<std::string_view> fallback;
};

// The next well-formed placeholder at or after `from`.
std::optional<placeholder> next_placeholder(std::string_view text, std::size_t from) {
  for (auto open = text.find("{{", from); open != std::string_view::npos; open = text.find("{{", open + 1)) {
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) return std::nullopt;
    const auto inner = text.substr(open + 2, close - open - 2);
    const auto bar = inner.find('|');
    const auto name = trim(inner.substr(0, bar));
    if (!valid_variable_name(name)) continue;
    placeholder p{open, close + 2, name, std::nullopt};
    if (bar != std::string_view::npos) p.fallback = trim(inner.substr(bar + 1));
    return p;
  }
  return std::nullopt;
}

std::string_view lookup(const variables& vars, std::string_view name) {
  for (const auto& [k, v] : vars)
    if (k == name && !v.empty()) return v;
  return {};
}

void add_once(std::vector<std::string>& names, std::string_view name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
}

}  // namespace

bool valid_variable_name(std::string_view name) {
  return !name.empty() && name.size() <= max_name_chars && std::all_of(name.begin(), name.end(), name_char);
}

rendered_template render(std::string_view text, const variables& values, const variables& defaults) {
  rendered_template out;
  out.text.reserve(text.size());
  std::size_t pos = 0;
  while (const auto p = next_placeholder(text, pos)) {
    out.text.append(text.substr(pos, p->begin - pos));
    pos = p->end;
    auto value = lookup(values, p->name);
    if (value.empty()) value = lookup(defaults, p->name);
    if (value.empty() && p->fallback) value = *p->fallback;
    if (value.empty() && !p->fallback) add_once(out.missing, p->name);
    out.text.append(value);
  }
  out.text.append(text.substr(pos));
  return out;
}

std::vector<std::string> variables_in(std::string_view text) {
  std::vector<std::string> names;
  for (auto p = next_placeholder(text, 0); p; p = next_placeholder(text, p->end)) add_once(names, p->name);
  return names;
}

}  // namespace mb::agents
