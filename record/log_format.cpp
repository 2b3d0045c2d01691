#include "record/log_format.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "log/escape.hpp"
#include "protocol/simdjson_parse.hpp"
#include "protocol/stream_token.hpp"

namespace mb::record {
namespace {

constexpr std::string_view header_type = "mediabridge.recording";
constexpr std::string_view redacted = "\"[redacted]\"";

constexpr std::array<std::string_view, 8> direction_names = {
    "twilio_in", "twilio_out", "upstream_in", "upstream_out", "upstream_open", "upstream_closed", "event", "gap",
};

bool is_json_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The length of the valid UTF-8 sequence at text[i], or 0 when the bytes there are not one (overlong
// forms, surrogates and code points above U+10FFFF included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) min_second = 0xa0;
    if (lead == 0xed) max_second = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) min_second = 0x90;
    if (lead == 0xf4) max_second = 0x8f;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return length;
}

// `text` as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD, so the line stays valid
// JSON whatever the peer sent.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out += "\xef\xbf\xbd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

template <typename Number>
void append_number(std::string& out, Number n) {
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), n);
  out.append(buffer.data(), result.ptr);
}

// Milliseconds to the microsecond.
void append_t(std::string& out, double t_ms) {
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), std::isfinite(t_ms) ? t_ms : 0.0,
                                    std::chars_format::fixed, 3);
  out.append(buffer.data(), result.ptr);
}

// A scanner over text already known to be valid minified JSON, for the spans the DOM does not give:
// a value's text exactly as written. Every step stays inside the text and returns npos on anything
// unexpected.
constexpr std::size_t npos = std::string_view::npos;

std::size_t skip_string(std::string_view json, std::size_t pos) noexcept {
  if (pos >= json.size() || json[pos] != '"') return npos;
  for (std::size_t i = pos + 1; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return i + 1;
    }
  }
  return npos;
}

std::size_t skip_value(std::string_view json, std::size_t pos) noexcept {
  if (pos >= json.size()) return npos;
  if (json[pos] == '"') return skip_string(json, pos);
  if (json[pos] == '{' || json[pos] == '[') {
    std::size_t depth = 0;
    for (std::size_t i = pos; i < json.size(); ++i) {
      const char c = json[i];
      if (c == '"') {
        i = skip_string(json, i);
        if (i == npos) return npos;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return npos;
  }
  std::size_t i = pos;
  while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']' && !is_json_space(json[i])) ++i;
  return i == pos ? npos : i;
}

struct value_span {
  std::size_t begin = npos;
  std::size_t end = npos;
};

// Calls on_member(key as written, without its quotes, and the value's span) for each member of the
// object that starts at `pos`; false when the text there is not an object.
template <typename OnMember>
bool for_each_member(std::string_view json, std::size_t pos, OnMember&& on_member) {
  if (pos >= json.size() || json[pos] != '{') return false;
  std::size_t i = pos + 1;
  if (i < json.size() && json[i] == '}') return true;
  while (i < json.size()) {
    const std::size_t key_end = skip_string(json, i);
    if (key_end == npos || key_end >= json.size() || json[key_end] != ':') return false;
    const std::string_view key = json.substr(i + 1, key_end - i - 2);
    const std::size_t value_end = skip_value(json, key_end + 1);
    if (value_end == npos || value_end >= json.size()) return false;
    on_member(key, value_span{key_end + 1, value_end});
    if (json[value_end] == '}') return true;
    if (json[value_end] != ',') return false;
    i = value_end + 1;
  }
  return false;
}

value_span find_member(std::string_view json, std::size_t object_pos, std::string_view wanted) {
  value_span found;
  for_each_member(json, object_pos, [&](std::string_view key, value_span value) {
    if (key == wanted && found.begin == npos) found = value;
  });
  return found;
}

bool span_is(std::string_view json, value_span span, std::string_view text) {
  return span.begin != npos && json.substr(span.begin, span.end - span.begin) == text;
}

// Each thread that formats or reads logs keeps one parser: a fresh one allocates its buffers again.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string bounded(std::string_view text) { return log::escape_for_log(text, log::name_bytes); }

}  // namespace

std::string_view to_string(direction d) noexcept {
  const auto index = static_cast<std::size_t>(d);
  return index < direction_names.size() ? direction_names[index] : "unknown";
}

std::optional<direction> direction_from(std::string_view name) noexcept {
  for (std::size_t i = 0; i < direction_names.size(); ++i) {
    if (direction_names[i] == name) return static_cast<direction>(i);
  }
  return std::nullopt;
}

void append_header(std::string& out, const log_header& header) {
  out += "{\"type\":";
  append_json_string(out, header_type);
  out += ",\"version\":";
  append_number(out, log_version);
  out += ",\"call_sid\":";
  append_json_string(out, header.call_sid);
  out += ",\"stream_sid\":";
  append_json_string(out, header.stream_sid);
  out += ",\"agent\":";
  append_json_string(out, header.agent);
  out += ",\"provider\":";
  append_json_string(out, header.provider);
  out += ",\"started_at\":";
  append_number(out, header.started_at);
  out += ",\"dtmf_masked\":";
  out += header.dtmf_masked ? "true" : "false";
  out += "}\n";
}

