#include "simulator/realtime_session.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

bool is_g711(const std::string& format) { return format == "audio/pcmu" || format == "audio/pcma"; }

std::uint64_t input_bytes_per_ms(const std::string& format) { return format == "audio/pcm" ? 48 : 8; }

// Client-chosen item ids end up in events formatted without a JSON encoder, so they are limited
// to characters that need no escaping (the service's own ids look like item_Cz3f…).
bool is_plain_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

std::string query_param(std::string_view target, std::string_view name) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return {};
  const auto params = url->params();
  const auto it = params.find(name);
  return it == params.end() ? std::string() : std::string((*it).value);
}

// The halves of a string split near its middle on a UTF-8 boundary (arguments go out in two deltas).
std::pair<std::string_view, std::string_view> halves(std::string_view text) {
  std::size_t cut = text.size() / 2;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return {text.substr(0, cut), text.substr(cut)};
}

}  // namespace

realtime_session::realtime_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number,
                   upstream::provider_kind provider)
    : sim_session(std::move(state), std::move(strand), number, provider), script_(options_.tool_call_script) {}

void realtime_session::open(session_snapshot& record) {
  record.session_id = fmt::format("sess_sim{:06}", number_);
  record.model = query_param(record.target, "model");
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  config_.emplace(record.session_id, record.model.empty() ? "gpt-realtime" : record.model,
                  now_s + options_.session_lifetime_s);
  vad_.configure(config_->vad());
  record.input_format = config_->input_format();
  record.output_format = config_->output_format();
  record.effective_session = json::serialize(config_->json());
}

void realtime_session::opened() {
  emit_json("session.created", {{"session", config_->json()}});
  emit("conversation.created", R"(,"conversation":{{"id":"conv_{}","object":"realtime.conversation"}})", number_);
}

// ---------------------------------------------------------------------------------------------
// Client events

void realtime_session::handle_event(std::string_view type, simdjson::dom::object event) {
  if (type == "input_audio_buffer.append") {
    std::string_view audio;
    if (event["audio"].get_string().get(audio))
      return send_error("invalid_request_error", "missing_required_parameter",
                        "Missing required parameter: 'audio'.", "audio");
    on_append(audio);
  } else if (type == "session.update") {
    on_session_update();
  } else if (type == "response.create") {
    std::string instructions;
    simdjson::dom::object response;
    std::string_view text;
    if (!event["response"].get_object().get(response) && !response["instructions"].get_string().get(text))
      instructions.assign(text);
    on_response_create(std::move(instructions));
  } else if (type == "response.cancel") {
    std::string_view id;
    on_response_cancel(event["response_id"].get_string().get(id) ? std::nullopt : std::optional(id));
  } else if (type == "conversation.item.truncate") {
    std::string_view item_id;
    std::int64_t content_index = 0;
    std::int64_t audio_end_ms = 0;
    const bool has_item = !event["item_id"].get_string().get(item_id);
    const bool has_index = !event["content_index"].get_int64().get(content_index);
    const bool has_end = !event["audio_end_ms"].get_int64().get(audio_end_ms);
    on_truncate(has_item ? std::optional(item_id) : std::nullopt,
                has_index ? std::optional(content_index) : std::nullopt,
                has_end ? std::optional(audio_end_ms) : std::nullopt);
  } else if (type == "conversation.item.create") {
    on_item_create();
  } else if (type == "input_audio_buffer.commit") {
    on_commit();
  } else if (type == "input_audio_buffer.clear") {
    on_clear();
  } else {
    send_error("invalid_request_error", "invalid_event",
               fmt::format("Invalid value: '{}'. Supported values are: 'session.update', "
                           "'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', "
                           "'conversation.item.create', 'conversation.item.truncate', 'response.create' and "
                           "'response.cancel'.",
                           type),
               "type");
  }
}

