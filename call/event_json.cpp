#include "call/event_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <variant>

#include <boost/json.hpp>

namespace mb::call {
namespace {

namespace json = boost::json;

constexpr std::size_t utc_buffer_bytes = 40;

// format_utc into `buf`, without a heap allocation; the text's length.
std::size_t format_utc_to(char (&buf)[utc_buffer_bytes], std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{unix_ms}};
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time{t - day};
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                              static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                              static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                              static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return n < 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof buf - 1);
}

// Every object of the event is made with `storage` (the default heap when null).
json::object envelope(std::string_view type, const event_context& context, json::storage_ptr storage = {}) {
  json::object o(std::move(storage));
  o["type"] = type;
  o["call_sid"] = context.call_sid;
  char time[utc_buffer_bytes];
  o["time"] = std::string_view(time, format_utc_to(time, context.unix_ms));
  return o;
}

void add_end_fields(json::object& o, const call_end& end) {
  o["reason"] = to_string(end.reason);
  o["detail"] = end.detail;
  o["duration_ms"] = end.duration_ms;
  json::object usage(o.storage());
  usage["input_tokens"] = end.usage.input_tokens;
  usage["output_tokens"] = end.usage.output_tokens;
  usage["total_tokens"] = end.usage.total_tokens;
  o["usage"] = std::move(usage);
}

void add_fields(json::object& o, const event_context& context, const call_started& e) {
  o["stream_sid"] = context.stream_sid;
  o["from"] = context.from;
  o["to"] = context.to;
  o["agent"] = e.agent;
  o["transport"] = e.transport;
  json::object parameters(o.storage());
  for (const auto& [name, value] : e.parameters) parameters[name] = value;
  o["parameters"] = std::move(parameters);
}

void add_fields(json::object& o, const event_context&, const transcript_delta& e) {
  o["role"] = to_string(e.speaker);
  o["item_id"] = e.item_id;
  o["text"] = e.text;
}

void add_fields(json::object& o, const event_context&, const transcript_final& e) {
  o["role"] = to_string(e.speaker);
  o["item_id"] = e.item_id;
  o["text"] = e.text;
  if (e.speaker != role::assistant) return;
  o["interrupted"] = e.interrupted;
  if (!e.interrupted) return;
  o["heard_ms"] = e.heard_ms;
  o["heard_text"] = e.heard_text;
  o["heard_text_estimated"] = e.heard_text_estimated;
}

void add_fields(json::object& o, const event_context&, const barge_in& e) {
  o["item_id"] = e.item_id;
  o["audio_end_ms"] = e.audio_end_ms;
}

void add_fields(json::object& o, const event_context&, const dtmf& e) {
  o["digit"] = e.digit;
  if (e.masked) o["masked"] = true;
}

void add_fields(json::object& o, const event_context&, const dtmf_input& e) {
  o["digits"] = e.digits;
  o["masked"] = e.masked;
}

void add_fields(json::object& o, const event_context&, const tool_call& e) {
  o["tool_call_id"] = e.tool_call_id;
  o["name"] = e.name;
  o["arguments"] = e.arguments;
}

void add_fields(json::object& o, const event_context&, const tool_result& e) {
  o["tool_call_id"] = e.tool_call_id;
  o["name"] = e.name;
  o["ok"] = e.ok;
  o["output"] = e.output;
  if (!e.ok) o["error"] = e.error;
  o["latency_ms"] = e.latency_ms;
}

void add_fields(json::object& o, const event_context&, const call_control& e) {
  o["action"] = e.action;
  o["by"] = e.by;
  o["status"] = e.status;
  if (!e.target.empty()) o["target"] = e.target;
  if (!e.detail.empty()) o["detail"] = e.detail;
}

void add_fields(json::object& o, const event_context&, const wire_message& e) {
  o["direction"] = e.direction;
  o["message_type"] = e.type;
  o["bytes"] = e.bytes;
}

// Whole µs: finer than any span here means, and short in the JSON.
double rounded_ms(double ms) { return std::round(ms * 1000.0) / 1000.0; }

void add_fields(json::object& o, const event_context&, const turn_waterfall& e) {
  o["at"] = e.stopped_unix_ms;
  o["turn"] = e.turn;
  o["item_id"] = e.item_id;
  o["stopped_by"] = e.stopped_by_provider ? "provider" : "estimate";
  o["to_first_delta_ms"] = rounded_ms(e.to_first_delta_ms);
  o["to_first_audio_ms"] = rounded_ms(e.to_first_audio_ms);
  if (e.to_heard_ms)
    o["to_heard_ms"] = rounded_ms(*e.to_heard_ms);
  else
    o["to_heard_ms"] = nullptr;
  o["bridge_ms"] = rounded_ms(e.bridge_ms);
}

