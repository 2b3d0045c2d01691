#include "protocol/twilio_messages.hpp"

#include <charconv>

#include "protocol/ondemand_json.hpp"

namespace mb::protocol {
namespace {

using simdjson::ondemand::document;
using simdjson::ondemand::json_type;
using simdjson::ondemand::object;

struct event_name_entry {
  std::string_view name;
  twilio_event event;
};
constexpr event_name_entry event_names[] = {
    {"media", twilio_event::media}, {"mark", twilio_event::mark},       {"start", twilio_event::start},
    {"connected", twilio_event::connected}, {"dtmf", twilio_event::dtmf}, {"stop", twilio_event::stop},
};

twilio_event event_from_name(std::string_view name) {
  for (const auto& e : event_names)
    if (e.name == name) return e.event;
  return twilio_event::unknown;
}

// Twilio sends sequenceNumber, chunk and timestamp as JSON strings; accept numbers too.
template <class Value>
bool lenient_int(Value&& v, std::int64_t& out) {
  json_type t;
  if (v.type().get(t)) return false;
  if (t == json_type::number) return !v.get_int64().get(out);
  if (t != json_type::string) return false;
  std::string_view s;
  if (v.get_string().get(s)) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::optional<parse_error> required_string(document& doc, object& obj, const char* key, const char* path,
                                           std::string_view& out) {
  auto value = field(doc, obj, key);
  if (value.error() == simdjson::NO_SUCH_FIELD) return parse_error{std::string(path) + " is missing"};
  const auto error = value.get_string().get(out);
  if (error == simdjson::INCORRECT_TYPE) return parse_error{std::string(path) + " is not a string"};
  if (error) return parse_error{"malformed JSON"};
  return std::nullopt;
}

// False when absent or not an object.
bool child_object(document& doc, object& obj, const char* key, object& out) {
  return !field(doc, obj, key).get_object().get(out);
}

std::optional<parse_error> parse_start(document& doc, object& root, twilio_start& start) {
  object obj;
  if (!child_object(doc, root, "start", obj)) return parse_error{"start object is missing"};
  std::string_view s;
  if (auto e = required_string(doc, obj, "streamSid", "start.streamSid", s)) return e;
  start.stream_sid = s;
  if (auto e = required_string(doc, obj, "callSid", "start.callSid", s)) return e;
  start.call_sid = s;
  if (!field(doc, obj, "accountSid").get_string().get(s)) start.account_sid = s;
  object params;
  if (child_object(doc, obj, "customParameters", params)) {
    for (auto param : params) {
      std::string_view key, value;
      if (param.unescaped_key().get(key) || param.value().get_string().get(value))
        return parse_error{"start.customParameters values must be strings"};
      start.custom_parameters.emplace_back(key, value);
    }
  }
  object format;
  if (!child_object(doc, obj, "mediaFormat", format)) return parse_error{"start.mediaFormat is missing"};
  if (field(doc, format, "encoding").get_string().get(s)) return parse_error{"start.mediaFormat.encoding is missing"};
  start.encoding = s;
  if (!lenient_int(field(doc, format, "sampleRate"), start.sample_rate))
    return parse_error{"start.mediaFormat.sampleRate is invalid"};
  if (!lenient_int(field(doc, format, "channels"), start.channels))
    return parse_error{"start.mediaFormat.channels is invalid"};
  return std::nullopt;
}

std::optional<parse_error> parse_fields(document& doc, object& root, twilio_message& out) {
  if (auto e = required_string(doc, root, "event", "event", out.event_name)) return e;
  out.event = event_from_name(out.event_name);
  std::string_view sid;
  if (!field(doc, root, "streamSid").get_string().get(sid)) out.stream_sid = sid;

  switch (out.event) {
    case twilio_event::media: {
      object media;
      if (!child_object(doc, root, "media", media)) return parse_error{"media object is missing"};
      if (auto e = required_string(doc, media, "payload", "media.payload", out.media.payload)) return e;
      std::string_view track;
      if (!field(doc, media, "track").get_string().get(track)) out.media.track = track;
      std::int64_t n = 0;
      if (lenient_int(field(doc, media, "chunk"), n) && n >= 0) out.media.chunk = static_cast<std::uint64_t>(n);
      if (lenient_int(field(doc, media, "timestamp"), n)) out.media.timestamp_ms = n;
      return std::nullopt;
    }
    case twilio_event::mark: {
      object mark;
      if (!child_object(doc, root, "mark", mark)) return parse_error{"mark object is missing"};
      return required_string(doc, mark, "name", "mark.name", out.mark_name);
    }
    case twilio_event::dtmf: {
      object dtmf;
      if (!child_object(doc, root, "dtmf", dtmf)) return parse_error{"dtmf object is missing"};
      return required_string(doc, dtmf, "digit", "dtmf.digit", out.dtmf_digit);
    }
    case twilio_event::start: {
      twilio_start start;
      if (auto e = parse_start(doc, root, start)) return e;
      out.start = std::move(start);
      return std::nullopt;
    }
    case twilio_event::connected:
    case twilio_event::stop:
    case twilio_event::unknown:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<parse_error> twilio_parser::parse(std::string_view json, std::size_t capacity, twilio_message& out) {
  out = twilio_message{};
  reserve_capacity(parser_, json.size());
  document doc;
  if (parser_.iterate(json.data(), json.size(), capacity).get(doc)) return parse_error{"malformed JSON"};
  object root;
  if (doc.get_object().get(root)) return parse_error{"malformed JSON (not an object)"};
  auto result = parse_fields(doc, root, out);
  if (!doc.is_alive()) return parse_error{"malformed JSON"};
  return result;
}

bool is_safe_sid(std::string_view sid) {
  if (sid.empty() || sid.size() > 64) return false;
  for (char c : sid) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void build_twilio_media(std::string& out, std::string_view stream_sid, std::string_view payload_b64) {
  out.append(R"({"event":"media","streamSid":")").append(stream_sid).append(R"(","media":{"payload":")");
  out.append(payload_b64).append(R"("}})");
}

void build_twilio_mark(std::string& out, std::string_view stream_sid, std::string_view mark_name) {
  out.append(R"({"event":"mark","streamSid":")").append(stream_sid).append(R"(","mark":{"name":")");
  out.append(mark_name).append(R"("}})");
}

void build_twilio_clear(std::string& out, std::string_view stream_sid) {
  out.append(R"({"event":"clear","streamSid":")").append(stream_sid).append(R"("})");
}

}  // namespace mb::protocol
