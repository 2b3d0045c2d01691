#include "tools/twilio_sim/twilio_wire.hpp"

#include <charconv>

#include <simdjson.h>

#include "protocol/simdjson_parse.hpp"

namespace mb::tools::twilio {
namespace {

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// "sequenceNumber":"N"
void append_quoted_number(std::string& out, std::string_view key, std::uint64_t v) {
  out += '"';
  out += key;
  out += "\":\"";
  append_number(out, v);
  out += '"';
}

void append_header(std::string& out, std::string_view event, std::uint64_t sequence, std::string_view stream_sid) {
  out += "{\"event\":\"";
  out += event;
  out += "\",";
  append_quoted_number(out, "sequenceNumber", sequence);
  out += ",\"streamSid\":";
  append_json_string(out, stream_sid);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 0xF];
    } else {
      out += c;
    }
  }
  out += '"';
}

void build_connected(std::string& out) { out += R"({"event":"connected","protocol":"Call","version":"1.0.0"})"; }

void build_start(std::string& out, std::uint64_t sequence, const stream_identity& id,
                 const std::vector<stream_parameter>& custom_parameters) {
  append_header(out, "start", sequence, id.stream_sid);
  out += ",\"start\":{\"streamSid\":";
  append_json_string(out, id.stream_sid);
  out += ",\"accountSid\":";
  append_json_string(out, id.account_sid);
  out += ",\"callSid\":";
  append_json_string(out, id.call_sid);
  out += R"(,"tracks":["inbound"],"customParameters":{)";
  bool first = true;
  for (const auto& p : custom_parameters) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, p.name);
    out += ':';
    append_json_string(out, p.value);
  }
  out += R"(},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})";
}

void build_media(std::string& out, std::uint64_t sequence, std::string_view stream_sid, std::uint64_t chunk,
                 std::uint64_t timestamp_ms, std::string_view payload_b64) {
  append_header(out, "media", sequence, stream_sid);
  out += R"(,"media":{"track":"inbound",)";
  append_quoted_number(out, "chunk", chunk);
  out += ',';
  append_quoted_number(out, "timestamp", timestamp_ms);
  out += ",\"payload\":\"";
  out += payload_b64;
  out += "\"}}";
}

void build_mark_echo(std::string& out, std::uint64_t sequence, std::string_view stream_sid, std::string_view name) {
  append_header(out, "mark", sequence, stream_sid);
  out += ",\"mark\":{\"name\":";
  append_json_string(out, name);
  out += "}}";
}

void build_dtmf(std::string& out, std::uint64_t sequence, std::string_view stream_sid, char digit) {
  append_header(out, "dtmf", sequence, stream_sid);
  out += R"(,"dtmf":{"track":"inbound_track","digit":)";
  append_json_string(out, std::string_view(&digit, 1));
  out += "}}";
}

void build_stop(std::string& out, std::uint64_t sequence, const stream_identity& id) {
  append_header(out, "stop", sequence, id.stream_sid);
  out += ",\"stop\":{\"accountSid\":";
  append_json_string(out, id.account_sid);
  out += ",\"callSid\":";
  append_json_string(out, id.call_sid);
  out += "}}";
}

void parse_bridge_message(std::string_view json, std::size_t capacity, bridge_message& out) {
  // DOM, not on-demand: it rejects any malformed message whole (protocol/simdjson_parse.hpp).
  thread_local simdjson::dom::parser parser;
  out = bridge_message{};
  const auto invalid = [&out](std::string_view why) {
    out = bridge_message{};
    out.error = why;
  };

  simdjson::dom::object root;
  if (protocol::parse_object(parser, json, capacity, root)) return invalid("not a JSON object");
  std::string_view event;
  bool has_sid = false;
  for (const auto [key, value] : root) {
    if (key == "event") {
      if (value.get_string().get(event)) return invalid("event is not a string");
    } else if (key == "streamSid") {
      if (value.get_string().get(out.stream_sid)) return invalid("streamSid is not a string");
      has_sid = true;
    } else if (key == "media") {
      simdjson::dom::object media;
      if (value.get_object().get(media)) return invalid("media is not an object");
      if (auto payload = media["payload"]; payload.error() != simdjson::NO_SUCH_FIELD &&
                                           payload.get_string().get(out.payload))
        return invalid("media.payload is not a string");
    } else if (key == "mark") {
      simdjson::dom::object mark;
      if (value.get_object().get(mark)) return invalid("mark is not an object");
      if (auto name = mark["name"]; name.error() != simdjson::NO_SUCH_FIELD && name.get_string().get(out.mark_name))
        return invalid("mark.name is not a string");
    }
  }
  // The views into the parser's string buffer survive the rest of this parse, so check them now.
  if (!has_sid) return invalid("missing streamSid");
  if (event == "media") {
    if (out.payload.data() == nullptr) return invalid("media without payload");
    out.kind = bridge_message_kind::media;
  } else if (event == "mark") {
    if (out.mark_name.data() == nullptr) return invalid("mark without mark.name");
    out.kind = bridge_message_kind::mark;
  } else if (event == "clear") {
    out.kind = bridge_message_kind::clear;
  } else {
    return invalid(event.data() == nullptr ? "missing event" : "unknown event");
  }
}

}  // namespace mb::tools::twilio
