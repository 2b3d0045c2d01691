#include "protocol/gemini_events.hpp"

#include <boost/json.hpp>

#include "protocol/live_events.hpp"
#include "protocol/simdjson_parse.hpp"

namespace mb::protocol {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

void optional_bool(object& obj, const char* key, bool& out) {
  bool b = false;
  if (!obj[key].get_bool().get(b)) out = b;
}

// Top-level fields and the parts of serverContent must be objects when present; anything else is a
// malformed message, named by `path`.
std::optional<parse_error> as_object(element value, std::string_view path, object& out) {
  if (value.get_object().get(out)) return parse_error{std::string(path) + " is not an object"};
  return std::nullopt;
}

void parse_transcription(object& content, const char* key, gemini_transcription& out) {
  object t;
  if (!child_object(content, key, t)) return;
  out.present = true;
  optional_string(t, "text", out.text);
  optional_bool(t, "finished", out.finished);
}

// modelTurn.parts[]: the inlineData parts, in order; other parts (text, thoughts) carry nothing the
// bridge plays (F4).
std::optional<parse_error> parse_model_turn(object& content, gemini_message& out) {
  object turn;
  if (!child_object(content, "modelTurn", turn)) return std::nullopt;
  simdjson::dom::array parts;
  if (turn["parts"].get_array().get(parts)) return std::nullopt;
  for (element part_value : parts) {
    object part, inline_data;
    if (part_value.get_object().get(part) || !child_object(part, "inlineData", inline_data)) continue;
    if (out.audio_part_count == out.audio_parts.size()) {
      ++out.audio_parts_dropped;
      continue;
    }
    auto& audio = out.audio_parts[out.audio_part_count];
    optional_string(inline_data, "mimeType", audio.mime_type);
    if (auto e = required_string(inline_data, "data", "serverContent.modelTurn.parts[].inlineData.data", audio.data_b64))
      return e;
    ++out.audio_part_count;
  }
  return std::nullopt;
}

std::optional<parse_error> parse_server_content(element value, gemini_message& out) {
  object content;
  if (auto e = as_object(value, "serverContent", content)) return e;
  out.server_content = true;
  if (auto e = parse_model_turn(content, out)) return e;
  optional_bool(content, "interrupted", out.interrupted);
  optional_bool(content, "generationComplete", out.generation_complete);
  optional_bool(content, "turnComplete", out.turn_complete);
  parse_transcription(content, "inputTranscription", out.input_transcription);
  parse_transcription(content, "outputTranscription", out.output_transcription);
  return std::nullopt;
}

std::optional<parse_error> parse_go_away(element value, gemini_message& out) {
  object go_away;
  if (auto e = as_object(value, "goAway", go_away)) return e;
  out.go_away = true;
  // Without a readable timeLeft the connection may end any moment: renew at once (F6).
  std::string_view time_left;
  optional_string(go_away, "timeLeft", time_left);
  out.time_left_ms = parse_gemini_duration_ms(time_left).value_or(0);
  return std::nullopt;
}

std::optional<parse_error> parse_resumption_update(element value, gemini_message& out) {
  object update;
  if (auto e = as_object(value, "sessionResumptionUpdate", update)) return e;
  out.resumption_update = true;
  optional_bool(update, "resumable", out.resumable);
  optional_string(update, "newHandle", out.new_handle);
  return std::nullopt;
}

std::optional<parse_error> parse_usage(element value, gemini_message& out) {
  object usage;
  if (auto e = as_object(value, "usageMetadata", usage)) return e;
  out.usage.present = true;
  optional_int(usage, "promptTokenCount", out.usage.prompt_tokens);
  optional_int(usage, "responseTokenCount", out.usage.response_tokens);
  optional_int(usage, "totalTokenCount", out.usage.total_tokens);
  return std::nullopt;
}

std::optional<parse_error> parse_error_object(element value, gemini_message& out) {
  object error;
  if (auto e = as_object(value, "error", error)) return e;
  out.error.present = true;
  optional_int(error, "code", out.error.code);
  optional_string(error, "status", out.error.status);
  optional_string(error, "message", out.error.message);
  return std::nullopt;
}

// The value of a field the bridge only recognises (setupComplete): it must still be an object.
std::optional<parse_error> recognise(element value, std::string_view name, bool& flag) {
  object ignored;
  if (auto e = as_object(value, name, ignored)) return e;
  flag = true;
  return std::nullopt;
}

// The array at `key` of the tool message `name` (toolCall, toolCallCancellation), which must be an
// object; `present` false when it has none.
std::optional<parse_error> tool_entries(element value, std::string_view name, const char* key,
                                        simdjson::dom::array& out, bool& present) {
  object message;
  if (auto e = as_object(value, name, message)) return e;
  auto entries = message[key];
  present = entries.error() != simdjson::NO_SUCH_FIELD;
  if (present && entries.get_array().get(out)) return parse_error{std::string(name) + "." + key + " is not an array"};
  return std::nullopt;
}

// toolCall.functionCalls[] (I3): each needs a string id and name; its args object is serialised into
// `arguments`, one buffer per kept call.
std::optional<parse_error> parse_tool_call(element value, gemini_message& out, std::span<std::string> arguments) {
  simdjson::dom::array calls;
  bool present = false;
  if (auto e = tool_entries(value, "toolCall", "functionCalls", calls, present); e || !present) return e;
  for (element call_value : calls) {
    if (out.function_call_count == out.function_calls.size()) {
      ++out.tool_entries_dropped;
      continue;
    }
    object call;
    if (auto e = as_object(call_value, "toolCall.functionCalls[]", call)) return e;
    auto& fc = out.function_calls[out.function_call_count];
    if (auto e = required_string(call, "id", "toolCall.functionCalls[].id", fc.id)) return e;
    if (auto e = required_string(call, "name", "toolCall.functionCalls[].name", fc.name)) return e;
    auto& text = arguments[out.function_call_count];
    auto args = call["args"];
    if (args.error() == simdjson::NO_SUCH_FIELD) {
      text.assign("{}");
    } else {
      object args_object;
      if (auto e = as_object(args.value_unsafe(), "toolCall.functionCalls[].args", args_object)) return e;
      text = simdjson::minify(args_object);
    }
    fc.arguments_bytes = text.size();
    if (text.size() > max_tool_arguments_bytes) {
      // Not kept: the call will be dropped, and the buffer should not stay that large.
      text.clear();
      text.shrink_to_fit();
    }
    fc.arguments = text;
    ++out.function_call_count;
  }
  return std::nullopt;
}

// toolCallCancellation.ids[] (I3).
std::optional<parse_error> parse_tool_call_cancellation(element value, gemini_message& out) {
  simdjson::dom::array ids;
  bool present = false;
  if (auto e = tool_entries(value, "toolCallCancellation", "ids", ids, present); e || !present) return e;
  for (element id : ids) {
    if (out.cancelled_id_count == out.cancelled_ids.size()) {
      ++out.tool_entries_dropped;
      continue;
    }
    if (id.get_string().get(out.cancelled_ids[out.cancelled_id_count]))
      return parse_error{"toolCallCancellation.ids[] is not a string"};
    ++out.cancelled_id_count;
  }
  return std::nullopt;
}

// One top-level field; false when the bridge does not know it.
std::optional<parse_error> parse_field(std::string_view key, element value, gemini_message& out,
                                       std::span<std::string> arguments, bool& known) {
  known = true;
  if (key == "serverContent") return parse_server_content(value, out);
  if (key == "usageMetadata") return parse_usage(value, out);
  if (key == "setupComplete") return recognise(value, key, out.setup_complete);
  if (key == "sessionResumptionUpdate") return parse_resumption_update(value, out);
  if (key == "goAway") return parse_go_away(value, out);
  if (key == "toolCall") return parse_tool_call(value, out, arguments);
  if (key == "toolCallCancellation") return parse_tool_call_cancellation(value, out);
  if (key == "error") return parse_error_object(value, out);
  known = false;
  return std::nullopt;
}

// A Content of one text part; `role` empty: none (systemInstruction).
boost::json::object text_content(std::string_view role, std::string_view text) {
  boost::json::object content{{"parts", boost::json::array{boost::json::object{{"text", text}}}}};
  if (!role.empty()) content["role"] = role;
  return content;
}

boost::json::object activity_detection(const session_config& config) {
  switch (config.turn_detection) {
    case turn_detection_type::server_vad:
      return {{"prefixPaddingMs", config.vad_prefix_padding_ms},
              {"silenceDurationMs", config.vad_silence_duration_ms}};
    case turn_detection_type::semantic_vad: return {};
    case turn_detection_type::none: return {{"disabled", true}};
  }
  return {};
}

}  // namespace

