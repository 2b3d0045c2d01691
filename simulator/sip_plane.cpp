#include "simulator/sip_plane.hpp"

#include <deque>
#include <functional>
#include <stdexcept>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "net/http_client.hpp"
#include "simulator/canned_speech.hpp"
#include "simulator/sim_state.hpp"

namespace mb::simulator {
namespace {

namespace json = boost::json;
using protocol::sip_runtime;

constexpr int webhook_timeout_ms = 5000;
constexpr std::size_t max_webhook_reply_bytes = 64 * 1024;
// Per call: sideband client events and texts kept (the rest are counted by sessions() only).
constexpr std::size_t max_recorded_per_call = 4096;
// Simulated speech: each word of a transcript lasts this long on the conversation clock.
constexpr std::int64_t word_ms = 250;

net::plain_http_response openai_error(unsigned status, std::string_view type, std::string_view code,
                                      std::string_view message) {
  return {.status = status,
          .content_type = "application/json",
          .body = json::serialize(json::object{
              {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}})};
}

net::plain_http_response call_not_found(std::string_view id) {
  return openai_error(404, "invalid_request_error", "call_id_not_found", fmt::format("Call '{}' not found.", id));
}

net::plain_http_response bad_request(std::string_view code, std::string_view message) {
  return openai_error(400, "invalid_request_error", code, message);
}

net::plain_http_response ok_empty() { return {.status = 200, .content_type = "application/json", .body = "{}"}; }

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The words of `text`, every one but the first with its leading space, so they concatenate to it.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto next = text.find(' ', start + 1);
    words.emplace_back(text.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start));
    start = next == std::string_view::npos ? text.size() : next;
  }
  return words;
}

void push_bounded(std::vector<std::string>& log, std::string text) {
  if (log.size() < max_recorded_per_call) log.push_back(std::move(text));
}

// The call's record and live side under the caller's lock; null when the id is unknown.
std::pair<sip_call_snapshot*, sip_call_state*> find_call(upstream_simulator::state& state, std::string_view id) {
  const auto it = state.sip_live.find(std::string(id));
  if (it == state.sip_live.end()) return {nullptr, nullptr};
  return {&state.sip_records[it->second.record], &it->second};
}

// ---------------------------------------------------------------------------------------------
// The sideband

class sip_sideband : public sim_session {
 public:
  sip_sideband(state_ptr state, asio::any_io_executor strand, std::uint64_t number, sip_sideband_target target)
      : sim_session(std::move(state), std::move(strand), number,
                    target.runtime == sip_runtime::live ? upstream::provider_kind::openai_live
                                                        : upstream::provider_kind::openai_realtime),
        runtime_(target.runtime),
        call_id_(std::move(target.call_id)) {}

  // The call ended: GPT-Live says session.closed {reason} first (when `reason` is not empty), then
  // the sideband closes 1000. Any thread.
  void end(std::string reason) {
    asio::post(strand(), [self = std::static_pointer_cast<sip_sideband>(shared_from_this()), reason = std::move(reason)] {
      self->steps_.clear();
      if (self->runtime_ == sip_runtime::live && !reason.empty())
        self->emit_json("session.closed",
                        {{"reason", reason},
                         {"usage", {{"seconds", std::chrono::duration<double>(clock::now() - self->started_).count()}}}});
      self->close_now({1000, ""});
    });
  }

 private:
  struct step {
    std::chrono::milliseconds delay;
    std::function<void()> act;
  };

  void open(session_snapshot& record) override { record.session_id = call_id_; }

  void opened() override {
    {
      std::lock_guard lock(state_->mutex);
      auto [record, live] = find_call(*state_, call_id_);
      if (record) {
        live->sideband = weak_from_this();
        ++record->sideband_connects;
        record->sideband_open = true;
        next_turn_ = record->turns_done;
      }
    }
    state_->changed.notify_all();
    if (runtime_ == sip_runtime::realtime)
      emit_json("session.created",
                {{"session", {{"object", "realtime.session"}, {"type", "realtime"}, {"id", call_id_}}}});
    plan_turn();
  }

