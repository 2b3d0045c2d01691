#include "tools/twilio_sim/twiml_reader.hpp"

#include <cstdint>

namespace mb::tools::twilio {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool ends_name(char c) { return is_space(c) || c == '/' || c == '>' || c == '='; }

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes entities and applies XML attribute-value normalisation (literal tab/CR/LF become spaces).
bool decode_attribute(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '<') return false;
    if (c != '&') {
      out += is_space(c) ? ' ' : c;
      continue;
    }
    const auto semi = raw.find(';', i);
    if (semi == std::string_view::npos) return false;
    const auto entity = raw.substr(i + 1, semi - i - 1);
    i = semi;
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x';
      const auto digits = entity.substr(hex ? 2 : 1);
      if (digits.empty() || digits.size() > 8) return false;
      std::uint32_t cp = 0;
      for (char d : digits) {
        std::uint32_t v = 0;
        if (d >= '0' && d <= '9') v = static_cast<std::uint32_t>(d - '0');
        else if (hex && d >= 'a' && d <= 'f') v = static_cast<std::uint32_t>(d - 'a' + 10);
        else if (hex && d >= 'A' && d <= 'F') v = static_cast<std::uint32_t>(d - 'A' + 10);
        else return false;
        cp = cp * (hex ? 16 : 10) + v;
      }
      if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
      append_utf8(out, cp);
    } else {
      return false;
    }
  }
  return true;
}

struct attribute {
  std::string_view name;
  std::string value;
};

class reader {
 public:
  explicit reader(std::string_view xml) : xml_(xml) {}

