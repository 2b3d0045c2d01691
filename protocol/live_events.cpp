#include "protocol/live_events.hpp"

#include <boost/json.hpp>

#include "protocol/simdjson_parse.hpp"
#include "protocol/tool_calls.hpp"

namespace mb::protocol {
namespace {

using type = live_event_type;
using simdjson::dom::object;

struct type_entry {
  std::string_view name;
  type t;
};

// Ordered by frequency on a live call: deltas first (docs/protocols.md D4).
constexpr type_entry type_names[] = {
    {"session.output_audio.delta", type::output_audio_delta},
    {"session.output_transcript.delta", type::output_transcript_delta},
    {"session.input_transcript.delta", type::input_transcript_delta},
    {"session.usage.updated", type::usage_updated},
    {"session.started", type::session_started},
    {"session.updated", type::session_updated},
    {"session.closed", type::session_closed},
    {"error", type::error},
    {"session.delegation.created", type::ignored},
    {"response.event", type::function_call},  // unless it wraps a completed function call: ignored
    {"info", type::ignored},
    {"session.instructions.appended", type::ignored},
    {"session.thinking.appended", type::ignored},
    {"session.commentary.appended", type::ignored},
    {"session.input_audio.muted", type::ignored},
    {"session.input_audio.unmuted", type::ignored},
    // A SIP call's sideband (docs/protocols.md J3, J4): its keys, the caller's audio reflected, the SIP
    // leg's own events.
    {"transport.dtmf.received", type::dtmf_received},
    {"session.input_audio.append", type::ignored},
    {"transport.dtmf.send", type::ignored},
    {"transport.ringing", type::ignored},
    {"transport.answered", type::ignored},
    {"transport.failed", type::ignored},
};

type type_from_name(std::string_view name) {
  for (const auto& e : type_names)
    if (e.name == name) return e.t;
  return type::unknown;
}

void optional_timing(object& obj, const char* key, std::optional<std::int64_t>& out) {
  std::int64_t ms = 0;
  if (!obj[key].get_int64().get(ms)) out = ms;
}

void parse_usage(object& root, live_event& out) {
  object usage;
  if (child_object(root, "usage", usage)) optional_int(usage, "seconds", out.usage_seconds);
}

std::optional<parse_error> parse_session(object& root, live_event& out) {
  object session, audio, format;
  if (!child_object(root, "session", session)) return parse_error{"session is missing"};
  optional_string(session, "model", out.model);
  optional_int(session, "expires_at", out.expires_at);
  // No audio.format: the caller sees an empty format and decides (the format guard, D2).
  if (child_object(session, "audio", audio) && child_object(audio, "format", format)) {
    optional_string(format, "type", out.audio_format);
    optional_int(format, "rate", out.audio_rate);
  }
  return std::nullopt;
}

// The Responses delegation's events come wrapped in response.event; a function call is taken from the
// nested response.output_item.done, once per call (I2). Anything else it wraps, or a call cut short, is
// ignored.
std::optional<parse_error> parse_response_event(object& root, live_event& out) {
  object inner, item;
  std::string_view inner_type, item_type, status;
  if (child_object(root, "event", inner)) optional_string(inner, "type", inner_type);
  if (inner_type == "response.output_item.done" && child_object(inner, "item", item)) {
    optional_string(item, "type", item_type);
    optional_string(item, "status", status);
  }
  if (item_type != "function_call" || (!status.empty() && status != "completed")) {
    out.type = type::ignored;
    return std::nullopt;
  }
  if (auto e = required_string(item, "call_id", "event.item.call_id", out.call_id)) return e;
  if (auto e = required_string(item, "name", "event.item.name", out.tool_name)) return e;
  return required_string(item, "arguments", "event.item.arguments", out.arguments);
}

std::optional<parse_error> parse_fields(object& root, live_event& out) {
  if (auto e = required_string(root, "type", out.type_name)) return e;
  out.type = type_from_name(out.type_name);

  switch (out.type) {
    case type::output_audio_delta:
    case type::input_transcript_delta:
    case type::output_transcript_delta:
      optional_timing(root, "start_ms", out.start_ms);
      optional_timing(root, "end_ms", out.end_ms);
      return required_string(root, "delta", out.delta);
    case type::session_started:
    case type::session_updated:
      return parse_session(root, out);
    case type::session_closed:
      // Lenient: a close without its reason still ends the session (D7).
      optional_string(root, "reason", out.reason);
      parse_usage(root, out);
      return std::nullopt;
    case type::usage_updated:
      parse_usage(root, out);
      return std::nullopt;
    case type::error:
      return read_upstream_error(root, "client_event_id", out.error);
    case type::function_call:
      return parse_response_event(root, out);
    case type::dtmf_received:
      return required_string(root, "event", out.dtmf_key);
    case type::ignored:
    case type::unknown:
      return std::nullopt;
  }
  return std::nullopt;
}

// The caller's language and vocabulary, as a sentence for the model (D2).
std::string transcription_hints(const session_config& config) {
  std::string hints;
  if (!config.transcription_language.empty())
    hints.append("The caller speaks the language with ISO 639-1 code ")
        .append(config.transcription_language)
        .append(".");
  if (!config.transcription_prompt.empty()) {
    if (!hints.empty()) hints += ' ';
    hints.append("Vocabulary: ").append(config.transcription_prompt);
    if (!hints.ends_with('.')) hints += '.';
  }
  return hints;
}

}  // namespace

std::optional<parse_error> live_parser::parse(std::string_view json, std::size_t capacity, live_event& out) {
  out = live_event{};
  object root;
  if (auto error = parse_object(thread_parser<live_parser, std::size_t{64} << 20>(), json, capacity, root)) return error;
  return parse_fields(root, out);
}

std::string live_instructions(const session_config& config) {
  auto text = config.instructions;
  const auto hints = transcription_hints(config);
  if (!hints.empty()) {
    if (!text.empty()) text.append("\n\n");
    text.append(hints);
  }
  return text;
}

boost::json::object live_session(const session_config& config, session_audio_format format) {
  namespace json = boost::json;
  json::object audio;
  if (format == session_audio_format::pcmu) audio["format"] = {{"type", "audio/pcmu"}, {"rate", 8000}};
  if (!config.voice.empty()) audio["output"] = {{"voice", config.voice}};

  json::object session{{"model", config.model}};
  if (!audio.empty()) session["audio"] = std::move(audio);
  // Without tools no delegation field: omitting it selects client delegation, and the bridge answers
  // none (D2). With tools, the Responses backend calls them, and only `tools` is set (I2).
  json::array tools;
  for (const auto& tool : config.tools) {
    // Responses function tools are strict unless told otherwise, and a strict schema must list every
    // property as required: a profile's schema need not (I2).
    json::object function{{"type", "function"}};
    if (!add_function_fields(tool, function)) continue;
    function["strict"] = false;
    tools.push_back(std::move(function));
  }
  if (!tools.empty()) session["delegation"] = {{"type", "responses"}, {"responses", {{"tools", std::move(tools)}}}};
  if (auto instructions = live_instructions(config); !instructions.empty())
    session["instructions"] = std::move(instructions);
  return session;
}

std::string build_session_start(const session_config& config, std::span<const live_history_message> history) {
  namespace json = boost::json;
  json::object session = live_session(config, session_audio_format::pcmu);
  if (history.size() > max_live_history_messages) history = history.last(max_live_history_messages);
  json::array input;
  for (const auto& message : history) {
    if (message.text.empty()) continue;  // each message needs exactly one text part
    const bool user = message.role == live_role::user;
    const json::object part{{"type", user ? "input_text" : "output_text"}, {"text", message.text}};
    input.push_back({{"type", "message"}, {"role", user ? "user" : "assistant"}, {"content", json::array{part}}});
  }
  if (!input.empty()) session["input"] = std::move(input);

  return json::serialize(json::object{
      {"type", "session.start"}, {"event_id", session_start_event_id}, {"session", std::move(session)}});
}

void build_live_input_audio_append(std::string& out, std::string_view payload_b64) {
  out.append(R"({"type":"session.input_audio.append","audio":")").append(payload_b64).append(R"("})");
}

std::string build_instructions_append(std::string_view content) {
  return boost::json::serialize(boost::json::object{{"type", "session.instructions.append"},
                                                    {"event_id", instructions_append_event_id},
                                                    {"content", content},
                                                    {"delegation_id", nullptr}});
}

std::string build_live_function_call_output(std::string_view call_id, std::string_view output_json) {
  return boost::json::serialize(boost::json::object{
      {"type", "response.item.create"},
      {"event_id", tool_result_event_id},
      {"item", {{"type", "function_call_output"}, {"call_id", call_id}, {"output", output_json}}}});
}

std::string build_live_response_create() {
  return boost::json::serialize(boost::json::object{{"type", "response.create"}, {"event_id", tool_result_event_id}});
}

std::string build_session_close() {
  return boost::json::serialize(
      boost::json::object{{"type", "session.close"}, {"event_id", session_close_event_id}});
}

}  // namespace mb::protocol