void realtime_session::on_append(std::string_view audio_b64) {
  if (!take_audio(audio_b64))
    return send_error("invalid_request_error", "invalid_event", "Invalid 'audio': expected base64-encoded audio.",
                      "audio");
  const std::string& bytes = decoded_;
  uncommitted_bytes_ += bytes.size();
  const std::string& format = config_->input_format();
  if (!is_g711(format)) return vad_.skip(bytes.size() / 6);  // 24 kHz 16-bit: 6 bytes per 8 kHz sample
  vad_.push({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, format == "audio/pcma",
            [this](std::int64_t ms) { on_speech_started(ms); }, [this](std::int64_t ms) { on_speech_stopped(ms); });
}

void realtime_session::on_session_update() {
  const auto event = event_object(&session_snapshot::session_updates);
  if (!event) return;
  const json::value* session = event->if_contains("session");
  if (!session) return send_config_error(missing("session"));
  if (auto error = config_->apply(*session)) return send_config_error(*error);
  if (!options_.force_output_format.empty()) config_->force_output_format(options_.force_output_format);
  if (session->get_object().contains("tools")) {
    declared_ = function_tools(config_->json().at("tools"));
    update_record([&](session_snapshot& r) { r.declared_tools = declared_; });
  }
  if (const auto* instructions = session->get_object().if_contains("instructions"))
    if (auto script = script_in_instructions(instructions->get_string())) script_ = std::move(*script);
  vad_.configure(config_->vad());
  reply_to_configuration([this] { send_session_updated(); });
}

void realtime_session::on_response_create(std::string instructions) {
  if (active_)
    return send_error("invalid_request_error", "conversation_already_has_active_response",
                      fmt::format("Conversation already has an active response in progress: {}. Wait until the "
                                  "response is finished before creating a new one.",
                                  active_->id),
                      "");
  start_response("client", std::move(instructions), std::exchange(answer_text_, {}));
  start_item();
}

void realtime_session::on_response_cancel(std::optional<std::string_view> response_id) {
  if (!active_ || (response_id && *response_id != active_->id))
    return send_error("invalid_request_error", "response_cancel_not_active",
                      "Cancellation failed: no active response found", "");
  cancel_response("client_cancelled");
}

void realtime_session::on_truncate(std::optional<std::string_view> item_id, std::optional<std::int64_t> content_index,
                              std::optional<std::int64_t> audio_end_ms) {
  if (!item_id)
    return send_error("invalid_request_error", "missing_required_parameter", "Missing required parameter: 'item_id'.",
                      "item_id");
  if (!content_index)
    return send_error("invalid_request_error", "missing_required_parameter",
                      "Missing required parameter: 'content_index'.", "content_index");
  if (!audio_end_ms)
    return send_error("invalid_request_error", "missing_required_parameter",
                      "Missing required parameter: 'audio_end_ms'.", "audio_end_ms");
  truncate_record t{std::string(*item_id), *content_index, *audio_end_ms, -1, false, {}};
  conversation_item* item = find_item(*item_id);
  const auto tell_probe = [&](bool accepted) {
    if (auto* probe = options_.probe.get(); probe && item && item->assistant_audio)
      probe->on_truncate(number_, item->response, *audio_end_ms, accepted);
  };
  const auto reject = [&](std::string_view code, const std::string& message, std::string_view param) {
    t.error_code = code;
    tell_probe(false);
    update_record([&](session_snapshot& r) { r.truncates.push_back(t); });
    send_error("invalid_request_error", code, message, param);
  };
  if (!item) return reject("invalid_value", fmt::format("Item with item_id not found: {}", *item_id), "item_id");
  t.generated_ms = static_cast<std::int64_t>(item->audio_bytes / 8);
  if (!item->assistant_audio || item->audio_bytes == 0)
    return reject("unsupported_content_type", "Only model output audio messages can be truncated", "item_id");
  if (*content_index != 0)
    return reject("invalid_value", "Invalid 'content_index': the item has one content part, use 0.", "content_index");
  // A truncated item is as long as what was kept.
  const std::int64_t length_ms = item->truncated_ms ? std::min(*item->truncated_ms, t.generated_ms) : t.generated_ms;
  if (*audio_end_ms < 0 || *audio_end_ms > length_ms)
    return reject("invalid_value",
                  fmt::format("Audio content of {}ms is already shorter than {}ms", length_ms, *audio_end_ms),
                  "audio_end_ms");
  item->truncated_ms = *audio_end_ms;
  t.accepted = true;
  tell_probe(true);
  update_record([&](session_snapshot& r) { r.truncates.push_back(t); });
  emit("conversation.item.truncated", R"(,"item_id":"{}","content_index":0,"audio_end_ms":{})", item->id,
       *audio_end_ms);
}

void realtime_session::on_item_create() {
  auto event = event_object(&session_snapshot::item_creates);
  if (!event) return;
  json::value* item_value = event->if_contains("item");
  if (!item_value || !item_value->is_object())
    return send_error("invalid_request_error", "missing_required_parameter", "Missing required parameter: 'item'.",
                      "item");
  json::object& item = item_value->get_object();
  std::string id;
  if (const json::value* v = item.if_contains("id")) {
    if (!v->is_string() || !is_plain_id(v->get_string()) || find_item(v->get_string()))
      return send_error("invalid_request_error", "invalid_value",
                        "Invalid 'item.id': expected a new id of letters, digits, '_' or '-'.", "item.id");
    id = v->get_string();
  } else {
    id = next_item_id();
  }
  json::value previous = items_.empty() ? json::value(nullptr) : json::value(items_.back().id);
  if (const json::value* p = event->if_contains("previous_item_id")) {
    if (!p->is_string())
      return send_error("invalid_request_error", "invalid_type", "Invalid type for 'previous_item_id'.",
                        "previous_item_id");
    if (p->get_string() == "root")
      previous = nullptr;
    else if (!find_item(p->get_string()))
      return send_error("invalid_request_error", "invalid_value",
                        fmt::format("Item with id '{}' not found.", std::string_view(p->get_string())),
                        "previous_item_id");
    else
      previous = *p;
  }
  const std::string_view item_type = item.contains("type") && item.at("type").is_string() ? std::string_view(item.at("type").get_string()) : std::string_view();
  if (item_type == "function_call_output") {
    tool_result_record result;
    if (const auto* v = item.if_contains("call_id"); v && v->is_string()) result.call_id = v->get_string();
    if (const auto* v = item.if_contains("output"); v && v->is_string()) result.output = v->get_string();
    answer_text_ = tool_answer_text(result.output);
    update_record([&](session_snapshot& r) { r.tool_results.push_back(std::move(result)); });
  } else if (item_type == "message") {
    std::vector<std::string> texts;
    if (const auto* content = item.if_contains("content"); content && content->is_array())
      for (const auto& part : content->get_array())
        if (part.is_object() && part.get_object().contains("text") && part.at("text").is_string())
          texts.emplace_back(part.at("text").get_string());
    if (!texts.empty())
      update_record([&](session_snapshot& r) { r.context_texts.insert(r.context_texts.end(), texts.begin(), texts.end()); });
  }
  item["id"] = id;
  item["object"] = "realtime.item";
  if (!item.contains("status")) item["status"] = "completed";
  // Insertion position is not modelled: truncation only needs to know the item exists.
  items_.emplace_back(std::move(id), false);
  emit_json("conversation.item.added", {{"previous_item_id", previous}, {"item", item}});
  emit_json("conversation.item.done", {{"previous_item_id", std::move(previous)}, {"item", std::move(item)}});
}

void realtime_session::on_commit() {
  const std::uint64_t ms = uncommitted_bytes_ / input_bytes_per_ms(config_->input_format());
  if (ms < 100)
    return send_error("invalid_request_error", "input_audio_buffer_commit_empty",
                      fmt::format("Error committing input audio buffer: buffer too small. Expected at least 100ms "
                                  "of audio, but buffer only has {}.00ms of audio.",
                                  ms),
                      "");
  // A turn the VAD already announced keeps the item id from speech_started.
  const std::string item_id = vad_.speaking() ? speech_item_id_ : next_item_id();
  vad_.reset();
  commit_user_audio(item_id);
}

void realtime_session::on_clear() {
  uncommitted_bytes_ = 0;
  vad_.reset();
  emit("input_audio_buffer.cleared", "");
}

// ---------------------------------------------------------------------------------------------
// Server VAD

void realtime_session::on_speech_started(std::int64_t window_start_ms) {
  const vad_params& vad = *config_->vad();
  const std::int64_t start_ms = std::max<std::int64_t>(0, window_start_ms - vad.prefix_padding_ms);
  speech_item_id_ = next_item_id();
  if (auto* probe = options_.probe.get()) probe->on_speech_started(number_);
  emit("input_audio_buffer.speech_started", R"(,"audio_start_ms":{},"item_id":"{}")", start_ms, speech_item_id_);
  update_record([&](session_snapshot& r) { r.speech.push_back({speech_item_id_, start_ms, -1}); });
  // The service announces the barge-in first, then cancels (protocols.md A4).
  if (active_ && vad.interrupt_response) cancel_response("turn_detected");
}

void realtime_session::on_speech_stopped(std::int64_t end_ms) {
  emit("input_audio_buffer.speech_stopped", R"(,"audio_end_ms":{},"item_id":"{}")", end_ms, speech_item_id_);
  update_record([&](session_snapshot& r) {
    if (!r.speech.empty()) r.speech.back().audio_end_ms = end_ms;
  });
  commit_user_audio(speech_item_id_);
  // With a response still playing and interrupt_response off, the new turn gets no automatic answer.
  if (config_->vad()->create_response && !active_) answer_turn();
}

void realtime_session::commit_user_audio(const std::string& item_id) {
  const std::uint64_t audio_ms = uncommitted_bytes_ / input_bytes_per_ms(config_->input_format());
  uncommitted_bytes_ = 0;
  const std::string previous = previous_item_json();
  const std::string item = fmt::format(
      R"({{"id":"{}","object":"realtime.item","type":"message","status":"completed","role":"user","content":[{{"type":"input_audio","transcript":null}}]}})",
      item_id);
  emit("input_audio_buffer.committed", R"(,"previous_item_id":{},"item_id":"{}")", previous, item_id);
  items_.emplace_back(item_id, false);
  emit("conversation.item.added", R"(,"previous_item_id":{},"item":{})", previous, item);
  emit("conversation.item.done", R"(,"previous_item_id":{},"item":{})", previous, item);
  ++user_turns_;
  if (!config_->transcription_enabled()) return;
  const std::string transcript = fmt::format("Caller utterance {}", user_turns_);
  const std::uint64_t audio_tokens = audio_ms / 100 + 1;
  emit("conversation.item.input_audio_transcription.delta", R"(,"item_id":"{}","content_index":0,"delta":"{}")",
       item_id, transcript);
  emit("conversation.item.input_audio_transcription.completed",
       R"(,"item_id":"{}","content_index":0,"transcript":"{}","usage":{{"type":"tokens","total_tokens":{},"input_tokens":{},"input_token_details":{{"text_tokens":0,"audio_tokens":{}}},"output_tokens":3}})",
       item_id, transcript, audio_tokens + 3, audio_tokens, audio_tokens);
}

// ---------------------------------------------------------------------------------------------
// Responses

void realtime_session::answer_turn() {
  const scripted_tool_call* call = due_tool_call(script_, user_turns_, declared_);
  if (!call) {
    start_response("vad", {});
    return start_item();
  }
  if (call->tool != end_call_tool) {
    start_response("tool_call", {});
    call_tool(*call);
    return finish_response("completed", "");
  }
  // The goodbye is said in the same response, before the call.
  const scripted_tool_call end_call = *call;
  start_response("end_call", {}, std::string(goodbye_text));
  active_->call_after_audio = end_call;
  start_item();
}

// A function_call output item, whole, at the active response's next output index (protocols.md A6).
void realtime_session::call_tool(const scripted_tool_call& call) {
  response_state& r = *active_;
  const tool_call_record record{fmt::format("call_sim{}_{}", number_, ++tool_calls_made_), call.tool,
                                call.arguments_json, user_turns_};
  const std::string item_id = next_item_id();
  const json::value previous = items_.empty() ? json::value(nullptr) : json::value(items_.back().id);
  items_.emplace_back(item_id, false);
  json::object item{{"id", item_id},         {"object", "realtime.item"}, {"type", "function_call"},
                    {"status", "in_progress"}, {"name", call.tool},         {"call_id", record.call_id},
                    {"arguments", ""}};
  emit_json("response.output_item.added", {{"response_id", r.id}, {"output_index", r.item}, {"item", item}});
  emit_json("conversation.item.added", {{"previous_item_id", previous}, {"item", item}});
  const json::object where{{"response_id", r.id}, {"item_id", item_id}, {"output_index", r.item}, {"call_id", record.call_id}};
  const auto [first, second] = halves(call.arguments_json);
  for (const std::string_view delta : {first, second}) {
    json::object fields = where;
    fields["delta"] = delta;
    emit_json("response.function_call_arguments.delta", std::move(fields));
  }
  json::object done = where;
  done["name"] = call.tool;
  done["arguments"] = call.arguments_json;
  emit_json("response.function_call_arguments.done", std::move(done));
  item["status"] = "completed";
  item["arguments"] = call.arguments_json;
  emit_json("response.output_item.done", {{"response_id", r.id}, {"output_index", r.item}, {"item", item}});
  emit_json("conversation.item.done", {{"previous_item_id", previous}, {"item", item}});
  r.output.push_back(std::move(item));
  ++r.item;
  update_record([&](session_snapshot& s) { s.tool_calls.push_back(record); });
}

void realtime_session::start_response(std::string_view trigger, std::string instructions, std::string first_text) {
  response_state r;
  r.first_text = std::move(first_text);
  r.index = responses_started_++;
  r.id = fmt::format("resp_{}_{}", number_, r.index + 1);
  update_record([&](session_snapshot& s) {
    r.record_slot = s.responses.size();
    response_record rec;
    rec.id = r.id;
    rec.index = r.index;
    rec.trigger = trigger;
    rec.instructions = std::move(instructions);
    s.responses.push_back(std::move(rec));
  });
  active_ = std::move(r);
  emit_json("response.created", {{"response", response_object("in_progress", "")}});
}

void realtime_session::start_item() {
  response_state& r = *active_;
  r.item_id = next_item_id();
  r.chunk = 0;
  r.item_bytes = 0;
  r.transcript = canned_speech(r.item == 0 && !r.first_text.empty() ? r.first_text : assistant_reply_text(r.index, r.item));
  const std::string previous = previous_item_json();
  items_.emplace_back(r.item_id, true);
  items_.back().response = r.index;
  r.conversation_index = items_.size() - 1;
  update_record([&](session_snapshot& s) {
    s.responses[r.record_slot].item_ids.push_back(r.item_id);
    s.responses[r.record_slot].item_bytes.push_back(0);
  });
  const std::string item = fmt::format(
      R"({{"id":"{}","object":"realtime.item","type":"message","status":"in_progress","role":"assistant","content":[]}})",
      r.item_id);
  emit("response.output_item.added", R"(,"response_id":"{}","output_index":{},"item":{})", r.id, r.item, item);
  emit("conversation.item.added", R"(,"previous_item_id":{},"item":{})", previous, item);
  emit("response.content_part.added",
       R"(,"response_id":"{}","item_id":"{}","output_index":{},"content_index":0,"part":{{"type":"audio","transcript":""}})",
       r.id, r.item_id, r.item);
  schedule_first_chunk();
}

void realtime_session::on_tick() {
  if (!active_) return;
  send_words_due();
  send_delta();
  response_state& r = *active_;
  if (r.chunk < state_->deltas.chunks_per_item()) return schedule_next_chunk();
  finish_item("completed");
  if (r.call_after_audio) {
    ++r.item;
    call_tool(*std::exchange(r.call_after_audio, std::nullopt));
    return finish_response("completed", "");
  }
  if (++r.item < options_.audio_items_per_response)
    start_item();
  else
    finish_response("completed", "");
}

void realtime_session::send_words_due() {
  response_state& r = *active_;
  while (const auto word = r.transcript.next_due(r.chunk, state_->deltas.chunks_per_item()))
    emit("response.output_audio_transcript.delta",
         R"(,"response_id":"{}","item_id":"{}","output_index":{},"content_index":0,"delta":"{}")", r.id, r.item_id,
         r.item, *word);
}

void realtime_session::send_delta() {
  response_state& r = *active_;
  const std::uint64_t len = state_->deltas.chunk_len(r.chunk);
  emit("response.output_audio.delta",
       R"(,"response_id":"{}","item_id":"{}","output_index":{},"content_index":0,"delta":"{}")", r.id, r.item_id,
       r.item, audio_chunk(r.index, r.item, r.chunk));
  ++r.chunk;
  r.item_bytes += len;
  r.total_bytes += len;
  items_[r.conversation_index].audio_bytes += len;
  update_record([&](session_snapshot& s) { s.responses[r.record_slot].item_bytes.back() = r.item_bytes; });
}

void realtime_session::finish_item(std::string_view status) {
  response_state& r = *active_;
  const std::string_view transcript = r.transcript.spoken();
  const std::string previous =
      r.conversation_index == 0 ? "null" : fmt::format("\"{}\"", items_[r.conversation_index - 1].id);
  const std::string item = fmt::format(
      R"({{"id":"{}","object":"realtime.item","type":"message","status":"{}","role":"assistant","content":[{{"type":"output_audio","transcript":"{}"}}]}})",
      r.item_id, status, transcript);
  emit("response.output_audio.done", R"(,"response_id":"{}","item_id":"{}","output_index":{},"content_index":0)",
       r.id, r.item_id, r.item);
  emit("response.output_audio_transcript.done",
       R"(,"response_id":"{}","item_id":"{}","output_index":{},"content_index":0,"transcript":"{}")", r.id,
       r.item_id, r.item, transcript);
  emit("response.content_part.done",
       R"(,"response_id":"{}","item_id":"{}","output_index":{},"content_index":0,"part":{{"type":"audio","transcript":"{}"}})",
       r.id, r.item_id, r.item, transcript);
  emit("response.output_item.done", R"(,"response_id":"{}","output_index":{},"item":{})", r.id, r.item, item);
  emit("conversation.item.done", R"(,"previous_item_id":{},"item":{})", previous, item);
  r.words_total += r.transcript.released();
  r.output.push_back({{"id", r.item_id},
                      {"object", "realtime.item"},
                      {"type", "message"},
                      {"status", status},
                      {"role", "assistant"},
                      {"content", json::array{json::object{{"type", "output_audio"}, {"transcript", unescaped(transcript)}}}}});
  update_record([&](session_snapshot& s) { s.responses[r.record_slot].transcript += unescaped(transcript); });
}

void realtime_session::finish_response(std::string_view status, std::string_view reason) {
  emit_json("response.done", {{"response", response_object(status, reason)}});
  update_record([&](session_snapshot& s) {
    s.responses[active_->record_slot].status = status;
    s.responses[active_->record_slot].cancel_reason = reason;
  });
  active_.reset();
}

void realtime_session::cancel_response(std::string_view reason) {
  response_state& r = *active_;
  // Deltas the service had already sent when the cancel reached it.
  for (std::uint32_t i = 0; i < options_.late_deltas_after_cancel && r.chunk < state_->deltas.chunks_per_item() &&
                            !client_lagging();
       ++i)
    send_delta();
  finish_item("incomplete");
  finish_response("cancelled", reason);
}

json::object realtime_session::response_object(std::string_view status, std::string_view reason) const {
  const response_state& r = *active_;
  const auto& audio_output = config_->json().at("audio").at("output").as_object();
  json::value details = nullptr;
  if (!reason.empty()) details = json::object{{"type", status}, {"reason", reason}};
  json::value usage = nullptr;
  if (status != "in_progress") {
    // Plausible numbers (about 20 audio tokens per second of output), not the service's billing.
    const std::uint64_t audio_tokens = r.total_bytes / 8 / 50;
    const std::uint64_t input_audio = 10ULL * user_turns_;
    usage = json::object{
        {"total_tokens", 100 + input_audio + r.words_total + audio_tokens},
        {"input_tokens", 100 + input_audio},
        {"output_tokens", r.words_total + audio_tokens},
        {"input_token_details", {{"text_tokens", 100}, {"audio_tokens", input_audio}}},
        {"output_token_details", {{"text_tokens", r.words_total}, {"audio_tokens", audio_tokens}}},
    };
  }
  return {{"object", "realtime.response"},
          {"id", r.id},
          {"status", status},
          {"status_details", std::move(details)},
          {"output", r.output},
          {"conversation_id", fmt::format("conv_{}", number_)},
          {"output_modalities", json::array{"audio"}},
          {"max_output_tokens", "inf"},
          {"audio", {{"output", {{"format", audio_output.at("format")}, {"voice", audio_output.at("voice")}}}}},
          {"usage", std::move(usage)},
          {"metadata", nullptr}};
}


// ---------------------------------------------------------------------------------------------
// Output

void realtime_session::send_session_updated() {
  update_record([&](session_snapshot& r) {
    r.effective_session = json::serialize(config_->json());
    r.input_format = config_->input_format();
    r.output_format = config_->output_format();
  });
  emit_json("session.updated", {{"session", config_->json()}});
}

void realtime_session::send_error(std::string_view type, std::string_view code, std::string_view message,
                             std::string_view param) {
  error_record e{std::string(type), std::string(code), std::string(message), std::string(param), client_event_id_};
  const auto or_null = [](std::string_view s) { return s.empty() ? json::value(nullptr) : json::value(s); };
  emit_json("error", {{"error",
                       {{"type", type},
                        {"code", or_null(code)},
                        {"message", message},
                        {"param", or_null(param)},
                        {"event_id", or_null(client_event_id_)}}}});
  update_record([&](session_snapshot& r) { r.errors.push_back(std::move(e)); });
}

std::string realtime_session::next_item_id() { return fmt::format("item_{}_{}", number_, ++item_seq_); }

std::string realtime_session::previous_item_json() const {
  return items_.empty() ? std::string("null") : fmt::format("\"{}\"", items_.back().id);
}

realtime_session::conversation_item* realtime_session::find_item(std::string_view id) {
  const auto it = std::find_if(items_.rbegin(), items_.rend(), [id](const auto& item) { return item.id == id; });
  return it == items_.rend() ? nullptr : &*it;
}

}  // namespace mb::simulator
