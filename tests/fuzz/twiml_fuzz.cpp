// TwiML rendering: for any bytes in any field the document is well-formed XML 1.0 in UTF-8, has
// exactly the elements the renderer promises, renders the same twice, and escaping round-trips
// text that needs no sanitising.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/fuzz/fuzz_support.hpp"
#include "twiml/twiml.hpp"

namespace {

namespace twiml = mb::twiml;

constexpr std::string_view xml_declaration = R"(<?xml version="1.0" encoding="UTF-8"?>)";

// Length of the well-formed UTF-8 sequence at text[i] (decoded into cp), or 0. Written from the
// bit patterns, independently of the renderer's table-driven check.
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t& cp) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t length = 0;
  char32_t min = 0;  // smaller code points in this length are overlong
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (next & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

// XML 1.0 Char production.
bool is_xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Text the renderer must pass through unchanged (up to escaping).
bool needs_no_sanitising(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const auto length = utf8_sequence(text, i, cp);
    if (length == 0 || !is_xml_char(cp)) return false;
    i += length;
  }
  return true;
}

// Checks escaped text: valid UTF-8 of XML characters, no raw markup or whitespace controls, and every
// '&' starts one of the references the renderer emits. Returns the text with references resolved.
std::string unescape(std::string_view escaped) {
  constexpr std::pair<std::string_view, char> references[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''},
      {"&#9;", '\t'}, {"&#10;", '\n'}, {"&#13;", '\r'},
  };
  std::string out;
  for (std::size_t i = 0; i < escaped.size();) {
    char32_t cp = 0;
    const auto length = utf8_sequence(escaped, i, cp);
    MB_FUZZ_CHECK(length > 0 && is_xml_char(cp) && cp >= 0x20);
    const char c = escaped[i];
    MB_FUZZ_CHECK(c != '<' && c != '>' && c != '"' && c != '\'');
    if (c != '&') {
      out += escaped.substr(i, length);
      i += length;
      continue;
    }
    bool known = false;
    for (const auto& [reference, replacement] : references) {
      if (escaped.substr(i, reference.size()) == reference) {
        out += replacement;
        i += reference.size();
        known = true;
        break;
      }
    }
    MB_FUZZ_CHECK(known);
  }
  return out;
}

void check_escaping(std::string_view text) {
  std::string escaped;
  twiml::append_xml_escaped(escaped, text);
  const auto plain = unescape(escaped);
  MB_FUZZ_CHECK(needs_no_sanitising(plain));
  if (needs_no_sanitising(text)) MB_FUZZ_CHECK(plain == text);
  // Sanitising is idempotent: what survived it is escaped back to the same bytes.
  std::string again;
  twiml::append_xml_escaped(again, plain);
  MB_FUZZ_CHECK(again == escaped);
}

// A start tag (with attributes as written, still escaped), an end tag ("/Name") or a text node ("#").
struct xml_token {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string text;

  bool operator==(const xml_token&) const = default;
};

