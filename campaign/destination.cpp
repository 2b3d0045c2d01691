#include "campaign/destination.hpp"

#include <algorithm>

#include "agents/prompt_template.hpp"

namespace mb::campaign {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool sip_char(char c) {
  return c > ' ' && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\' && c != '`';
}

}  // namespace

std::optional<std::string> destination_problem(std::string_view number) {
  if (number.starts_with("sip:")) {
    const auto rest = number.substr(4);
    if (number.size() > max_sip_uri_bytes) return "a sip: URI may have at most " + std::to_string(max_sip_uri_bytes) + " bytes";
    const auto at = rest.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 == rest.size() || !std::all_of(rest.begin(), rest.end(), sip_char))
      return std::string("a sip: URI must be sip:user@host, printable, without spaces, quotes or angle brackets");
    return std::nullopt;
  }
  const auto digits = number.substr(std::min<std::size_t>(1, number.size()));
  if (!number.starts_with('+') || digits.size() < 8 || digits.size() > 15 || digits.front() == '0' ||
      !std::all_of(digits.begin(), digits.end(), is_digit))
    return std::string("the number must be E.164 (+ and 8 to 15 digits, e.g. +15551230000) or a sip: URI");
  return std::nullopt;
}

std::optional<std::string> variable_problem(std::string_view name, std::string_view value) {
  if (!agents::valid_variable_name(name))
    return std::string("variable names are template names: 1 to 64 of A-Z a-z 0-9 _ . -");
  if (value.size() > max_variable_value_bytes)
    return "variable '" + std::string(name) + "' is longer than " + std::to_string(max_variable_value_bytes) + " bytes";
  if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    return "variable '" + std::string(name) + "' has a control character";
  return std::nullopt;
}

std::optional<std::string> variables_problem(const call_variables& variables) {
  if (variables.size() > max_variables) return "at most " + std::to_string(max_variables) + " variables";
  for (auto it = variables.begin(); it != variables.end(); ++it) {
    if (auto problem = variable_problem(it->first, it->second)) return problem;
    if (std::any_of(variables.begin(), it, [&](const auto& earlier) { return earlier.first == it->first; }))
      return "variable '" + it->first + "' is given twice";
  }
  return std::nullopt;
}

}  // namespace mb::campaign

namespace mb::campaign {
namespace {

void append_encoded(std::string& out, std::string_view text) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (const unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    }
  }
}

}  // namespace

std::string voice_webhook_query(std::string_view agent, const call_variables& variables) {
  std::string query;
  if (!agent.empty()) {
    query = "agent=";
    append_encoded(query, agent);
  }
  for (const auto& [name, value] : variables) {
    if (!query.empty()) query.push_back('&');
    query.append(variable_query_prefix);
    append_encoded(query, name);
    query.push_back('=');
    append_encoded(query, value);
  }
  return query;
}

}  // namespace mb::campaign
