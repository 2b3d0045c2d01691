#include "simulator/live_session.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

// The fields each client event may carry; any other is an unknown_parameter.
struct event_fields {
  std::string_view type;
  std::array<std::string_view, 2> fields;  // besides type and event_id; "" = none
};

constexpr std::array<event_fields, 11> client_events = {{
    {"session.start", {"session", ""}},
    {"session.update", {"session", ""}},
    {"session.input_audio.append", {"audio", ""}},
    {"session.input_audio.mute", {"", ""}},
    {"session.input_audio.unmute", {"", ""}},
    {"session.instructions.append", {"content", "delegation_id"}},
    {"session.thinking.append", {"content", "delegation_id"}},
    {"session.commentary.append", {"content", "delegation_id"}},
    {"response.item.create", {"item", ""}},
    {"response.create", {"", ""}},
    {"session.close", {"", ""}},
}};

const event_fields* find_event(std::string_view type) {
  for (const auto& e : client_events)
    if (e.type == type) return &e;
  return nullptr;
}

// The first field of `event` that its type does not allow, or "".
std::string_view unknown_field(const event_fields& allowed, simdjson::dom::object event) {
  for (const auto field : event) {
    const std::string_view key = field.key;
    if (key == "type" || key == "event_id") continue;
    if (std::find(allowed.fields.begin(), allowed.fields.end(), key) == allowed.fields.end()) return key;
  }
  return {};
}

bool is_g711(std::string_view format) { return format == "audio/pcmu" || format == "audio/pcma"; }

}  // namespace

live_session::live_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number,
                   upstream::provider_kind provider)
    : sim_session(std::move(state), std::move(strand), number, provider), script_(options_.tool_call_script) {}

void live_session::end(std::string reason) {
  asio::post(strand(), [self = std::static_pointer_cast<live_session>(shared_from_this()),
                                 reason = std::move(reason)] {
    if (self->phase_ == phase::active || self->phase_ == phase::closing) self->send_closed(reason);
  });
}

void live_session::open(session_snapshot& record) {
  record.session_id = fmt::format("live_sim{:06}", number_);
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  config_.emplace(record.session_id, now_s + options_.session_lifetime_s);
}

// ---------------------------------------------------------------------------------------------
// Client events

void live_session::handle_event(std::string_view type, simdjson::dom::object event) {
  const event_fields* allowed = find_event(type);
  if (phase_ == phase::awaiting_start && type != "session.start")
    return reject_event(fmt::format("The first event must be 'session.start', not '{}'.", type), "type");
  if (!allowed)
    return reject_event("Unknown event type; supported: 'session.start', 'session.update', "
                        "'session.input_audio.append', 'session.input_audio.mute', 'session.input_audio.unmute', "
                        "'session.instructions.append', 'session.thinking.append', 'session.commentary.append', "
                        "'response.item.create', 'response.create' and 'session.close'.",
                        "type");
  if (const auto field = unknown_field(*allowed, event); !field.empty()) {
    const config_error error = unknown(std::string(field));
    if (phase_ == phase::awaiting_start) return reject_start(error.code, error.message, error.param);
    return send_config_error(error);
  }
  if (phase_ == phase::closed) return;
  if (phase_ == phase::closing) {
    // The service finishes what it is saying and takes no new commands.
    if (type != "session.input_audio.append" && type != "session.close")
      send_error("invalid_request_error", "invalid_event", "The session is closing.", "");
    std::string_view audio;
    if (type == "session.input_audio.append" && !event["audio"].get_string().get(audio)) take_audio(audio);
    return;
  }

  if (type == "session.input_audio.append") {
    on_append(event);
  } else if (type == "session.start") {
    on_start();
  } else if (type == "session.update") {
    on_update();
  } else if (type == "session.instructions.append") {
    on_text_append("instructions", event);
  } else if (type == "session.thinking.append") {
    on_text_append("thinking", event);
  } else if (type == "session.commentary.append") {
    on_text_append("commentary", event);
  } else if (type == "session.input_audio.mute" || type == "session.input_audio.unmute") {
    on_mute(type == "session.input_audio.mute");
  } else if (type == "session.close") {
    on_close_requested();
  } else {
    on_response_command(type, event);
  }
}