// Tokenises the subset of XML the renderer writes (no whitespace between elements, attributes in
// double quotes) and checks it is well-formed: names match, one root, every value/text escaped.
std::vector<xml_token> tokenize(std::string_view doc) {
  MB_FUZZ_CHECK(doc.substr(0, xml_declaration.size()) == xml_declaration);
  doc.remove_prefix(xml_declaration.size());
  const auto read_name = [&](std::size_t& i) {
    const std::size_t start = i;
    while (i < doc.size() && ((doc[i] >= 'A' && doc[i] <= 'Z') || (doc[i] >= 'a' && doc[i] <= 'z'))) ++i;
    MB_FUZZ_CHECK(i > start);
    return std::string(doc.substr(start, i - start));
  };
  std::vector<xml_token> tokens;
  std::vector<std::string> open;
  std::size_t roots = 0;
  for (std::size_t i = 0; i < doc.size();) {
    if (doc[i] != '<') {
      MB_FUZZ_CHECK(!open.empty());
      const std::size_t end = std::min(doc.find('<', i), doc.size());
      unescape(doc.substr(i, end - i));
      tokens.push_back({"#", {}, std::string(doc.substr(i, end - i))});
      i = end;
      continue;
    }
    ++i;
    if (i < doc.size() && doc[i] == '/') {
      ++i;
      const auto name = read_name(i);
      MB_FUZZ_CHECK(i < doc.size() && doc[i] == '>' && !open.empty() && open.back() == name);
      open.pop_back();
      tokens.push_back({"/" + name, {}, {}});
      ++i;
      continue;
    }
    if (open.empty()) ++roots;
    xml_token token{read_name(i), {}, {}};
    while (i < doc.size() && doc[i] == ' ') {
      ++i;
      auto attribute = read_name(i);
      MB_FUZZ_CHECK(doc.substr(i, 2) == "=\"");
      i += 2;
      const std::size_t end = doc.find('"', i);
      MB_FUZZ_CHECK(end != std::string_view::npos);
      unescape(doc.substr(i, end - i));
      token.attributes.emplace_back(std::move(attribute), std::string(doc.substr(i, end - i)));
      i = end + 1;
    }
    const auto name = token.name;
    tokens.push_back(std::move(token));
    if (doc.substr(i, 2) == "/>") {
      tokens.push_back({"/" + name, {}, {}});
      i += 2;
    } else {
      MB_FUZZ_CHECK(i < doc.size() && doc[i] == '>');
      open.push_back(name);
      ++i;
    }
  }
  MB_FUZZ_CHECK(open.empty() && roots == 1);
  return tokens;
}

std::string escaped(std::string_view text) {
  std::string out;
  twiml::append_xml_escaped(out, text);
  return out;
}

// The tokens the renderer promises for a <Say>/<Dial>-style text element: none when nothing printable is left.
void expect_text_element(std::vector<xml_token>& expected, const std::string& tag, std::string_view text) {
  const auto body = escaped(text);
  if (body.empty()) return;
  expected.push_back({tag, {}, {}});
  expected.push_back({"#", {}, body});
  expected.push_back({"/" + tag, {}, {}});
}

void check_connect(const twiml::connect_stream& stream) {
  const auto doc = twiml::render_connect(stream);
  MB_FUZZ_CHECK(twiml::render_connect(stream) == doc);
  std::vector<xml_token> expected{{"Response", {}, {}}};
  expect_text_element(expected, "Say", stream.say);
  expected.push_back({"Connect", {}, {}});
  expected.push_back({"Stream", {{"url", escaped(stream.stream_url)}}, {}});
  for (const auto& p : stream.parameters) {
    expected.push_back({"Parameter", {{"name", escaped(p.name)}, {"value", escaped(p.value)}}, {}});
    expected.push_back({"/Parameter", {}, {}});
  }
  for (const char* end : {"/Stream", "/Connect", "/Response"}) expected.push_back({end, {}, {}});
  MB_FUZZ_CHECK(tokenize(doc) == expected);
}

void check_fallback(const twiml::fallback& call) {
  const auto doc = twiml::render_fallback(call);
  MB_FUZZ_CHECK(twiml::render_fallback(call) == doc);
  std::vector<xml_token> expected{{"Response", {}, {}}};
  expect_text_element(expected, "Say", call.say);
  const auto before_dial = expected.size();
  expect_text_element(expected, "Dial", call.dial_number);
  if (expected.size() == before_dial) {
    expected.push_back({"Hangup", {}, {}});
    expected.push_back({"/Hangup", {}, {}});
  }
  expected.push_back({"/Response", {}, {}});
  MB_FUZZ_CHECK(tokenize(doc) == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_escaping(std::string_view(reinterpret_cast<const char*>(data), size));

  FuzzedDataProvider in(data, size);
  twiml::connect_stream stream;
  stream.say = in.ConsumeRandomLengthString(128);
  stream.stream_url = in.ConsumeRandomLengthString(128);
  stream.parameters.resize(in.ConsumeIntegralInRange<std::size_t>(0, 4));
  for (auto& p : stream.parameters) {
    p.name = in.ConsumeRandomLengthString(64);
    p.value = in.ConsumeRandomLengthString(64);
  }
  twiml::fallback call;
  call.say = in.ConsumeRandomLengthString(128);
  call.dial_number = in.ConsumeRemainingBytesAsString();
  check_connect(stream);
  check_fallback(call);
  return 0;
}
