#include "twiml/twiml.hpp"

#include <cstddef>

namespace mb::twiml {
namespace {

constexpr std::string_view xml_declaration = R"(<?xml version="1.0" encoding="UTF-8"?>)";
constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

void append_ascii_escaped(std::string& out, char c) {
  switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    case '\t': out += "&#9;"; break;
    case '\n': out += "&#10;"; break;
    case '\r': out += "&#13;"; break;
    default:
      // XML 1.0 Char excludes the other C0 controls; no escape can express them, so drop them.
      if (static_cast<unsigned char>(c) >= 0x20) out += c;
      break;
  }
}

// Appends <tag>escaped text</tag>; omits the element when nothing printable is left.
void append_text_element(std::string& out, std::string_view tag, std::string_view text) {
  std::string escaped;
  append_xml_escaped(escaped, text);
  if (escaped.empty()) return;
  out += '<';
  out += tag;
  out += '>';
  out += escaped;
  out += "</";
  out += tag;
  out += '>';
}

void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_xml_escaped(out, value);
  out += '"';
}

}  // namespace

void append_xml_escaped(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      append_ascii_escaped(out, text[i]);
      ++i;
      continue;
    }
    // Well-formed UTF-8 per Unicode Table 3-7: the second byte's range depends on the lead byte, which
    // excludes overlong forms, surrogates (ED A0..BF) and code points above U+10FFFF.
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      out += replacement_character;
      ++i;
      continue;
    }
    std::size_t valid = 1;
    while (valid < length && i + valid < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + valid]);
      if (next < low || next > high) break;
      low = 0x80;
      high = 0xBF;
      ++valid;
    }
    if (valid < length) {
      // One U+FFFD for the maximal ill-formed prefix; the offending byte is examined afresh.
      out += replacement_character;
      i += valid;
      continue;
    }
    const std::string_view sequence = text.substr(i, length);
    // U+FFFE and U+FFFF are well-formed UTF-8 but not XML 1.0 characters.
    if (sequence != "\xEF\xBF\xBE" && sequence != "\xEF\xBF\xBF") out += sequence;
    i += length;
  }
}

std::string render_connect(const connect_stream& stream) {
  std::string out{xml_declaration};
  out += "<Response>";
  append_text_element(out, "Say", stream.say);
  out += "<Connect><Stream";
  append_attribute(out, "url", stream.stream_url);
  out += '>';
  for (const auto& parameter : stream.parameters) {
    out += "<Parameter";
    append_attribute(out, "name", parameter.name);
    append_attribute(out, "value", parameter.value);
    out += "/>";
  }
  out += "</Stream></Connect></Response>";
  return out;
}

std::string render_fallback(const fallback& call) {
  std::string out{xml_declaration};
  out += "<Response>";
  append_text_element(out, "Say", call.say);
  const std::size_t before_dial = out.size();
  append_text_element(out, "Dial", call.dial_number);
  if (out.size() == before_dial) out += "<Hangup/>";
  out += "</Response>";
  return out;
}

std::string render_transfer(const transfer& call) {
  std::string out{xml_declaration};
  out += "<Response>";
  append_text_element(out, "Say", call.say);
  out += "<Dial";
  if (!call.caller_id.empty()) append_attribute(out, "callerId", call.caller_id);
  out += '>';
  if (call.target.starts_with("sip:")) {
    append_text_element(out, "Sip", call.target);
  } else {
    append_xml_escaped(out, call.target);
  }
  out += "</Dial></Response>";
  return out;
}

}  // namespace mb::twiml