  void reading_ended() override {
    steps_.clear();
    {
      std::lock_guard lock(state_->mutex);
      auto [record, live] = find_call(*state_, call_id_);
      if (record && live->sideband.lock().get() == this) record->sideband_open = false;
    }
    state_->changed.notify_all();
  }

  void on_tick() override {
    armed_ = false;
    if (steps_.empty()) return;
    step next = std::move(steps_.front());
    steps_.pop_front();
    ticking_ = true;
    next.act();
    ticking_ = false;
    if (!steps_.empty()) arm();
  }

  void send_error(std::string_view type, std::string_view code, std::string_view message,
                  std::string_view param) override {
    emit_json("error", {{"error", {{"type", type}, {"code", code}, {"message", message}, {"param", param}}}});
  }

  void handle_event(std::string_view type, simdjson::dom::object event) override {
    update_call([&](sip_call_snapshot& r, sip_call_state&) { push_bounded(r.received_types, std::string(type)); });
    if (runtime_ == sip_runtime::realtime)
      realtime_event(type, event);
    else
      live_event(type, event);
  }

  // --- the script ---

  template <class F>
  void update_call(F&& f) {
    {
      std::lock_guard lock(state_->mutex);
      auto [record, live] = find_call(*state_, call_id_);
      if (record) f(*record, *live);
    }
    state_->changed.notify_all();
  }

  void arm() {
    armed_ = true;
    schedule_tick(clock::now() + steps_.front().delay);
  }

  void then(std::uint32_t delay_ms, std::function<void()> act) {
    steps_.push_back({std::chrono::milliseconds(delay_ms), std::move(act)});
    if (!armed_ && !ticking_) arm();
  }

  // The conversation clock: `ms` of simulated speech from now on; returns where it started.
  std::int64_t advance_clock(std::int64_t ms) {
    std::int64_t start = 0;
    update_call([&](sip_call_snapshot&, sip_call_state& live) {
      start = live.clock_ms;
      live.clock_ms += ms;
    });
    return start;
  }

  [[nodiscard]] const sip_script& script() const { return options_.sip_conversation; }

  // The next scripted caller turn, unless the script is over or waits for a tool's result.
  void plan_turn() {
    if (awaiting_result_) return;
    if (next_turn_ >= script().turns.size()) {
      if (script().caller_hangs_up_after_script) then(script().turn_gap_ms, [this] { caller_hangs_up(); });
      return;
    }
    const std::uint32_t turn = next_turn_ + 1;
    const sip_script_turn& scripted = script().turns[next_turn_];
    const std::uint32_t gap = script().word_gap_ms;
    for (const char key : scripted.dtmf) then(gap, [this, key] { send_dtmf(key); });
    const std::string caller =
        scripted.caller_text.empty() ? fmt::format("Caller utterance {}", turn) : scripted.caller_text;
    if (runtime_ == sip_runtime::realtime)
      plan_realtime_caller(turn, caller);
    else
      plan_live_caller(caller);
    const scripted_tool_call* call = nullptr;
    for (const auto& c : script().tool_calls)
      if (c.turn == turn) call = &c;
    if (call) {
      then(gap, [this, call = *call, turn] {
        call_tool(call, turn);
        awaiting_result_ = true;
        finish_turn();
      });
    } else {
      respond(scripted.assistant_text, [this] { finish_turn(); });
    }
  }

  // As upstream_simulator::end_sip_call, from the sideband's own strand.
  void caller_hangs_up() {
    update_call([](sip_call_snapshot& r, sip_call_state&) {
      r.ended = true;
      r.ended_by = "caller";
    });
    end("remote_hangup");
  }

  void finish_turn() {
    ++next_turn_;
    update_call([](sip_call_snapshot& r, sip_call_state&) { ++r.turns_done; });
    if (!awaiting_result_) then(script().turn_gap_ms, [this] { plan_turn(); });
  }