// Reads exactly `digits` decimal digits at `pos`, advancing it.
bool read_number(std::string_view text, std::size_t& pos, std::size_t digits, int& out) {
  if (pos + digits > text.size()) return false;
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  out = value;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, std::string_view choices) {
  if (pos >= text.size() || choices.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

}  // namespace

const char* event_type(const call_event& event) {
  struct namer {
    const char* operator()(const call_started&) const { return "call.started"; }
    const char* operator()(const transcript_delta&) const { return "transcript.delta"; }
    const char* operator()(const transcript_final&) const { return "transcript.final"; }
    const char* operator()(const barge_in&) const { return "barge_in"; }
    const char* operator()(const dtmf&) const { return "dtmf"; }
    const char* operator()(const dtmf_input&) const { return "dtmf.input"; }
    const char* operator()(const tool_call&) const { return "tool.call"; }
    const char* operator()(const tool_result&) const { return "tool.result"; }
    const char* operator()(const call_control&) const { return "call.control"; }
    const char* operator()(const wire_message&) const { return "wire"; }
    const char* operator()(const turn_waterfall&) const { return turn_latency_type; }
  };
  return std::visit(namer{}, event);
}

std::string event_json(const event_context& context, const call_event& event) {
  auto o = envelope(event_type(event), context);
  std::visit([&](const auto& e) { add_fields(o, context, e); }, event);
  return json::serialize(o);
}

std::string event_json(const event_context& context, const call_end& end) {
  auto o = envelope(call_ended_type, context);
  add_end_fields(o, end);
  return json::serialize(o);
}

struct event_writer::impl {
  // Room for any ordinary event; a larger one takes the rest from the heap.
  std::array<unsigned char, 16 * 1024> buffer{};
  json::monotonic_resource scratch{buffer.data(), buffer.size()};
  json::serializer serializer;
  std::string out;

  template <class Fill>
  std::string_view write(std::string_view type, const event_context& context, Fill&& fill) {
    out.clear();
    {
      auto o = envelope(type, context, &scratch);
      fill(o);
      serializer.reset(&o);
      char chunk[1024];
      while (!serializer.done()) out.append(serializer.read(chunk));
    }
    scratch.release();
    return out;
  }
};

event_writer::event_writer() : impl_(std::make_unique<impl>()) { impl_->out.reserve(4096); }
event_writer::~event_writer() = default;

std::string_view event_writer::write(const event_context& context, const call_event& event) {
  return impl_->write(event_type(event), context,
                      [&](json::object& o) { std::visit([&](const auto& e) { add_fields(o, context, e); }, event); });
}

std::string_view event_writer::write(const event_context& context, const call_end& end) {
  return impl_->write(call_ended_type, context, [&](json::object& o) { add_end_fields(o, end); });
}

std::string format_utc(std::int64_t unix_ms) {
  char buf[utc_buffer_bytes];
  return std::string(buf, format_utc_to(buf, unix_ms));
}

std::optional<std::int64_t> parse_utc(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t ms = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
    return ms;
  }
  using namespace std::chrono;
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!read_number(text, pos, 4, y) || !expect(text, pos, "-") || !read_number(text, pos, 2, mo) ||
      !expect(text, pos, "-") || !read_number(text, pos, 2, d) || !expect(text, pos, "Tt ") ||
      !read_number(text, pos, 2, h) || !expect(text, pos, ":") || !read_number(text, pos, 2, mi) ||
      !expect(text, pos, ":") || !read_number(text, pos, 2, s))
    return std::nullopt;
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  std::int64_t ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int scale = 100;
    const auto first = pos;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, scale /= 10) ms += (text[pos] - '0') * scale;
    if (pos == first) return std::nullopt;
  }
  std::int64_t offset_min = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!read_number(text, pos, 2, oh) || !expect(text, pos, ":") || !read_number(text, pos, 2, om) || oh > 23 ||
        om > 59)
      return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const auto local = sys_days{date} + hours{h} + minutes{mi} + seconds{s} - minutes{offset_min};
  return duration_cast<milliseconds>(local.time_since_epoch()).count() + ms;
}

}  // namespace mb::call
