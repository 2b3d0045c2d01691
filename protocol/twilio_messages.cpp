#include "protocol/twilio_messages.hpp"

#include <charconv>

#include "protocol/simdjson_parse.hpp"

namespace mb::protocol {
namespace {

using simdjson::dom::object;

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
bool lenient_int(simdjson::simdjson_result<simdjson::dom::element> value, std::int64_t& out) {
  simdjson::dom::element v;
  if (value.get(v)) return false;
  if (v.is_number()) return !v.get_int64().get(out);
  std::string_view s;
  if (v.get_string().get(s)) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::optional<parse_error> parse_start(object& root, twilio_start& start) {
  object obj;
  if (!child_object(root, "start", obj)) return parse_error{"start object is missing"};
  std::string_view s;
  if (auto e = required_string(obj, "streamSid", "start.streamSid", s)) return e;
  start.stream_sid = s;
  if (auto e = required_string(obj, "callSid", "start.callSid", s)) return e;
  start.call_sid = s;
  if (!obj["accountSid"].get_string().get(s)) start.account_sid = s;
  object params;
  if (child_object(obj, "customParameters", params)) {
    for (const auto [key, value] : params) {
      std::string_view text;
      if (value.get_string().get(text)) return parse_error{"start.customParameters values must be strings"};
      start.custom_parameters.emplace_back(key, text);
    }
  }
  object format;
  if (!child_object(obj, "mediaFormat", format)) return parse_error{"start.mediaFormat is missing"};
  if (format["encoding"].get_string().get(s)) return parse_error{"start.mediaFormat.encoding is missing"};
  start.encoding = s;
  if (!lenient_int(format["sampleRate"], start.sample_rate))
    return parse_error{"start.mediaFormat.sampleRate is invalid"};
  if (!lenient_int(format["channels"], start.channels))
    return parse_error{"start.mediaFormat.channels is invalid"};
  return std::nullopt;
}

std::optional<parse_error> parse_fields(object& root, twilio_message& out) {
  if (auto e = required_string(root, "event", "event", out.event_name)) return e;
  out.event = event_from_name(out.event_name);
  std::string_view sid;
  if (!root["streamSid"].get_string().get(sid)) out.stream_sid = sid;

  switch (out.event) {
    case twilio_event::media: {
      object media;
      if (!child_object(root, "media", media)) return parse_error{"media object is missing"};
      if (auto e = required_string(media, "payload", "media.payload", out.media.payload)) return e;
      std::string_view track;
      if (!media["track"].get_string().get(track)) out.media.track = track;
      std::int64_t n = 0;
      if (lenient_int(media["chunk"], n) && n >= 0) out.media.chunk = static_cast<std::uint64_t>(n);
      if (lenient_int(media["timestamp"], n)) out.media.timestamp_ms = n;
      return std::nullopt;
    }
    case twilio_event::mark: {
      object mark;
      if (!child_object(root, "mark", mark)) return parse_error{"mark object is missing"};
      return required_string(mark, "name", "mark.name", out.mark_name);
    }
    case twilio_event::dtmf: {
      object dtmf;
      if (!child_object(root, "dtmf", dtmf)) return parse_error{"dtmf object is missing"};
      return required_string(dtmf, "digit", "dtmf.digit", out.dtmf_digit);
    }
    case twilio_event::start: {
      twilio_start start;
      if (auto e = parse_start(root, start)) return e;
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
  object root;
  if (auto error = parse_object(thread_parser<twilio_parser>(), json, capacity, root)) return error;
  return parse_fields(root, out);
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