std::optional<parse_error> gemini_parser::parse(std::string_view json, std::size_t capacity, gemini_message& out) {
  out = gemini_message{};

  object root;
  if (auto error = parse_object(thread_parser<gemini_parser, std::size_t{64} << 20>(), json, capacity, root)) return error;
  std::string_view first_key;
  for (const auto field : root) {
    if (first_key.empty()) first_key = field.key;
    bool known = false;
    if (auto e = parse_field(field.key, field.value, out, arguments_, known)) return e;
    if (known && !out.known) {
      out.known = true;
      out.type_name = field.key;
    }
  }
  if (!out.known) out.type_name = first_key;
  return std::nullopt;
}

std::optional<std::int64_t> parse_gemini_duration_ms(std::string_view text) noexcept {
  if (text.size() < 2 || text.back() != 's') return std::nullopt;
  text.remove_suffix(1);
  const bool negative = text.starts_with('-');
  if (negative) text.remove_prefix(1);
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::int64_t ms = 0;
  std::size_t i = 0;
  // protobuf allows ±315,576,000,000 s: 12 digits; more is not a Duration.
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (i == 12) return std::nullopt;
    ms = std::min(ms * 10 + (text[i] - '0'), max_gemini_time_left_ms);
  }
  if (i == 0) return std::nullopt;
  ms = std::min(ms * 1000, max_gemini_time_left_ms);
  if (i < text.size()) {
    if (text[i] != '.') return std::nullopt;
    const auto fraction = text.substr(i + 1);
    if (fraction.empty() || fraction.size() > 9) return std::nullopt;
    std::int64_t scale = 100;
    for (const char c : fraction) {
      if (!is_digit(c)) return std::nullopt;
      ms += (c - '0') * scale;  // digits below a ms add nothing (scale 0)
      scale /= 10;
    }
    ms = std::min(ms, max_gemini_time_left_ms);
  }
  return negative ? 0 : ms;
}