void live_session::reject_event(std::string_view message, std::string_view param) {
  send_error("invalid_request_error", "invalid_event", message, param);
  // Before session.started there is no session to keep: a startup error ends the connection.
  if (phase_ == phase::awaiting_start) close_now({1008, "session not started"});
}

void live_session::on_start() {
  const auto event = event_object(&session_snapshot::session_starts);
  if (!event) return;
  if (phase_ != phase::awaiting_start)
    return send_error("invalid_request_error", "invalid_event", "The session has already started.", "type");
  const json::value* session = event->if_contains("session");
  const auto error = session ? config_->start(*session) : std::optional(missing("session"));
  if (error) return reject_start(error->code, error->message, error->param);
  if (!options_.force_output_format.empty()) config_->force_format(options_.force_output_format);
  phase_ = phase::active;
  vad_.configure(vad_params{});
  refresh_tools();
  if (const auto& instructions = config_->json().at("instructions"); instructions.is_string())
    if (auto script = script_in_instructions(instructions.get_string())) script_ = std::move(*script);
  reply_to_configuration([this] { send_started(); });
}

void live_session::reject_start(std::string_view code, std::string_view message, std::string_view param) {
  send_error("invalid_request_error", code, message, param);
  close_now({1008, "session.start rejected"});
}

void live_session::send_started() {
  if (phase_ != phase::active) return;
  update_record([&](session_snapshot& r) {
    r.session_started = true;
    r.model = config_->model();
    r.effective_session = json::serialize(config_->json());
    r.input_format = r.output_format = config_->format();
  });
  emit_json("session.started", {{"session", config_->json()}});
}

void live_session::on_update() {
  const auto event = event_object(&session_snapshot::session_updates);
  if (!event) return;
  const json::value* session = event->if_contains("session");
  if (!session) return send_config_error(missing("session"));
  if (auto error = config_->update(*session)) return send_config_error(*error);
  refresh_tools();
  update_record([&](session_snapshot& r) { r.effective_session = json::serialize(config_->json()); });
  emit_json("session.updated", {{"session", config_->json()}});
}

