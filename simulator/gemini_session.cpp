#include "simulator/gemini_session.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mb::simulator {
namespace {

namespace json = boost::json;

constexpr std::uint32_t output_rate_hz = 24000;
constexpr std::size_t max_close_reason = 120;  // a close frame's reason holds 123 bytes

// A close reason built from peer input: printable ASCII, truncated.
std::string close_reason_text(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, max_close_reason))
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

}  // namespace

gemini_session::gemini_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number)
    : sim_session(std::move(state), strand, number, upstream::provider_kind::gemini_live),
      lifetime_timer_(std::move(strand)),
      script_(options_.tool_call_script) {
  set_chunk_audio_ms(options_.gemini_chunk_ms);
}

void gemini_session::go_away(std::chrono::milliseconds time_left) {
  asio::post(strand(), [self = std::static_pointer_cast<gemini_session>(shared_from_this()), time_left] {
    self->send_go_away(time_left);
  });
}

void gemini_session::open(session_snapshot& record) { record.session_id = fmt::format("gsess_sim{:06}", number_); }

// ---------------------------------------------------------------------------------------------
// Client messages

void gemini_session::handle_message(simdjson::dom::object message) {
  std::string_view kind;
  std::size_t members = 0;
  for (const auto field : message)
    if (members++ == 0) kind = field.key;
  note_received(members == 1 ? kind : std::string_view{});
  if (phase_ == phase::closed) return;
  if (members != 1) return refuse(1007, "Invalid JSON payload received: a message has exactly one member.");
  if (phase_ == phase::awaiting_setup && kind != "setup")
    return refuse(1007, "Invalid JSON payload received: the first message must be setup.");
  if (kind == "setup") {
    if (phase_ != phase::awaiting_setup) return refuse(1007, "Invalid JSON payload received: setup was already sent.");
    return on_setup();
  }
  simdjson::dom::object body;
  if (message.at_key(kind).get_object().get(body))
    return refuse(1007, "Invalid JSON payload received: a message's member must be an object.");
  if (kind == "realtimeInput") return on_realtime_input(body);
  if (kind == "clientContent") return on_client_content(body);
  if (kind == "toolResponse") return on_tool_response(body);
  refuse(1007, "Invalid JSON payload received: unknown message; expected setup, clientContent, realtimeInput or "
               "toolResponse.");
}

void gemini_session::reject_event(std::string_view message, std::string_view) {
  refuse(1007, fmt::format("Invalid JSON payload received: {}", message));
}

void gemini_session::on_setup() {
  const std::string_view raw(frame_.data(), frame_.size());
  update_record([&](session_snapshot& r) { r.setups.emplace_back(raw); });
  boost::system::error_code ec;
  const json::value message = json::parse(raw, ec);
  if (ec || !message.is_object()) return refuse(1007, "Invalid JSON payload received.");
  gemini_setup setup;
  if (auto error = parse_gemini_setup(message.get_object().at("setup"), setup))
    return refuse(1007, error->message);

  if (setup.resume_handle.empty()) {
    conversation_ = std::make_shared<gemini_conversation>();
    conversation_->id = fmt::format("conv_{}", state_->next_conversation.fetch_add(1));
  } else {
    std::lock_guard lock(state_->mutex);
    const auto it = state_->resumption_handles.find(setup.resume_handle);
    const bool valid = !options_.gemini_refuse_resumption && it != state_->resumption_handles.end() &&
                       std::chrono::steady_clock::now() < it->second->handle_expires;
    if (valid) conversation_ = it->second;
  }
  if (!conversation_) return refuse(1008, "The session resumption handle is unknown or has expired.");

  const json::object& setup_fields = message.get_object().at("setup").get_object();
  if (const auto* tools = setup_fields.if_contains("tools")) declared_ = gemini_function_declarations(*tools);
  if (const auto* instruction = setup_fields.if_contains("systemInstruction"); instruction && instruction->is_object())
    if (const auto* parts = instruction->get_object().if_contains("parts"); parts && parts->is_array()) {
      std::string text;
      for (const auto& part : parts->get_array())
        if (part.is_object() && part.get_object().contains("text") && part.at("text").is_string())
          text.append(part.at("text").get_string()).push_back('\n');
      if (auto script = script_in_instructions(text)) script_ = std::move(*script);
    }
  setup_ = std::move(setup);
  phase_ = phase::active;
  vad_.configure(vad_params{});
  update_record([&](session_snapshot& r) {
    r.model = setup_.model;
    r.conversation = conversation_->id;
    r.resumed_with = setup_.resume_handle;
    r.declared_tools = declared_;
  });
  reply_to_configuration([this] {
    if (phase_ != phase::active) return;
    update_record([](session_snapshot& r) { r.setup_complete = true; });
    send_text(fmt::format(R"({{"setupComplete":{{"sessionId":"{}"}}}})", fmt::format("gsess_sim{:06}", number_)));
    // The service hands out a handle early, so a connection told to go away before any turn can resume.
    send_resumption_update();
    if (options_.gemini_go_away_after_ms > 0)
      arm_lifetime(std::chrono::milliseconds(options_.gemini_go_away_after_ms), true);
  });
}

