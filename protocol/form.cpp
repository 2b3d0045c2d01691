#include "protocol/form.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <charconv>

namespace mb::protocol {

std::optional<form_fields> parse_form(std::string_view body) {
  // Boost 1.81's parse_query sizes its result with strlen(body.data()) (found by tests/fuzz/form_fuzz):
  // on a view that is not NUL-terminated, such as a request target's query, it reads past the end.
  // A NUL-terminated copy is exact, since the grammar rejects a raw NUL before that point.
  const std::string terminated(body);
  const auto params = boost::urls::parse_query(terminated);
  if (!params) return std::nullopt;
  const boost::urls::encoding_opts form_encoding{/*space_as_plus=*/true};
  form_fields fields;
  fields.reserve(params->size());
  for (const auto param : *params) {
    if (param.key.empty() && !param.has_value) continue;
    fields.emplace_back(param.key.decode(form_encoding), param.value.decode(form_encoding));
  }
  return fields;
}

namespace {

void append_form_encoded(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '*' || c == '-' ||
        c == '.' || c == '_') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xF];
    }
  }
}

}  // namespace

std::string encode_form(const form_fields& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    append_form_encoded(body, name);
    body += '=';
    append_form_encoded(body, value);
  }
  return body;
}

std::string_view form_value(const form_fields& fields, std::string_view name) noexcept {
  const auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& field) { return field.first == name; });
  return it == fields.end() ? std::string_view{} : std::string_view{it->second};
}

std::optional<std::size_t> count_in_range(std::string_view text, std::size_t min, std::size_t max) noexcept {
  std::size_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr != text.data() + text.size() || n < min || n > max) return std::nullopt;
  return n;
}

}  // namespace mb::protocol