  void send_dtmf(char key) {
    const std::string event(1, key);
    if (runtime_ == sip_runtime::realtime)
      emit_json("input_audio_buffer.dtmf_event_received", {{"event", event}, {"received_at", unix_now_s()}});
    else
      emit_json("transport.dtmf.received", {{"event", event}});
  }

  void plan_realtime_caller(std::uint32_t turn, const std::string& text) {
    const std::string item_id = fmt::format("item_{}_caller{}", number_, turn);
    const auto words = static_cast<std::int64_t>(words_of(text).size());
    then(script().turn_gap_ms, [this, item_id, words] {
      const std::int64_t start = advance_clock(words * word_ms);
      speech_start_ms_ = start;
      emit_json("input_audio_buffer.speech_started", {{"audio_start_ms", start}, {"item_id", item_id}});
    });
    then(static_cast<std::uint32_t>(words) * script().word_gap_ms, [this, item_id, words, text] {
      emit_json("input_audio_buffer.speech_stopped",
                {{"audio_end_ms", speech_start_ms_ + words * word_ms}, {"item_id", item_id}});
      emit_json("input_audio_buffer.committed", {{"previous_item_id", nullptr}, {"item_id", item_id}});
      emit_json("conversation.item.input_audio_transcription.completed",
                {{"item_id", item_id}, {"content_index", 0}, {"transcript", text}});
    });
  }

  void plan_live_caller(const std::string& text) {
    bool first = true;
    for (auto& word : words_of(text)) {
      then(first ? script().turn_gap_ms : script().word_gap_ms, [this, word] {
        const std::int64_t start = advance_clock(word_ms);
        emit_json("session.input_transcript.delta", {{"delta", word}, {"start_ms", start}, {"end_ms", start + word_ms}});
      });
      first = false;
    }
  }

  // An assistant response speaking `text` ("" = "This is simulated reply number N."); `done` runs
  // with its last event, so a listener that saw that event finds the record already updated.
  void respond(std::string text, std::function<void()> done = {}) {
    auto spoken = std::make_shared<std::string>(std::move(text));
    auto ids = std::make_shared<std::pair<std::string, std::string>>();  // response id, item id
    then(script().word_gap_ms, [this, spoken, ids, done = std::move(done)]() mutable {
      std::uint32_t index = 0;
      update_call([&](sip_call_snapshot&, sip_call_state& live) { index = live.responses++; });
      if (spoken->empty()) *spoken = assistant_reply_text(index, 0);
      *ids = {fmt::format("resp_{}_{}", number_, index + 1), fmt::format("item_{}_reply{}", number_, index + 1)};
      const bool realtime = runtime_ == sip_runtime::realtime;
      if (realtime) {
        emit_json("response.created", {{"response", response_object(ids->first, "in_progress", json::array{})}});
        emit_json("response.output_item.added",
                  {{"response_id", ids->first}, {"output_index", 0}, {"item", assistant_item(ids->second, "in_progress", "")}});
      }
      auto words = words_of(*spoken);
      for (std::size_t i = 0; i < words.size(); ++i) {
        const bool last = i + 1 == words.size();
        then(script().word_gap_ms, [this, word = std::move(words[i]), ids, spoken, realtime, last, done] {
          send_reply_word(ids->first, ids->second, word);
          if (!last) return;
          if (realtime) finish_realtime_reply(ids->first, ids->second, *spoken);
          if (done) done();
        });
      }
    });
  }

  void send_reply_word(const std::string& response_id, const std::string& item_id, const std::string& word) {
    if (runtime_ == sip_runtime::live) {
      const std::int64_t start = advance_clock(word_ms);
      emit_json("session.output_transcript.delta", {{"delta", word}, {"start_ms", start}, {"end_ms", start + word_ms}});
      return;
    }
    emit_json("response.output_audio_transcript.delta", {{"response_id", response_id},
                                                         {"item_id", item_id},
                                                         {"output_index", 0},
                                                         {"content_index", 0},
                                                         {"delta", word}});
  }

