#include "twiml/sip_dial.hpp"

#include "twiml/twiml.hpp"

namespace mb::twiml {

void append_percent_encoded(std::string& out, std::string_view text) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    const bool unreserved = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' ||
                            b == '.' || b == '_' || b == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0x0F];
    }
  }
}

sip_dial_uri make_sip_dial_uri(std::string_view base, const std::vector<sip_header_field>& headers,
                               std::size_t max_chars) {
  sip_dial_uri result;
  std::string query;
  for (const auto& header : headers) {
    std::string field;
    if (!query.empty()) field += '&';
    append_percent_encoded(field, header.name);
    field += '=';
    append_percent_encoded(field, header.value);
    if (query.size() + field.size() > max_chars) {
      result.left_out.push_back(header.name);
      continue;
    }
    query += field;
  }
  result.uri = std::string(base);
  if (!query.empty()) result.uri += '?' + query;
  return result;
}

std::string render_dial_sip(std::string_view say, std::string_view uri) {
  return render_transfer({std::string(say), std::string(uri), {}});
}

}  // namespace mb::twiml