std::string gemini_model_name(std::string_view model) {
  if (model.empty()) model = gemini_default_model;
  if (model.find('/') != std::string_view::npos) return std::string(model);  // "models/…", "tunedModels/…"
  return "models/" + std::string(model);
}

std::string build_gemini_setup(const session_config& config, std::string_view resume_handle) {
  namespace json = boost::json;
  json::object generation{{"responseModalities", json::array{"AUDIO"}}};
  if (!config.voice.empty())
    generation["speechConfig"] = {{"voiceConfig", {{"prebuiltVoiceConfig", {{"voiceName", config.voice}}}}}};

  json::object input_config{{"automaticActivityDetection", activity_detection(config)}};
  // START_OF_ACTIVITY_INTERRUPTS is the default; the other value keeps the model talking (F5).
  if (!config.vad_interrupt_response) input_config["activityHandling"] = "NO_INTERRUPTION";

  json::object resumption;
  if (!resume_handle.empty()) resumption["handle"] = resume_handle;

  json::object setup{{"model", gemini_model_name(config.model)},
                     {"generationConfig", std::move(generation)},
                     {"realtimeInputConfig", std::move(input_config)},
                     {"inputAudioTranscription", json::object{}},
                     {"outputAudioTranscription", json::object{}},
                     // Without it an audio session ends after 15 minutes (F6).
                     {"contextWindowCompression", {{"slidingWindow", json::object{}}}},
                     {"sessionResumption", std::move(resumption)}};
  // The caller's language and vocabulary go into the instructions, as on GPT-Live (F2).
  if (auto instructions = live_instructions(config); !instructions.empty())
    setup["systemInstruction"] = text_content({}, instructions);
  // No `behavior`: the model's default applies (NON_BLOCKING on the 3.8 models, I3).
  json::array declarations;
  for (const auto& tool : config.tools) {
    json::object declaration;
    if (add_function_fields(tool, declaration)) declarations.push_back(std::move(declaration));
  }
  if (!declarations.empty())
    setup["tools"] = json::array{json::object{{"functionDeclarations", std::move(declarations)}}};
  return json::serialize(json::object{{"setup", std::move(setup)}});
}

void build_gemini_audio_input(std::string& out, std::string_view pcm16_b64) {
  out.append(R"({"realtimeInput":{"audio":{"mimeType":")")
      .append(gemini_input_mime)
      .append(R"(","data":")")
      .append(pcm16_b64)
      .append(R"("}}})");
}

std::optional<std::string> build_gemini_history(std::span<const gemini_history_turn> history) {
  namespace json = boost::json;
  json::array turns;
  // The newest turns, in order: count back over the non-empty ones first.
  std::size_t kept = 0;
  std::size_t first = history.size();
  while (first > 0 && kept < max_gemini_history_turns)
    if (!history[--first].text.empty()) ++kept;
  for (const auto& turn : history.subspan(first)) {
    if (turn.text.empty()) continue;
    turns.push_back(text_content(turn.role == gemini_role::user ? "user" : "model", turn.text));
  }
  if (turns.empty()) return std::nullopt;
  return json::serialize(json::object{{"clientContent", {{"turns", std::move(turns)}, {"turnComplete", false}}}});
}

std::string build_gemini_user_text(std::string_view text, bool turn_complete) {
  namespace json = boost::json;
  return json::serialize(json::object{
      {"clientContent", {{"turns", json::array{text_content("user", text)}}, {"turnComplete", turn_complete}}}});
}

std::string build_gemini_tool_response(std::string_view id, std::string_view name, std::string_view output_json) {
  namespace json = boost::json;
  json::parse_options options;
  options.max_depth = max_json_depth;
  boost::system::error_code ec;
  auto output = json::parse(output_json, ec, {}, options);
  if (ec) output = json::string(output_json);
  json::object response{{"id", id}, {"name", name}, {"response", {{"output", std::move(output)}}}};
  return json::serialize(
      json::object{{"toolResponse", {{"functionResponses", json::array{std::move(response)}}}}});
}

}  // namespace mb::protocol