  void finish_realtime_reply(const std::string& response_id, const std::string& item_id, const std::string& text) {
    emit_json("response.output_audio_transcript.done", {{"response_id", response_id},
                                                        {"item_id", item_id},
                                                        {"output_index", 0},
                                                        {"content_index", 0},
                                                        {"transcript", text}});
    json::object item = assistant_item(item_id, "completed", text);
    emit_json("response.output_item.done", {{"response_id", response_id}, {"output_index", 0}, {"item", item}});
    emit_json("response.done", {{"response", response_object(response_id, "completed", json::array{std::move(item)})}});
  }

  static json::object assistant_item(const std::string& id, std::string_view status, std::string_view transcript) {
    json::array content;
    if (!transcript.empty()) content.push_back(json::object{{"type", "output_audio"}, {"transcript", transcript}});
    return {{"id", id},         {"object", "realtime.item"}, {"type", "message"},
            {"status", status}, {"role", "assistant"},       {"content", std::move(content)}};
  }

  static json::object response_object(const std::string& id, std::string_view status, json::array output) {
    return {{"object", "realtime.response"}, {"id", id}, {"status", status}, {"output", std::move(output)}};
  }

  // Realtime: a response whose output is the function_call; GPT-Live: a Responses delegation whose
  // wrapped response.output_item.done carries it (as live_session does).
  void call_tool(const scripted_tool_call& call, std::uint32_t turn) {
    const std::uint32_t n = ++tool_calls_made_;
    const tool_call_record record{fmt::format("call_sip{}_{}", number_, n), call.tool, call.arguments_json, turn};
    json::object item{{"id", fmt::format("fc_{}_{}", number_, n)},
                      {"type", "function_call"},
                      {"status", "completed"},
                      {"call_id", record.call_id},
                      {"name", call.tool},
                      {"arguments", call.arguments_json}};
    if (runtime_ == sip_runtime::realtime) {
      const std::string response_id = fmt::format("resp_{}_tool{}", number_, n);
      emit_json("response.created", {{"response", response_object(response_id, "in_progress", json::array{})}});
      emit_json("response.output_item.added", {{"response_id", response_id}, {"output_index", 0}, {"item", item}});
      emit_json("response.function_call_arguments.done", {{"response_id", response_id},
                                                          {"item_id", item.at("id")},
                                                          {"output_index", 0},
                                                          {"call_id", record.call_id},
                                                          {"name", call.tool},
                                                          {"arguments", call.arguments_json}});
      emit_json("response.output_item.done", {{"response_id", response_id}, {"output_index", 0}, {"item", item}});
      emit_json("response.done", {{"response", response_object(response_id, "completed", json::array{item})}});
    } else {
      const std::string delegation_id = fmt::format("del_{}_{}", number_, n);
      emit_json("session.delegation.created",
                {{"offset_ms", advance_clock(0)},
                 {"delegation",
                  {{"id", delegation_id}, {"type", "delegation"}, {"target", "responses"}, {"response_id", fmt::format("resp_{}_tool{}", number_, n)}}}});
      emit_json("response.event", {{"delegation_id", delegation_id},
                                   {"event",
                                    {{"type", "response.output_item.done"},
                                     {"output_index", 0},
                                     {"sequence_number", 1},
                                     {"item", std::move(item)}}}});
    }
    update_call([&](sip_call_snapshot& r, sip_call_state&) { r.tool_calls.push_back(record); });
  }

  // A function_call_output item (Realtime conversation.item.create, GPT-Live response.item.create).
  void take_tool_result(simdjson::dom::object item) {
    std::string_view call_id;
    std::string_view output;
    if (item["call_id"].get_string().get(call_id) || item["output"].get_string().get(output))
      return send_error("invalid_request_error", "missing_required_parameter",
                        "A function_call_output item needs call_id and output.", "item");
    update_call([&](sip_call_snapshot& r, sip_call_state& live) {
      if (r.tool_results.size() < max_recorded_per_call) r.tool_results.push_back({std::string(call_id), std::string(output)});
      live.pending_answer = unescaped(tool_answer_text(output));
    });
  }