void gemini_session::on_realtime_input(simdjson::dom::object input) {
  if (std::string_view text; !input["text"].get_string().get(text))
    update_record([&](session_snapshot& r) { r.context_texts.emplace_back(text); });
  simdjson::dom::object audio;
  if (input["audio"].get_object().get(audio)) return;  // audioStreamEnd, text, activity markers: nothing more to do
  std::string_view mime_type;
  std::string_view data;
  if (audio["mimeType"].get_string().get(mime_type) || audio["data"].get_string().get(data))
    return refuse(1007, "Invalid JSON payload received: realtimeInput.audio needs mimeType and data.");
  const auto rate = pcm_mime_rate(mime_type);
  if (!rate || !energy_vad::pcm_rate_supported(*rate))
    return refuse(1007, "Unsupported realtimeInput.audio.mimeType; send audio/pcm;rate=16000.");
  if (!take_audio(data)) return refuse(1007, "Invalid realtimeInput.audio.data: expected base64.");
  vad_.push_pcm16({reinterpret_cast<const std::uint8_t*>(decoded_.data()), decoded_.size()}, *rate,
                  [this](std::int64_t) { on_speech_started(); }, [this](std::int64_t) { on_speech_stopped(); });
}

void gemini_session::on_client_content(simdjson::dom::object content) {
  std::vector<std::string> texts;
  if (simdjson::dom::array turns; !content["turns"].get_array().get(turns))
    for (const auto turn : turns)
      if (simdjson::dom::array parts; !turn["parts"].get_array().get(parts))
        for (const auto part : parts)
          if (std::string_view text; !part["text"].get_string().get(text)) texts.emplace_back(text);
  update_record([&](session_snapshot& r) {
    r.client_contents.emplace_back(frame_.data(), frame_.size());
    r.context_texts.insert(r.context_texts.end(), texts.begin(), texts.end());
  });
  bool turn_complete = false;
  if (content["turnComplete"].get_bool().get(turn_complete) || !turn_complete) return;
  if (reply_) interrupt_reply();
  start_reply("client_content");
}

void gemini_session::refuse(std::uint16_t code, std::string_view reason) {
  std::string text = close_reason_text(reason);
  update_record([&](session_snapshot& r) {
    r.errors.push_back({"", std::to_string(code), text, "", ""});
    if (reply_) r.responses[reply_->record_slot].status = "cut";
  });
  reply_.reset();
  phase_ = phase::closed;
  lifetime_timer_.cancel();
  close_now({code, std::move(text)});
}

void gemini_session::reading_ended() {
  lifetime_timer_.cancel();
  if (reply_) update_record([&](session_snapshot& r) { r.responses[reply_->record_slot].status = "cut"; });
  reply_.reset();
  phase_ = phase::closed;
}

// ---------------------------------------------------------------------------------------------
// The caller's speech

void gemini_session::on_speech_started() {
  if (auto* probe = options_.probe.get()) probe->on_speech_started(number_);
  const std::int64_t at = vad_.elapsed_ms() - energy_vad::window_ms;
  update_record([&](session_snapshot& r) { r.speech.push_back({"", at, -1}); });
  if (setup_.input_transcription) send_text(R"({"serverContent":{"inputTranscription":{"text":"Caller"}}})");
  if (reply_) interrupt_reply();
  if (options_.gemini_cancel_tool_calls_on_barge_in) cancel_tool_calls();
}

void gemini_session::on_speech_stopped() {
  const std::int64_t at = vad_.elapsed_ms();
  update_record([&](session_snapshot& r) {
    if (!r.speech.empty()) r.speech.back().audio_end_ms = at;
  });
  std::uint32_t turn = 0;
  {
    std::lock_guard lock(state_->mutex);
    turn = ++conversation_->user_turns;
  }
  if (setup_.input_transcription)
    send_text(fmt::format(R"({{"serverContent":{{"inputTranscription":{{"text":" utterance {}","finished":true}}}}}})",
                          turn));
  if (!reply_) answer_turn(turn);
}

void gemini_session::answer_turn(std::uint32_t turn) {
  const scripted_tool_call* call = due_tool_call(script_, turn, declared_);
  if (!call) return start_reply("vad");
  if (call->tool != end_call_tool) return call_tool(*call, turn);
  const scripted_tool_call end_call = *call;
  start_reply("end_call", std::string(goodbye_text));
  reply_->call_after = end_call;
}