void live_session::on_append(simdjson::dom::object event) {
  std::string_view audio;
  if (event["audio"].get_string().get(audio)) return send_config_error(missing("audio"));
  if (!take_audio(audio))
    return send_error("invalid_request_error", "invalid_value", "Invalid 'audio': expected base64-encoded audio.",
                      "audio");
  const std::string& bytes = decoded_;
  const std::string& format = config_->format();
  const std::span<const std::uint8_t> heard(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  const auto rate = static_cast<std::uint32_t>(config_->rate());
  // Muted audio only advances the clock: 16-bit PCM has rate / 8000 two-byte samples per 8 kHz sample.
  if (muted_) return vad_.skip(is_g711(format) ? bytes.size() : bytes.size() / 2 * 8000 / rate);
  const auto started = [this](std::int64_t ms) { on_speech_started(ms); };
  const auto stopped = [this](std::int64_t ms) { on_speech_stopped(ms); };
  if (is_g711(format)) return vad_.push(heard, format == "audio/pcma", started, stopped);
  vad_.push_pcm16(heard, rate, started, stopped);
}

void live_session::on_text_append(std::string_view kind, simdjson::dom::object event) {
  append_record append{std::string(kind), {}, std::nullopt};
  simdjson::dom::element content_element;
  simdjson::dom::element delegation;
  std::string_view content;
  if (event["content"].get(content_element)) return send_config_error(missing("content"));
  if (content_element.get_string().get(content)) return send_config_error(invalid_type("content", "a string"));
  if (event["delegation_id"].get(delegation)) return send_config_error(missing("delegation_id"));
  if (!delegation.is_null()) {
    std::string_view id;
    if (delegation.get_string().get(id)) return send_config_error(invalid_type("delegation_id", "a string or null"));
    append.delegation_id.emplace(id);
  }
  append.content.assign(content);
  update_record([&](session_snapshot& r) {
    r.appends.push_back(append);
    r.context_texts.push_back(append.content);
  });
  const std::int64_t now_ms = vad_.elapsed_ms();
  const json::value client_event_id = client_event_id_.empty() ? json::value(nullptr) : json::value(client_event_id_);
  emit_json(fmt::format("session.{}.appended", kind),
            {{"client_event_id", client_event_id}, {"start_ms", now_ms}, {"end_ms", now_ms}});
  // Instructions and commentary are spoken (a greeting, an answer); thinking is silent context.
  if (kind != "thinking" && !turn_) start_turn(kind, std::move(append.content));
}

void live_session::on_mute(bool muted) {
  muted_ = muted;
  emit(muted ? "session.input_audio.muted" : "session.input_audio.unmuted", "");
}

void live_session::on_response_command(std::string_view type, simdjson::dom::object event) {
  if (config_->json().at("delegation").at("type").as_string() != "responses")
    return send_error("invalid_request_error", "invalid_event",
                      fmt::format("'{}' needs Responses delegation; this session delegates to the client.", type),
                      "type");
  if (type == "response.create") {
    // The delegated response resumes with the results it was given; anything else it is not simulated.
    if (!answer_text_.empty() && !turn_) start_turn("tool", {}, std::exchange(answer_text_, {}));
    return;
  }
  simdjson::dom::object item;
  if (event["item"].get_object().get(item)) return send_config_error(missing("item"));
  std::string_view item_type;
  if (item["type"].get_string().get(item_type) || item_type != "function_call_output") return;
  std::string_view call_id;
  std::string_view output;
  if (item["call_id"].get_string().get(call_id)) return send_config_error(missing("item.call_id"));
  if (item["output"].get_string().get(output)) return send_config_error(missing("item.output"));
  answer_text_ = tool_answer_text(output);
  update_record([&](session_snapshot& r) { r.tool_results.push_back({std::string(call_id), std::string(output)}); });
}

void live_session::refresh_tools() {
  const auto& delegation = config_->json().at("delegation").as_object();
  const auto* responses = delegation.if_contains("responses");
  const auto* tools = responses && responses->is_object() ? responses->get_object().if_contains("tools") : nullptr;
  declared_ = tools ? function_tools(*tools) : std::vector<declared_tool>{};
  update_record([&](session_snapshot& r) { r.declared_tools = declared_; });
}

void live_session::answer_turn() {
  const scripted_tool_call* call = due_tool_call(script_, user_turns_, declared_);
  if (!call) return start_turn("vad", {});
  if (call->tool != end_call_tool) return delegate_tool_call(*call);
  const scripted_tool_call end_call = *call;
  start_turn("end_call", {}, std::string(goodbye_text));
  turn_->call_after = end_call;
}

// A Responses delegation whose response calls the tool (providers.md 1.7): the function_call item
// arrives whole in the wrapped response.output_item.done.
void live_session::delegate_tool_call(const scripted_tool_call& call) {
  const std::uint32_t n = ++tool_calls_made_;
  const tool_call_record record{fmt::format("call_sim{}_{}", number_, n), call.tool, call.arguments_json, user_turns_};
  const std::string delegation_id = fmt::format("del_sim{}_{}", number_, n);
  const std::string response_id = fmt::format("resp_sim{}_{}", number_, n);
  emit_json("session.delegation.created",
            {{"offset_ms", vad_.elapsed_ms()},
             {"delegation", {{"id", delegation_id}, {"type", "delegation"}, {"target", "responses"}, {"response_id", response_id}}}});
  json::object item{{"id", fmt::format("fc_sim{}_{}", number_, n)},
                    {"type", "function_call"},
                    {"status", "completed"},
                    {"call_id", record.call_id},
                    {"name", call.tool},
                    {"arguments", call.arguments_json}};
  emit_json("response.event",
            {{"delegation_id", delegation_id},
             {"event", {{"type", "response.output_item.done"}, {"output_index", 0}, {"sequence_number", 1}, {"item", std::move(item)}}}});
  update_record([&](session_snapshot& r) { r.tool_calls.push_back(record); });
}

void live_session::on_close_requested() {
  phase_ = phase::closing;
  if (!turn_) send_closed("close_requested");
}

// ---------------------------------------------------------------------------------------------
// The caller's speech

void live_session::on_speech_started(std::int64_t window_start_ms) {
  speech_heard_ms_ = window_start_ms + energy_vad::window_ms;
  if (auto* probe = options_.probe.get()) probe->on_speech_started(number_);
  update_record([&](session_snapshot& r) { r.speech.push_back({"", window_start_ms, -1}); });
  emit("session.input_transcript.delta", R"(,"delta":"Caller","start_ms":{},"end_ms":{})", window_start_ms,
       speech_heard_ms_);
  // Talked over, the model stops by itself, a few chunks later at most.
  if (turn_ && !turn_->deltas_before_stop) {
    if (options_.late_deltas_after_cancel == 0) return finish_turn("interrupted");
    turn_->deltas_before_stop = options_.late_deltas_after_cancel;
  }
}

void live_session::on_speech_stopped(std::int64_t end_ms) {
  update_record([&](session_snapshot& r) {
    if (!r.speech.empty()) r.speech.back().audio_end_ms = end_ms;
  });
  ++user_turns_;
  // end_ms includes the silence that ended the turn; the words end where the speech did.
  const std::int64_t speech_end_ms = std::max(speech_heard_ms_, end_ms - vad_params{}.silence_duration_ms);
  emit("session.input_transcript.delta", R"(,"delta":" utterance {}","start_ms":{},"end_ms":{})", user_turns_,
       speech_heard_ms_, speech_end_ms);
  if (!turn_) answer_turn();
}

// ---------------------------------------------------------------------------------------------
// Model turns

void live_session::start_turn(std::string_view trigger, std::string content, std::string spoken) {
  turn_state t;
  t.index = responses_started_++;
  t.start_ms = std::max(vad_.elapsed_ms(), output_end_ms_);
  t.transcript = canned_speech(spoken.empty() ? assistant_reply_text(t.index, 0) : std::move(spoken));
  update_record([&](session_snapshot& s) {
    t.record_slot = s.responses.size();
    response_record rec;
    rec.id = fmt::format("turn_{}_{}", number_, t.index + 1);
    rec.index = t.index;
    rec.trigger = trigger;
    rec.instructions = std::move(content);
    rec.item_bytes.push_back(0);
    s.responses.push_back(std::move(rec));
  });
  turn_ = std::move(t);
  schedule_first_chunk();
}

void live_session::on_tick() {
  if (!turn_) return;
  send_words_due();
  send_delta();
  turn_state& t = *turn_;
  if (t.deltas_before_stop && --*t.deltas_before_stop == 0) return finish_turn("interrupted");
  if (t.chunk < chunks_per_turn()) return schedule_next_chunk();
  finish_turn("completed");
}

void live_session::send_words_due() {
  turn_state& t = *turn_;
  const std::uint64_t chunks = chunks_per_turn();
  for (;;) {
    const std::uint64_t word = t.transcript.released();
    const auto text = t.transcript.next_due(t.chunk, chunks);
    if (!text) return;
    const std::uint64_t words = t.transcript.words();
    emit("session.output_transcript.delta", R"(,"delta":"{}","start_ms":{},"end_ms":{})", *text,
         t.start_ms + chunk_start_ms(canned_speech::due_chunk(word, words, chunks)),
         t.start_ms + chunk_start_ms(canned_speech::due_chunk(word + 1, words, chunks)));
    update_record([&](session_snapshot& s) { s.responses[t.record_slot].transcript += unescaped(*text); });
  }
}

void live_session::send_delta() {
  turn_state& t = *turn_;
  const std::uint32_t per_item = state_->deltas.chunks_per_item();
  const std::uint32_t item = t.chunk / per_item;
  const std::uint32_t chunk = t.chunk % per_item;
  const std::uint64_t len = state_->deltas.chunk_len(chunk);
  // The chunk geometry is in 8 kHz samples; confirmed as audio/pcm, the turn is 16-bit PCM at that rate.
  const auto rate = static_cast<std::uint32_t>(config_->rate());
  const std::string_view audio =
      is_g711(config_->format())
          ? audio_chunk(t.index, item, chunk)
          : pcm_chunk(t.index, state_->deltas.chunk_offset(item, chunk) * rate / 8000, len * rate / 8000, rate);
  if (options_.live_audio_timing)
    emit("session.output_audio.delta", R"(,"delta":"{}","start_ms":{},"end_ms":{})", audio,
         t.start_ms + chunk_start_ms(t.chunk), t.start_ms + chunk_start_ms(t.chunk + 1));
  else
    emit("session.output_audio.delta", R"(,"delta":"{}")", audio);
  ++t.chunk;
  t.bytes += len;
  update_record([&](session_snapshot& s) { s.responses[t.record_slot].item_bytes.back() = t.bytes; });
}

void live_session::finish_turn(std::string_view status) {
  const turn_state& t = *turn_;
  output_end_ms_ = t.start_ms + static_cast<std::int64_t>(t.bytes / 8);
  update_record([&](session_snapshot& s) { s.responses[t.record_slot].status = status; });
  const std::optional<scripted_tool_call> call_after = status == "completed" ? t.call_after : std::nullopt;
  turn_.reset();
  if (phase_ == phase::closing) return send_closed("close_requested");
  if (call_after) delegate_tool_call(*call_after);
}

std::uint64_t live_session::chunks_per_turn() const {
  return std::uint64_t{state_->deltas.chunks_per_item()} * options_.audio_items_per_response;
}

std::int64_t live_session::chunk_start_ms(std::uint64_t chunk) const {
  const std::uint32_t per_item = state_->deltas.chunks_per_item();
  const auto item = static_cast<std::uint32_t>(chunk / per_item);
  const auto offset = state_->deltas.chunk_offset(item, static_cast<std::uint32_t>(chunk % per_item));
  return static_cast<std::int64_t>(offset / 8);
}

// ---------------------------------------------------------------------------------------------
// Output

void live_session::send_closed(std::string_view reason) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(clock::now() - started_).count();
  update_record([&](session_snapshot& r) { r.closed_reason = reason; });
  emit_json("session.closed", {{"reason", reason}, {"session", config_->json()}, {"usage", {{"seconds", seconds}}}});
  phase_ = phase::closed;
  turn_.reset();
  close_now({1000, ""});
}

bool live_session::accepts_injected_errors() const { return phase_ == phase::active || phase_ == phase::closing; }

void live_session::send_error(std::string_view type, std::string_view code, std::string_view message,
                              std::string_view param) {
  error_record e{std::string(type), std::string(code), std::string(message), std::string(param), client_event_id_};
  json::object error{{"type", type}, {"code", code}, {"message", message}};
  if (!param.empty()) error["param"] = param;
  if (!client_event_id_.empty()) error["client_event_id"] = client_event_id_;
  emit_json("error", {{"error", std::move(error)}});
  update_record([&](session_snapshot& r) { r.errors.push_back(std::move(e)); });
}

}  // namespace mb::simulator