  // The bridge asked for a response: about a tool's result when one came (then the script goes on),
  // otherwise a plain reply (a greeting).
  void answer_response_create() {
    std::string answer;
    update_call([&](sip_call_snapshot&, sip_call_state& live) { answer = std::exchange(live.pending_answer, {}); });
    respond(std::move(answer));
    if (awaiting_result_) {
      awaiting_result_ = false;
      then(script().turn_gap_ms, [this] { plan_turn(); });
    }
  }

  void realtime_event(std::string_view type, simdjson::dom::object event) {
    if (type == "session.update") {
      simdjson::dom::object session;
      if (event["session"].get_object().get(session))
        return send_error("invalid_request_error", "missing_required_parameter", "Missing 'session'.", "session");
      json::error_code ec;
      json::value echoed = json::parse(simdjson::minify(session), ec);
      if (ec || !echoed.is_object()) return;
      echoed.get_object()["id"] = call_id_;
      emit_json("session.updated", {{"session", std::move(echoed)}});
    } else if (type == "response.create") {
      update_call([&](sip_call_snapshot& r, sip_call_state&) { push_bounded(r.response_creates, frame_); });
      answer_response_create();
    } else if (type == "conversation.item.create") {
      simdjson::dom::object item;
      if (event["item"].get_object().get(item))
        return send_error("invalid_request_error", "missing_required_parameter", "Missing 'item'.", "item");
      std::string_view item_type;
      if (item["type"].get_string().get(item_type)) item_type = "message";
      if (item_type == "function_call_output") return take_tool_result(item);
      simdjson::dom::array content;
      if (item["content"].get_array().get(content)) return;
      for (const auto part : content) {
        std::string_view text;
        if (!part["text"].get_string().get(text))
          update_call([&](sip_call_snapshot& r, sip_call_state&) { push_bounded(r.context_texts, std::string(text)); });
      }
    }
  }

  void live_event(std::string_view type, simdjson::dom::object event) {
    constexpr std::string_view append_prefix = "session.";
    constexpr std::string_view append_suffix = ".append";
    if (type == "session.instructions.append" || type == "session.commentary.append" ||
        type == "session.thinking.append") {
      std::string_view content;
      if (event["content"].get_string().get(content))
        return send_error("invalid_request_error", "missing_required_parameter", "Missing 'content'.", "content");
      update_call([&](sip_call_snapshot& r, sip_call_state&) { push_bounded(r.context_texts, std::string(content)); });
      const std::string_view kind =
          type.substr(append_prefix.size(), type.size() - append_prefix.size() - append_suffix.size());
      const std::int64_t now_ms = advance_clock(0);
      const json::value client_event_id =
          client_event_id_.empty() ? json::value(nullptr) : json::value(client_event_id_);
      emit_json(fmt::format("session.{}.appended", kind),
                {{"client_event_id", client_event_id}, {"start_ms", now_ms}, {"end_ms", now_ms}});
      if (kind != "thinking") respond({});
    } else if (type == "response.item.create") {
      simdjson::dom::object item;
      std::string_view item_type;
      if (!event["item"].get_object().get(item) && !item["type"].get_string().get(item_type) &&
          item_type == "function_call_output")
        take_tool_result(item);
    } else if (type == "response.create") {
      answer_response_create();
    } else if (type == "session.close") {
      steps_.clear();
      emit_json("session.closed", {{"reason", "close_requested"}});
      close_now({1000, ""});
    }
  }

