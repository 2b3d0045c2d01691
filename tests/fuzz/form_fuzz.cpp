// Form bodies: parse_form accepts exactly the RFC 3986 query characters with well-formed escapes,
// agrees with a naive decoder written from its contract, and re-encoding what it returns round-trips.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/form.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace proto = mb::protocol;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986: query = *( pchar / "/" / "?" ), pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
bool is_query_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/?").find(c) != std::string_view::npos;
}

// The contract of parse_form, spelled out the slow way.
std::optional<proto::form_fields> reference_parse(std::string_view body) {
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '%') {
      if (i + 2 >= body.size() || hex_value(body[i + 1]) < 0 || hex_value(body[i + 2]) < 0) return std::nullopt;
      i += 2;
    } else if (!is_query_char(body[i])) {
      return std::nullopt;
    }
  }
  const auto decode = [](std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out += ' ';
      } else if (text[i] == '%') {
        out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  };
  proto::form_fields fields;
  std::size_t start = 0;
  while (start <= body.size()) {
    const std::size_t end = std::min(body.find('&', start), body.size());
    const auto field = body.substr(start, end - start);
    if (!field.empty()) {
      const std::size_t eq = field.find('=');
      if (eq == std::string_view::npos)
        fields.emplace_back(decode(field), "");
      else
        fields.emplace_back(decode(field.substr(0, eq)), decode(field.substr(eq + 1)));
    }
    start = end + 1;
  }
  return fields;
}

// Escapes everything but unreserved characters, and spaces as '+', as browsers encode forms.
void append_form_encoded(std::string& out, std::string_view text) {
  constexpr std::string_view hex = "0123456789ABCDEF";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0xF];
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto fields = proto::parse_form(body);
  const auto expected = reference_parse(body);
  MB_FUZZ_CHECK(fields.has_value() == expected.has_value());
  if (!fields) return 0;
  MB_FUZZ_CHECK(*fields == *expected);

  if (!fields->empty()) MB_FUZZ_CHECK(proto::form_value(*fields, fields->front().first) == fields->front().second);

  std::string encoded;
  for (const auto& [name, value] : *fields) {
    if (!encoded.empty()) encoded += '&';
    append_form_encoded(encoded, name);
    encoded += '=';
    append_form_encoded(encoded, value);
  }
  const auto again = proto::parse_form(encoded);
  MB_FUZZ_CHECK(again.has_value() && *again == *fields);
  return 0;
}