void append_entry(std::string& out, const log_entry& entry) {
  out += "{\"t\":";
  append_t(out, entry.t_ms);
  out += ",\"dir\":\"";
  out += to_string(entry.dir);
  out += '"';
  switch (entry.dir) {
    case direction::upstream_open:
    case direction::upstream_closed:
      out += ",\"connection\":";
      append_number(out, entry.number);
      break;
    case direction::gap:
      out += ",\"dropped_bytes\":";
      append_number(out, entry.number);
      break;
    default:
      break;
  }
  if (entry.dir == direction::upstream_closed) {
    out += ",\"detail\":";
    append_json_string(out, entry.detail);
  }
  switch (entry.kind) {
    case payload_kind::json:
      out += ",\"msg\":";
      out += entry.payload;
      break;
    case payload_kind::raw:
      out += ",\"raw\":";
      append_json_string(out, entry.payload);
      break;
    case payload_kind::masked:
      out += ",\"masked\":";
      append_json_string(out, entry.payload);
      break;
    case payload_kind::none:
      break;
  }
  out += "}\n";
}

bool minify_json(std::string_view message, std::string& out) {
  simdjson::dom::element ignored;
  // A JSON string cannot hold a raw control character, so outside strings is the only place whitespace
  // can be; validating first makes the scan below exact.
  if (protocol::parse_padded(thread_parser(), message, message.size()).get(ignored)) return false;
  out.reserve(out.size() + message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    if (c == '"') {
      const std::size_t end = skip_string(message, i);
      out.append(message.substr(i, end - i));
      i = end - 1;
    } else if (!is_json_space(c)) {
      out += c;
    }
  }
  return true;
}

std::string redact_twilio_start(std::string_view minified_start) {
  std::string result(minified_start);
  if (!span_is(minified_start, find_member(minified_start, 0, "event"), "\"start\"")) return result;
  const value_span start = find_member(minified_start, 0, "start");
  if (start.begin == npos) return result;
  const value_span parameters = find_member(minified_start, start.begin, "customParameters");
  if (parameters.begin == npos) return result;
  // Replaced from the last so that earlier spans keep their offsets (a key may repeat).
  std::vector<value_span> tokens;
  for_each_member(minified_start, parameters.begin, [&](std::string_view key, value_span value) {
    if (key == protocol::stream_token_parameter) tokens.push_back(value);
  });
  for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) result.replace(it->begin, it->end - it->begin, redacted);
  return result;
}

std::optional<log_header> parse_header(std::string_view line, std::string& error) {
  simdjson::dom::object root;
  if (const auto failure = protocol::parse_object(thread_parser(), line, line.size(), root)) {
    error = failure->what;
    return std::nullopt;
  }
  std::string_view type;
  if (root["type"].get_string().get(type) || type != header_type) {
    error = "not a recording's header (type is not \"mediabridge.recording\")";
    return std::nullopt;
  }
  std::int64_t version = 0;
  if (root["version"].get_int64().get(version) || version != log_version) {
    error = "unsupported recording version (this build reads version " + std::to_string(log_version) + ")";
    return std::nullopt;
  }
  log_header header;
  std::string_view call_sid;
  if (root["call_sid"].get_string().get(call_sid)) {
    error = "the header has no call_sid";
    return std::nullopt;
  }
  header.call_sid = call_sid;
  if (root["started_at"].get_int64().get(header.started_at)) {
    error = "the header has no started_at (unix ms)";
    return std::nullopt;
  }
  std::string_view text;
  protocol::optional_string(root, "stream_sid", text);
  header.stream_sid = std::exchange(text, {});
  protocol::optional_string(root, "agent", text);
  header.agent = std::exchange(text, {});
  protocol::optional_string(root, "provider", text);
  header.provider = text;
  bool masked = false;
  if (!root["dtmf_masked"].get_bool().get(masked)) header.dtmf_masked = masked;
  return header;
}

std::optional<log_entry> parse_entry(std::string_view line, std::string& error) {
  simdjson::dom::object root;
  if (const auto failure = protocol::parse_object(thread_parser(), line, line.size(), root)) {
    error = failure->what;
    return std::nullopt;
  }
  log_entry entry;
  if (root["t"].get_double().get(entry.t_ms) || !std::isfinite(entry.t_ms)) {
    error = "the entry has no t (ms)";
    return std::nullopt;
  }
  std::string_view dir_name;
  if (root["dir"].get_string().get(dir_name)) {
    error = "the entry has no dir";
    return std::nullopt;
  }
  const auto dir = direction_from(dir_name);
  if (!dir) {
    error = "unknown dir \"" + bounded(dir_name) + "\"";
    return std::nullopt;
  }
  entry.dir = *dir;
  switch (entry.dir) {
    case direction::upstream_open:
    case direction::upstream_closed:
      if (root["connection"].get_uint64().get(entry.number)) {
        error = "the " + std::string(to_string(entry.dir)) + " entry has no connection";
        return std::nullopt;
      }
      break;
    case direction::gap:
      if (root["dropped_bytes"].get_uint64().get(entry.number)) {
        error = "the gap entry has no dropped_bytes";
        return std::nullopt;
      }
      break;
    default:
      break;
  }
  std::string_view text;
  if (entry.dir == direction::upstream_closed) {
    protocol::optional_string(root, "detail", text);
    entry.detail = std::exchange(text, {});
  }
  simdjson::dom::element message;
  if (!root["msg"].get(message)) {
    entry.kind = payload_kind::json;
    // The message's text as written, not simdjson's re-serialisation (which would reformat numbers):
    // a replay sends exactly what was recorded.
    std::string minified;
    if (!minify_json(line, minified)) {
      error = "malformed JSON";
      return std::nullopt;
    }
    const value_span span = find_member(minified, 0, "msg");
    if (span.begin == npos) {
      error = "malformed JSON";
      return std::nullopt;
    }
    entry.payload = minified.substr(span.begin, span.end - span.begin);
  } else if (!root["raw"].get_string().get(text)) {
    entry.kind = payload_kind::raw;
    entry.payload = text;
  } else if (!root["masked"].get_string().get(text)) {
    entry.kind = payload_kind::masked;
    entry.payload = text;
  }
  return entry;
}

}  // namespace mb::record
