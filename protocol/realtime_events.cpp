#include "protocol/realtime_events.hpp"

#include <boost/json.hpp>

#include "protocol/simdjson_parse.hpp"
#include "protocol/tool_calls.hpp"

namespace mb::protocol {
namespace {

using type = realtime_event_type;

struct type_entry {
  std::string_view name;
  type t;
};

// Ordered by frequency on a live call: deltas first.
constexpr type_entry type_names[] = {
    {"response.output_audio.delta", type::output_audio_delta},
    {"response.output_audio_transcript.delta", type::output_audio_transcript_delta},
    {"conversation.item.input_audio_transcription.delta", type::input_transcription_delta},
    {"input_audio_buffer.speech_started", type::speech_started},
    {"input_audio_buffer.speech_stopped", type::speech_stopped},
    {"input_audio_buffer.committed", type::input_audio_committed},
    {"response.created", type::response_created},
    {"response.done", type::response_done},
    {"response.output_audio.done", type::output_audio_done},
    {"response.output_audio_transcript.done", type::output_audio_transcript_done},
    {"conversation.item.input_audio_transcription.completed", type::input_transcription_completed},
    {"conversation.item.input_audio_transcription.failed", type::input_transcription_failed},
    {"conversation.item.truncated", type::item_truncated},
    {"session.created", type::session_created},
    {"session.updated", type::session_updated},
    {"error", type::error},
    {"conversation.created", type::ignored},
    {"conversation.item.added", type::ignored},
    {"conversation.item.created", type::ignored},
    {"conversation.item.done", type::ignored},
    {"conversation.item.deleted", type::ignored},
    {"conversation.item.retrieved", type::ignored},
    {"conversation.item.input_audio_transcription.segment", type::ignored},
    {"input_audio_buffer.cleared", type::ignored},
    {"input_audio_buffer.timeout_triggered", type::ignored},
    {"response.output_item.added", type::ignored},
    {"response.output_item.done", type::function_call_done},  // unless it is a completed function call: ignored
    {"response.content_part.added", type::ignored},
    {"response.content_part.done", type::ignored},
    {"response.output_text.delta", type::ignored},
    {"response.output_text.done", type::ignored},
    {"response.function_call_arguments.delta", type::ignored},
    {"response.function_call_arguments.done", type::ignored},  // the call is taken from output_item.done (I1)
    {"rate_limits.updated", type::ignored},
    // A SIP call's sideband (docs/protocols.md J3, J4): its keys, and the playout of its audio at OpenAI.
    {"input_audio_buffer.dtmf_event_received", type::dtmf_event_received},
    {"output_audio_buffer.started", type::ignored},
    {"output_audio_buffer.stopped", type::ignored},
    {"output_audio_buffer.cleared", type::ignored},
};

type type_from_name(std::string_view name) {
  for (const auto& e : type_names)
    if (e.name == name) return e.t;
  return type::unknown;
}

using simdjson::dom::object;

std::optional<parse_error> parse_session(object& root, realtime_event& out) {
  object session, audio;
  if (!child_object(root, "session", session)) return parse_error{"session is missing"};
  if (!child_object(session, "audio", audio)) return std::nullopt;  // formats unknown: caller decides
  object input, output, format;
  if (child_object(audio, "input", input) && child_object(input, "format", format))
    optional_string(format, "type", out.input_format);
  if (child_object(audio, "output", output) && child_object(output, "format", format))
    optional_string(format, "type", out.output_format);
  return std::nullopt;
}

void parse_usage(object& response, token_usage& usage) {
  object u;
  if (!child_object(response, "usage", u)) return;
  optional_int(u, "total_tokens", usage.total_tokens);
  optional_int(u, "input_tokens", usage.input_tokens);
  optional_int(u, "output_tokens", usage.output_tokens);
}

// A function call is taken from its item's output_item.done, which names it, once per call (I1). An
// item that is not a function call, or whose call was cut short (status "incomplete"), is ignored.
std::optional<parse_error> parse_output_item_done(object& root, realtime_event& out) {
  object item;
  std::string_view item_type, status;
  if (child_object(root, "item", item)) {
    optional_string(item, "type", item_type);
    optional_string(item, "status", status);
  }
  if (item_type != "function_call" || (!status.empty() && status != "completed")) {
    out.type = type::ignored;
    return std::nullopt;
  }
  optional_string(root, "response_id", out.response_id);
  optional_string(item, "id", out.item_id);
  if (auto e = required_string(item, "call_id", "item.call_id", out.call_id)) return e;
  if (auto e = required_string(item, "name", "item.name", out.tool_name)) return e;
  return required_string(item, "arguments", "item.arguments", out.arguments);
}

std::optional<parse_error> parse_fields(object& root, realtime_event& out) {
  if (auto e = required_string(root, "type", out.type_name)) return e;
  out.type = type_from_name(out.type_name);

  switch (out.type) {
    case type::output_audio_delta:
    case type::output_audio_transcript_delta:
      if (auto e = required_string(root, "response_id", out.response_id)) return e;
      if (auto e = required_string(root, "item_id", out.item_id)) return e;
      optional_int(root, "content_index", out.content_index);
      return required_string(root, "delta", out.delta);
    case type::output_audio_done:
      if (auto e = required_string(root, "response_id", out.response_id)) return e;
      optional_int(root, "content_index", out.content_index);
      return required_string(root, "item_id", out.item_id);
    case type::output_audio_transcript_done:
      if (auto e = required_string(root, "response_id", out.response_id)) return e;
      if (auto e = required_string(root, "item_id", out.item_id)) return e;
      optional_int(root, "content_index", out.content_index);
      return required_string(root, "transcript", out.transcript);
    case type::input_transcription_delta:
      if (auto e = required_string(root, "item_id", out.item_id)) return e;
      return required_string(root, "delta", out.delta);
    case type::input_transcription_completed:
      if (auto e = required_string(root, "item_id", out.item_id)) return e;
      return required_string(root, "transcript", out.transcript);
    case type::input_transcription_failed:
    case type::input_audio_committed:
      optional_string(root, "item_id", out.item_id);
      return std::nullopt;
    case type::speech_started:
      optional_string(root, "item_id", out.item_id);
      optional_int(root, "audio_start_ms", out.audio_start_ms);
      return std::nullopt;
    case type::speech_stopped:
      optional_string(root, "item_id", out.item_id);
      optional_int(root, "audio_end_ms", out.audio_end_ms);
      return std::nullopt;
    case type::item_truncated:
      optional_string(root, "item_id", out.item_id);
      optional_int(root, "audio_end_ms", out.audio_end_ms);
      return std::nullopt;
    case type::response_created: {
      object response;
      if (!child_object(root, "response", response)) return parse_error{"response is missing"};
      return required_string(response, "id", out.response_id);
    }
    case type::response_done: {
      object response;
      if (!child_object(root, "response", response)) return parse_error{"response is missing"};
      if (auto e = required_string(response, "id", out.response_id)) return e;
      optional_string(response, "status", out.status);
      parse_usage(response, out.usage);
      return std::nullopt;
    }
    case type::session_created:
    case type::session_updated:
      return parse_session(root, out);
    case type::function_call_done:
      return parse_output_item_done(root, out);
    case type::dtmf_event_received:
      return required_string(root, "event", out.dtmf_key);
    case type::error:
      return read_upstream_error(root, "event_id", out.error);
    case type::ignored:
    case type::unknown:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<parse_error> realtime_parser::parse(std::string_view json, std::size_t capacity, realtime_event& out) {
  out = realtime_event{};
  object root;
  if (auto error = parse_object(thread_parser<realtime_parser, std::size_t{64} << 20>(), json, capacity, root)) return error;
  return parse_fields(root, out);
}

boost::json::object realtime_session(const session_config& config, session_audio_format format) {
  namespace json = boost::json;
  const bool declare_format = format == session_audio_format::pcmu;
  json::object input;
  if (declare_format) input["format"] = {{"type", "audio/pcmu"}};
  switch (config.turn_detection) {
    case turn_detection_type::server_vad:
      input["turn_detection"] = {{"type", "server_vad"},
                                 {"threshold", config.vad_threshold},
                                 {"prefix_padding_ms", config.vad_prefix_padding_ms},
                                 {"silence_duration_ms", config.vad_silence_duration_ms},
                                 {"create_response", config.vad_create_response},
                                 {"interrupt_response", config.vad_interrupt_response}};
      break;
    case turn_detection_type::semantic_vad:
      input["turn_detection"] = {{"type", "semantic_vad"},
                                 {"eagerness", config.vad_eagerness},
                                 {"create_response", config.vad_create_response},
                                 {"interrupt_response", config.vad_interrupt_response}};
      break;
    case turn_detection_type::none:
      input["turn_detection"] = nullptr;
      break;
  }
  if (config.transcription_model.empty()) {
    input["transcription"] = nullptr;
  } else {
    json::object transcription{{"model", config.transcription_model}};
    if (!config.transcription_language.empty()) transcription["language"] = config.transcription_language;
    if (!config.transcription_prompt.empty()) transcription["prompt"] = config.transcription_prompt;
    input["transcription"] = std::move(transcription);
  }

  json::object output;
  if (declare_format) output["format"] = {{"type", "audio/pcmu"}};
  if (!config.voice.empty()) output["voice"] = config.voice;

  json::object session{{"type", "realtime"},
                       {"output_modalities", json::array{"audio"}},
                       {"audio", {{"input", std::move(input)}, {"output", std::move(output)}}}};
  if (!config.instructions.empty()) session["instructions"] = config.instructions;
  json::array tools;
  for (const auto& tool : config.tools) {
    json::object function{{"type", "function"}};
    if (add_function_fields(tool, function)) tools.push_back(std::move(function));
  }
  if (!tools.empty()) {
    session["tools"] = std::move(tools);
    session["tool_choice"] = "auto";
  }
  return session;
}

std::string build_session_update(const session_config& config) {
  return boost::json::serialize(boost::json::object{{"type", "session.update"},
                                                    {"event_id", session_update_event_id},
                                                    {"session", realtime_session(config, session_audio_format::pcmu)}});
}

void build_input_audio_append(std::string& out, std::string_view payload_b64) {
  out.append(R"({"type":"input_audio_buffer.append","audio":")").append(payload_b64).append(R"("})");
}

std::string build_item_truncate(std::string_view item_id, std::int64_t content_index, std::int64_t audio_end_ms) {
  return boost::json::serialize(boost::json::object{{"type", "conversation.item.truncate"},
                                                    {"event_id", truncate_event_id},
                                                    {"item_id", item_id},
                                                    {"content_index", content_index},
                                                    {"audio_end_ms", audio_end_ms}});
}

std::string build_response_create(std::string_view instructions) {
  boost::json::object event{{"type", "response.create"}};
  if (!instructions.empty()) event["response"] = {{"instructions", instructions}};
  return boost::json::serialize(event);
}

std::string build_response_cancel() { return R"({"type":"response.cancel"})"; }

std::string build_text_item(std::string_view role, std::string_view text) {
  const auto content_type = role == "assistant" ? "output_text" : "input_text";
  return boost::json::serialize(boost::json::object{
      {"type", "conversation.item.create"},
      {"item",
       {{"type", "message"}, {"role", role}, {"content", boost::json::array{{{"type", content_type}, {"text", text}}}}}}});
}

std::string build_function_call_output(std::string_view call_id, std::string_view output_json) {
  return boost::json::serialize(boost::json::object{
      {"type", "conversation.item.create"},
      {"item", {{"type", "function_call_output"}, {"call_id", call_id}, {"output", output_json}}}});
}

}  // namespace mb::protocol