void gemini_session::call_tool(const scripted_tool_call& call, std::uint32_t turn) {
  const tool_call_record record{fmt::format("fc_sim{}_{}", number_, ++tool_calls_made_), call.tool,
                                call.arguments_json, turn};
  unanswered_calls_.push_back(record.call_id);
  send_text(fmt::format(R"({{"toolCall":{{"functionCalls":[{{"id":"{}","name":"{}","args":{}}}]}}}})", record.call_id,
                        call.tool, call.arguments_json));
  update_record([&](session_snapshot& r) { r.tool_calls.push_back(record); });
}

void gemini_session::cancel_tool_calls() {
  if (unanswered_calls_.empty()) return;
  json::array ids;
  for (const auto& id : unanswered_calls_) ids.emplace_back(id);
  send_text(json::serialize(json::object{{"toolCallCancellation", {{"ids", std::move(ids)}}}}));
  update_record([&](session_snapshot& r) {
    r.tool_cancellations.insert(r.tool_cancellations.end(), unanswered_calls_.begin(), unanswered_calls_.end());
  });
  unanswered_calls_.clear();
}

void gemini_session::on_tool_response(simdjson::dom::object response) {
  simdjson::dom::array responses;
  if (response["functionResponses"].get_array().get(responses))
    return refuse(1007, "Invalid JSON payload received: toolResponse.functionResponses must be an array.");
  std::vector<tool_result_record> results;
  for (const auto entry : responses) {
    std::string_view id;
    simdjson::dom::element output;
    if (entry["id"].get_string().get(id) || entry["response"].get(output))
      return refuse(1007, "Invalid JSON payload received: a function response needs id and response.");
    results.push_back({std::string(id), simdjson::minify(output)});
    std::erase(unanswered_calls_, results.back().call_id);
  }
  if (results.empty()) return;
  const std::string answer = tool_answer_text(results.back().output);
  update_record([&](session_snapshot& r) { r.tool_results.insert(r.tool_results.end(), results.begin(), results.end()); });
  if (!reply_) start_reply("tool_response", answer);
}

// ---------------------------------------------------------------------------------------------
// Replies

void gemini_session::start_reply(std::string_view trigger, std::string spoken) {
  reply_state reply;
  {
    std::lock_guard lock(state_->mutex);
    reply.index = conversation_->replies++;
  }
  ++responses_started_;
  reply.transcript = canned_speech(spoken.empty() ? assistant_reply_text(reply.index, 0) : std::move(spoken));
  update_record([&](session_snapshot& s) {
    reply.record_slot = s.responses.size();
    response_record rec;
    rec.id = fmt::format("reply_{}_{}", conversation_->id, reply.index + 1);
    rec.index = reply.index;
    rec.trigger = trigger;
    rec.item_bytes.push_back(0);
    s.responses.push_back(std::move(rec));
  });
  reply_ = std::move(reply);
  schedule_first_chunk();
}

void gemini_session::on_tick() {
  if (!reply_ || phase_ != phase::active) return;
  reply_state& r = *reply_;
  if (r.generated) return complete_turn();  // the tick armed for the end of playback
  if (r.chunk == 0) r.played_at = clock::now() + std::chrono::milliseconds(options_.response_ms);
  const std::uint64_t chunks = chunks_per_reply();
  while (const auto word = r.transcript.next_due(r.chunk, chunks)) {
    if (setup_.output_transcription)
      send_text(fmt::format(R"({{"serverContent":{{"outputTranscription":{{"text":"{}"}}}}}})", *word));
    update_record([&](session_snapshot& s) { s.responses[r.record_slot].transcript += unescaped(*word); });
  }
  const std::uint64_t offset = r.chunk * chunk_samples();
  const std::uint64_t samples = std::min(chunk_samples(), reply_samples() - offset);
  const std::string_view data = pcm_chunk(r.index, offset, samples, output_rate_hz);
  send([&](std::string& s) {
    fmt::format_to(std::back_inserter(s),
                   R"({{"serverContent":{{"modelTurn":{{"parts":[{{"inlineData":{{"mimeType":"audio/pcm;rate={}","data":"{}"}}}}]}}}}}})",
                   output_rate_hz, data);
  });
  ++r.chunk;
  update_record([&](session_snapshot& s) { s.responses[r.record_slot].item_bytes.back() = (offset + samples) * 2; });
  if (r.chunk < chunks) return schedule_next_chunk();
  finish_generation();
}