  const sip_runtime runtime_;
  const std::string call_id_;
  std::deque<step> steps_;
  bool armed_ = false;
  bool ticking_ = false;
  bool awaiting_result_ = false;  // a scripted tool call waits for the bridge's result and response.create
  std::uint32_t next_turn_ = 0;   // 0-based index of the next scripted turn
  std::uint32_t tool_calls_made_ = 0;
  std::int64_t speech_start_ms_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The control plane

std::optional<json::object> json_body(std::string_view body) {
  if (body.empty()) return json::object{};
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// What a control request does to its call; `to_end` is set when the call's sideband must close.
net::plain_http_response decide(upstream_simulator::state& state, const sip_control_target& target,
                                const std::string& body, std::shared_ptr<sim_session>& to_end) {
  auto [record, live] = find_call(state, target.call_id);
  if (!record || record->ended) return call_not_found(target.call_id);
  const auto fields = json_body(body);
  if (!fields) return bad_request("invalid_json", "The body is not a JSON object.");
  switch (target.action) {
    case sip_action::accept: {
      if (++record->accept_attempts <= state.options.sip_accept_failures) return call_not_found(target.call_id);
      // A repeated accept (a client retrying after a timeout) takes the same call again.
      if (record->accepted_runtime == target.runtime) return ok_empty();
      if (record->accepted_runtime)
        return openai_error(409, "invalid_request_error", "call_already_accepted", "The call was already accepted.");
      const bool typed = target.runtime == sip_runtime::realtime
                             ? fields->contains("type") && fields->at("type") == "realtime"
                             : fields->contains("session") && fields->at("session").is_object() &&
                                   fields->at("session").as_object().contains("type") &&
                                   fields->at("session").as_object().at("type") == "live";
      if (!typed) return bad_request("missing_required_parameter", "The session's type is missing or wrong.");
      record->accepted_runtime = target.runtime;
      record->accept_body = body;
      return ok_empty();
    }
    case sip_action::reject: {
      if (record->accepted_runtime)
        return openai_error(409, "invalid_request_error", "call_already_accepted", "The call was already accepted.");
      int status = 603;  // the Realtime API's default
      if (const auto* code = fields->if_contains("status_code")) {
        if (!code->is_int64() || code->as_int64() < 300 || code->as_int64() > 699)
          return bad_request("invalid_value", "status_code must be an integer from 300 to 699.");
        status = static_cast<int>(code->as_int64());
      } else if (target.runtime == sip_runtime::live) {
        return bad_request("missing_required_parameter", "Missing required parameter: 'status_code'.");
      }
      record->reject_status = status;
      record->ended = true;
      record->ended_by = "reject";
      return ok_empty();
    }
    case sip_action::refer: {
      if (!record->accepted_runtime)
        return openai_error(409, "invalid_request_error", "call_not_accepted", "The call was not accepted.");
      const auto* uri = fields->if_contains("target_uri");
      if (!uri || !uri->is_string() || std::string_view(uri->as_string()).find_first_not_of(' ') == std::string_view::npos)
        return bad_request("missing_required_parameter", "Missing required parameter: 'target_uri'.");
      if (record->refers.size() < max_recorded_per_call) record->refers.emplace_back(uri->as_string());
      return ok_empty();
    }
    case sip_action::hangup: {
      ++record->hangups;
      record->ended = true;
      record->ended_by = "hangup";
      to_end = live->sideband.lock();
      return ok_empty();
    }
  }
  return ok_empty();
}

net::awaitable<net::plain_http_response> answer_control(state_ptr state, const sip_control_target& target,
                                                        net::plain_http_request request) {
  if (!has_bearer_token(request.head.header("Authorization")))
    co_return openai_error(401, "invalid_request_error", "invalid_api_key", "Missing bearer authentication.");
  std::shared_ptr<sim_session> to_end;
  net::plain_http_response response;
  {
    std::lock_guard lock(state->mutex);
    response = decide(*state, target, request.body, to_end);
    if (auto [record, live] = find_call(*state, target.call_id); record && record->requests.size() < max_recorded_per_call)
      record->requests.push_back({target.runtime, target.action, request.body, response.status});
  }
  state->changed.notify_all();
  if (to_end) std::static_pointer_cast<sip_sideband>(to_end)->end({});
  if (target.action == sip_action::accept && state->options.sip_accept_delay_ms > 0)
    co_await delay_reply(state, std::chrono::milliseconds(state->options.sip_accept_delay_ms));
  co_return response;
}

// The webhooks of one call, one after the other, each one's status recorded.
net::awaitable<void> deliver_webhooks(state_ptr state, std::string call_id) {
  for (std::size_t i = 0;; ++i) {
    std::string body;
    std::string webhook_id;
    std::string url;
    std::string secret;
    {
      std::lock_guard lock(state->mutex);
      const auto [record, live] = find_call(*state, call_id);
      if (!record || i >= record->webhooks.size() || state->stopping) co_return;
      body = record->webhooks[i].body;
      webhook_id = record->webhooks[i].webhook_id;
      url = state->sip_webhook_url;
      secret = state->sip_webhook_secret;
    }
    auto headers = secret.empty() ? std::vector<std::pair<std::string, std::string>>{}
                                  : standard_webhook_headers_for(secret, webhook_id, unix_now_s(), body);
    headers.emplace_back("Content-Type", "application/json");
    const net::http_response reply = co_await net::http_request("POST", std::move(url), std::move(headers),
                                                                std::move(body), nullptr, webhook_timeout_ms,
                                                                max_webhook_reply_bytes);
    {
      std::lock_guard lock(state->mutex);
      auto [record, live] = find_call(*state, call_id);
      record->webhooks[i].status = reply.status;
      record->webhooks[i].failure = reply.failure;
    }
    state->changed.notify_all();
  }
}

// A new call and its record; its webhooks go out in the background. nullopt when max_sip_calls were placed.
std::optional<std::string> place_call(const state_ptr& state, sip_call_request request) {
  std::string id;
  bool webhooks = false;
  {
    std::lock_guard lock(state->mutex);
    if (state->sip_records.size() >= max_sip_calls) return std::nullopt;
    const std::size_t n = state->sip_records.size() + 1;
    id = fmt::format("rtc_sim{}", n);
    sip_call_snapshot record;
    record.call_id = id;
    record.from = request.from;
    record.to = request.to;
    record.sip_headers = {{"From", fmt::format("<sip:{}@127.0.0.1>;tag=sim{}", request.from, n)},
                          {"To", fmt::format("<sip:{}@sip.api.openai.com>", request.to)}};
    for (auto& h : request.sip_headers) record.sip_headers.push_back(std::move(h));
    webhooks = !state->sip_webhook_url.empty();
    if (webhooks) {
      std::size_t k = 0;
      for (const auto type : incoming_event_types(state->options.sip_events)) {
        ++k;
        const std::string event_id = fmt::format("evt_sim{}_{}", n, k);
        record.webhooks.push_back({.event_type = std::string(type),
                                   .webhook_id = fmt::format("wh_sim{}_{}", n, k),
                                   .body = incoming_webhook_body(type, event_id, id, unix_now_s(), record.sip_headers),
                                   .status = 0,
                                   .failure = {}});
      }
    }
    sip_call_state live;
    live.record = state->sip_records.size();
    state->sip_live.emplace(id, std::move(live));
    state->sip_records.push_back(std::move(record));
  }
  state->changed.notify_all();
  if (webhooks)
    asio::co_spawn(asio::make_strand(state->ioc), deliver_webhooks(state, id), [](const std::exception_ptr& e) {
      if (e) spdlog::error("simulator: SIP webhook delivery ended by an exception");
    });
  return id;
}

}  // namespace

net::awaitable<net::plain_http_response> answer_sip_http(state_ptr state, net::plain_http_request request) {
  if (request.method != "POST")
    co_return openai_error(405, "invalid_request_error", "method_not_allowed", "Use POST.");
  if (request.head.target == sim_sip_invite_path) {
    const auto fields = json_body(request.body);
    const auto* uri = fields ? fields->if_contains("uri") : nullptr;
    if (!uri || !uri->is_string()) co_return bad_request("invalid_value", "Expected {\"uri\":\"sip:…\",\"from\",\"to\"}.");
    auto invite = parse_sip_invite_uri(uri->as_string());
    if (!invite) co_return bad_request("invalid_value", "The uri is not a sip: URI with valid headers.");
    sip_call_request call{.sip_headers = std::move(invite->headers)};
    for (auto [name, field] : {std::pair{"from", &call.from}, std::pair{"to", &call.to}})
      if (const auto* v = fields->if_contains(name); v && v->is_string()) field->assign(v->as_string());
    const auto id = place_call(state, std::move(call));
    if (!id) co_return openai_error(503, "server_error", "too_many_calls", "The simulator keeps no more calls.");
    co_return net::plain_http_response{.status = 200,
                                       .content_type = "application/json",
                                       .body = json::serialize(json::object{{"call_id", *id}})};
  }
  const auto target = parse_sip_control_target(request.head.target);
  if (!target) co_return openai_error(404, "invalid_request_error", "not_found", "Unknown control request.");
  co_return co_await answer_control(std::move(state), *target, std::move(request));
}

unsigned sideband_refusal(upstream_simulator::state& state, const sip_sideband_target& target,
                          std::string_view authorization) {
  constexpr unsigned unauthorized = 401;
  constexpr unsigned not_found = 404;
  if (!has_bearer_token(authorization)) return unauthorized;
  std::lock_guard lock(state.mutex);
  const auto [record, live] = find_call(state, target.call_id);
  if (!record || record->ended || record->accepted_runtime != target.runtime) return not_found;
  return 0;
}

std::shared_ptr<sim_session> make_sideband_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number,
                                                   sip_sideband_target target) {
  return std::make_shared<sip_sideband>(std::move(state), std::move(strand), number, std::move(target));
}