  twiml_document run() {
    if (xml_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark
    while (doc_.error.empty()) {
      const auto lt = xml_.find('<', pos_);
      if (lt == std::string_view::npos) break;
      pos_ = lt;
      step();
    }
    if (doc_.error.empty()) {
      if (!seen_root_) doc_.error = "no <Response> element";
      else if (!stack_.empty()) doc_.error = "unclosed <" + std::string(stack_.back()) + ">";
    }
    if (!doc_.error.empty()) {
      doc_.verbs.clear();
      doc_.stream.reset();
      doc_.sip_uri.reset();
    }
    return std::move(doc_);
  }

 private:
  void fail(std::string what) {
    if (doc_.error.empty()) doc_.error = std::move(what) + " at offset " + std::to_string(pos_);
  }

  bool skip_past(std::string_view terminator) {
    const auto end = xml_.find(terminator, pos_);
    if (end == std::string_view::npos) {
      fail("unterminated markup");
      return false;
    }
    pos_ = end + terminator.size();
    return true;
  }

  std::string_view read_name() {
    const auto start = pos_;
    while (pos_ < xml_.size() && !ends_name(xml_[pos_])) ++pos_;
    return xml_.substr(start, pos_ - start);
  }

  void skip_spaces() {
    while (pos_ < xml_.size() && is_space(xml_[pos_])) ++pos_;
  }

  void step() {
    markup_start_ = pos_;
    const auto rest = xml_.substr(pos_);
    if (rest.starts_with("<?")) {
      skip_past("?>");
    } else if (rest.starts_with("<!--")) {
      skip_past("-->");
    } else if (rest.starts_with("<![CDATA[")) {
      skip_past("]]>");
    } else if (rest.starts_with("<!")) {
      skip_past(">");
    } else if (rest.starts_with("</")) {
      pos_ += 2;
      const auto name = read_name();
      skip_spaces();
      if (pos_ >= xml_.size() || xml_[pos_] != '>') return fail("malformed end tag");
      ++pos_;
      if (stack_.empty() || stack_.back() != name) return fail("mismatched </" + std::string(name) + ">");
      close_element();
    } else {
      ++pos_;
      start_tag();
    }
  }

  void start_tag() {
    const auto name = read_name();
    if (name.empty()) return fail("malformed start tag");
    attributes_.clear();
    bool self_closing = false;
    for (;;) {
      skip_spaces();
      if (pos_ >= xml_.size()) return fail("unterminated start tag");
      if (xml_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (xml_.substr(pos_, 2) == "/>") {
        pos_ += 2;
        self_closing = true;
        break;
      }
      const auto attr_name = read_name();
      skip_spaces();
      if (attr_name.empty() || pos_ >= xml_.size() || xml_[pos_] != '=') return fail("malformed attribute");
      ++pos_;
      skip_spaces();
      if (pos_ >= xml_.size() || (xml_[pos_] != '"' && xml_[pos_] != '\'')) return fail("unquoted attribute");
      const char quote = xml_[pos_++];
      const auto end = xml_.find(quote, pos_);
      if (end == std::string_view::npos) return fail("unterminated attribute");
      auto& attr = attributes_.emplace_back();
      attr.name = attr_name;
      if (!decode_attribute(xml_.substr(pos_, end - pos_), attr.value)) return fail("bad entity in attribute");
      pos_ = end + 1;
    }
    open_element(name);
    if (self_closing) close_element();
  }

  const std::string* find_attribute(std::string_view name) const {
    for (const auto& a : attributes_)
      if (a.name == name) return &a.value;
    return nullptr;
  }

  void open_element(std::string_view name) {
    if (stack_.empty()) {
      if (seen_root_) return fail("more than one root element");
      if (name != "Response") return fail("root element is <" + std::string(name) + ">, not <Response>");
      seen_root_ = true;
    } else if (stack_.size() == 1) {
      doc_.verbs.emplace_back(name);
    } else if (stack_.size() == 2 && name == "Stream" && stack_[1] == "Connect" && !doc_.stream) {
      const auto* url = find_attribute("url");
      if (!url || url->empty()) return fail("<Stream> without url");
      auto& stream = doc_.stream.emplace();
      stream.url = *url;
      if (const auto* n = find_attribute("name")) stream.name = *n;
      in_stream_ = true;
    } else if (in_stream_ && stack_.size() == 3 && name == "Parameter") {
      const auto* n = find_attribute("name");
      const auto* v = find_attribute("value");
      if (!n) return fail("<Parameter> without name");
      doc_.stream->parameters.push_back({*n, v ? *v : std::string()});
    } else if (stack_.size() == 2 && name == "Sip" && stack_[1] == "Dial" && !doc_.sip_uri) {
      in_sip_ = true;
      sip_text_start_ = pos_;
    } else if (in_sip_) {
      return fail("markup inside <Sip>");
    }
    stack_.push_back(name);
  }

  void close_element() {
    if (stack_.size() == 3 && in_stream_) in_stream_ = false;
    if (stack_.size() == 3 && in_sip_) {
      in_sip_ = false;
      read_sip_uri();
    }
    stack_.pop_back();
  }

  // The text between <Sip> and its end tag (a self-closing <Sip/> has none).
  void read_sip_uri() {
    const bool has_text = xml_[markup_start_ + 1] == '/' && markup_start_ >= sip_text_start_;
    std::string_view raw = has_text ? xml_.substr(sip_text_start_, markup_start_ - sip_text_start_) : std::string_view();
    std::string uri;
    if (raw.find('<') != std::string_view::npos) return fail("markup inside <Sip>");
    if (!decode_attribute(raw, uri)) return fail("bad entity in <Sip>");
    const auto first = uri.find_first_not_of(' ');
    if (first == std::string::npos) return fail("<Sip> without a URI");
    uri = uri.substr(first, uri.find_last_not_of(' ') - first + 1);
    doc_.sip_uri = std::move(uri);
  }

  std::string_view xml_;
  std::size_t pos_ = 0;
  std::vector<std::string_view> stack_;
  std::vector<attribute> attributes_;
  bool seen_root_ = false;
  bool in_stream_ = false;
  bool in_sip_ = false;
  std::size_t sip_text_start_ = 0;  // just after the <Sip> start tag
  std::size_t markup_start_ = 0;    // the '<' of the markup being read
  twiml_document doc_;
};

}  // namespace

twiml_document read_twiml(std::string_view xml) { return reader(xml).run(); }

std::optional<std::string> sim_sip_invite_url(std::string_view sip_uri) {
  std::string_view rest;
  if (sip_uri.starts_with("sip:")) rest = sip_uri.substr(4);
  else if (sip_uri.starts_with("sips:")) rest = sip_uri.substr(5);
  else return std::nullopt;
  rest = rest.substr(0, rest.find_first_of(";?"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  // host:port, the host maybe an [IPv6] literal.
  const auto bracket = rest.rfind(']');
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || (bracket != std::string_view::npos && colon < bracket) || colon == 0)
    return std::nullopt;
  const std::string_view port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return "http://" + std::string(rest) + "/sim/sip/invite";
}

}  // namespace mb::tools::twilio