void gemini_session::finish_generation() {
  reply_state& r = *reply_;
  if (setup_.output_transcription) send_text(R"({"serverContent":{"outputTranscription":{"text":"","finished":true}}})");
  send_text(R"({"serverContent":{"generationComplete":true}})");
  r.generated = true;
  schedule_tick(std::max(r.played_at, clock::now()));
}

void gemini_session::complete_turn() {
  const reply_state& r = *reply_;
  send_text(R"({"serverContent":{"turnComplete":true}})");
  // Plausible numbers (25 audio tokens per second, as Gemini counts audio), not the service's billing.
  const std::uint64_t response_tokens = reply_samples() * 25 / output_rate_hz + r.transcript.words();
  const std::uint64_t prompt_tokens = 100 + 25ULL * r.index;
  send_text(fmt::format(
      R"({{"usageMetadata":{{"promptTokenCount":{},"responseTokenCount":{},"totalTokenCount":{},"responseTokensDetails":[{{"modality":"AUDIO","tokenCount":{}}}]}}}})",
      prompt_tokens, response_tokens, prompt_tokens + response_tokens, response_tokens));
  update_record([&](session_snapshot& s) { s.responses[r.record_slot].status = "completed"; });
  const std::optional<scripted_tool_call> call_after = r.call_after;
  reply_.reset();
  send_resumption_update();
  if (call_after) {
    std::uint32_t turn = 0;
    {
      std::lock_guard lock(state_->mutex);
      turn = conversation_->user_turns;
    }
    call_tool(*call_after, turn);
  }
}

void gemini_session::interrupt_reply() {
  send_text(R"({"serverContent":{"interrupted":true}})");
  send_text(R"({"serverContent":{"turnComplete":true}})");
  update_record([&](session_snapshot& s) { s.responses[reply_->record_slot].status = "interrupted"; });
  reply_.reset();
  send_resumption_update();
}

void gemini_session::send_resumption_update() {
  if (!setup_.resumption) return;
  std::string handle;
  {
    std::lock_guard lock(state_->mutex);
    gemini_conversation& c = *conversation_;
    handle = fmt::format("h_{}_{}", c.id, ++c.handles);
    // The two newest handles resume the conversation (gemini_conversation::previous_handle).
    if (!c.previous_handle.empty()) state_->resumption_handles.erase(c.previous_handle);
    c.previous_handle = std::move(c.latest_handle);
    state_->resumption_handles.emplace(handle, conversation_);
    c.latest_handle = handle;
    c.handle_expires = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.gemini_handle_lifetime_ms);
  }
  update_record([&](session_snapshot& s) { s.handles_sent.push_back(handle); });
  send_text(fmt::format(R"({{"sessionResumptionUpdate":{{"newHandle":"{}","resumable":true}}}})", handle));
}

// ---------------------------------------------------------------------------------------------
// Connection lifetime

void gemini_session::send_go_away(std::chrono::milliseconds time_left) {
  if (phase_ != phase::active || go_away_sent_) return;
  go_away_sent_ = true;
  update_record([](session_snapshot& s) { s.go_away_sent = true; });
  send_text(fmt::format(R"({{"goAway":{{"timeLeft":"{}"}}}})", duration_text(time_left)));
  arm_lifetime(time_left, false);
}

void gemini_session::arm_lifetime(std::chrono::milliseconds after, bool then_go_away) {
  lifetime_timer_.expires_after(after);
  lifetime_timer_.async_wait([self = std::static_pointer_cast<gemini_session>(shared_from_this()),
                              then_go_away](const error_code& ec) {
    if (ec || self->phase_ != phase::active) return;
    if (then_go_away) return self->send_go_away(std::chrono::milliseconds(self->options_.gemini_go_away_time_left_ms));
    if (self->reply_)
      self->update_record([&](session_snapshot& s) { s.responses[self->reply_->record_slot].status = "cut"; });
    self->reply_.reset();
    self->phase_ = phase::closed;
    self->close_now({1000, "connection lifetime reached"});
  });
}

// ---------------------------------------------------------------------------------------------
// Output

void gemini_session::send_error(std::string_view, std::string_view, std::string_view message, std::string_view) {
  // The service has no error message: it closes the connection and says why in the close frame.
  refuse(1011, message);
}

void gemini_session::send_text(std::string text) {
  send([&text](std::string& s) { s = std::move(text); });
}

std::uint64_t gemini_session::chunk_samples() const {
  return std::uint64_t{options_.gemini_chunk_ms} * output_rate_hz / 1000;
}

std::uint64_t gemini_session::reply_samples() const {
  return std::uint64_t{options_.response_ms} * output_rate_hz / 1000;
}

std::uint64_t gemini_session::chunks_per_reply() const {
  return (reply_samples() + chunk_samples() - 1) / chunk_samples();
}

}  // namespace mb::simulator