// ---------------------------------------------------------------------------------------------
// upstream_simulator's SIP API

std::string upstream_simulator::place_sip_call(sip_call_request request) {
  (void)endpoint();  // throws before listen()
  auto id = place_call(state_, std::move(request));
  if (!id) throw std::logic_error("upstream simulator: too many SIP calls");
  return std::move(*id);
}

std::vector<sip_call_snapshot> upstream_simulator::sip_calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->sip_records;
}

bool upstream_simulator::wait_for_sip(const std::function<bool(const std::vector<sip_call_snapshot>&)>& pred,
                                      std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return pred(state_->sip_records); });
}

void upstream_simulator::drop_sideband(std::string_view call_id) {
  std::shared_ptr<sim_session> sideband;
  {
    std::lock_guard lock(state_->mutex);
    if (auto [record, live] = find_call(*state_, call_id); live) sideband = live->sideband.lock();
  }
  if (sideband) sideband->drop();
}

void upstream_simulator::end_sip_call(std::string_view call_id) {
  std::shared_ptr<sim_session> sideband;
  {
    std::lock_guard lock(state_->mutex);
    auto [record, live] = find_call(*state_, call_id);
    if (!record || record->ended) return;
    record->ended = true;
    record->ended_by = "caller";
    sideband = live->sideband.lock();
  }
  state_->changed.notify_all();
  if (sideband) std::static_pointer_cast<sip_sideband>(sideband)->end("remote_hangup");
}

std::string upstream_simulator::sip_uri() const {
  constexpr std::string_view scheme = "http://";
  return "sip:proj@" + endpoint().substr(scheme.size()) + ";transport=tls";
}

void upstream_simulator::set_sip_webhook(std::string url, std::string secret) {
  std::lock_guard lock(state_->mutex);
  state_->sip_webhook_url = std::move(url);
  state_->sip_webhook_secret = std::move(secret);
}

}  // namespace mb::simulator
