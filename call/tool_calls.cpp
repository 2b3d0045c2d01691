#include "call/tool_calls.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "log/escape.hpp"

namespace mb::call {
namespace {

namespace json = boost::json;

// What an event keeps of a JSON text: at most max_tool_event_text_bytes, cut before a UTF-8
// continuation byte so the text stays valid.
std::string cut_text(std::string_view text) {
  if (text.size() <= max_tool_event_text_bytes) return std::string(text);
  std::size_t end = max_tool_event_text_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

std::string error_output(std::string_view error) {
  json::object o;
  o["error"] = error;
  return json::serialize(o);
}

// The webhook's answer as the model's output (compact JSON), or why it cannot be.
struct checked_output {
  std::string output;
  std::string error;
};

checked_output check_response(const webhook_response& response) {
  if (!response.failure.empty()) return {{}, "the webhook failed: " + response.failure};
  if (response.status < 200 || response.status > 299)
    return {{}, "the webhook answered HTTP " + std::to_string(response.status)};
  if (response.body.size() > max_tool_response_bytes)
    return {{}, "the webhook's answer is larger than " + std::to_string(max_tool_response_bytes) + " bytes"};
  json::error_code ec;
  const auto value = json::parse(response.body, ec);
  if (ec) return {{}, "the webhook's answer is not JSON"};
  return {json::serialize(value), {}};
}

}  // namespace

void tool_calls::configure(const call_tools_config& config) {
  tools_ = config.tools;
  max_in_flight_ = static_cast<std::size_t>(std::max(0, config.max_tool_calls_in_flight));
}

bool tool_calls::turn_pending(std::string_view turn) const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [&](const pending_call& p) { return p.outcome == fate::deliver && p.turn == turn; });
}

void tool_calls::deliver(std::string_view tool_call_id, std::string_view name, std::string_view turn,
                         const std::string& output, bool respond_allowed, upstream::adapter& adapter,
                         std::vector<action>& out) {
  // The model answers once every call of its turn has its result.
  const bool respond = respond_allowed && !turn_pending(turn);
  adapter.send_tool_result(tool_call_id, name, output, respond, commands_);
  for (auto& m : commands_) out.push_back(send_upstream_event{std::move(m)});
  commands_.clear();
}

void tool_calls::refuse(std::string_view tool_call_id, std::string_view name, std::string_view turn,
                        std::string error, std::vector<action>& out, upstream::adapter& adapter) {
  out.push_back(log_line{log_level::warn, "tool call " + log::escape_for_log(tool_call_id, log::name_bytes) + " to " +
                                              log::escape_for_log(name, log::name_bytes) + ": " + error});
  deliver(tool_call_id, name, turn, error_output(error), true, adapter, out);
  out.push_back(publish{tool_result{std::string(tool_call_id), std::string(name), false, {}, std::move(error), 0}});
}

void tool_calls::on_call(const upstream::event& ev, const call_identity& who, std::int64_t now_ms,
                         upstream::adapter& adapter, std::vector<action>& out) {
  // Both bounded by the adapters (protocol/tool_calls.hpp); the result must carry the id as it came.
  const std::string name(ev.tool_name);
  const std::string id(ev.tool_call_id);
  out.push_back(publish{tool_call{id, name, cut_text(ev.tool_arguments)}});

  const auto tool = std::find_if(tools_.begin(), tools_.end(),
                                 [&](const webhook_tool& t) { return t.declaration.name == ev.tool_name; });
  if (tool == tools_.end()) return refuse(id, name, ev.response_id, "unknown tool", out, adapter);
  if (pending_.size() >= max_in_flight_)
    return refuse(id, name, ev.response_id,
                  "too many tool calls in flight (at most " + std::to_string(max_in_flight_) + ")", out, adapter);
  if (ev.tool_arguments.size() > max_tool_arguments_bytes)
    return refuse(id, name, ev.response_id,
                  "arguments larger than " + std::to_string(max_tool_arguments_bytes) + " bytes", out, adapter);
  json::error_code ec;
  auto arguments = ev.tool_arguments.empty() ? json::value(json::object{}) : json::parse(ev.tool_arguments, ec);
  if (ec || !arguments.is_object()) return refuse(id, name, ev.response_id, "arguments are not a JSON object", out, adapter);

  json::object body;
  body["call_sid"] = who.call_sid;
  body["agent"] = who.agent;
  body["tool"] = name;
  body["tool_call_id"] = id;
  body["arguments"] = std::move(arguments);
  json::object parameters;
  // Our own parameters (the single-use stream token) are plumbing, not call data.
  if (who.parameters)
    for (const auto& [key, value] : *who.parameters)
      if (!key.starts_with("mb_")) parameters[key] = value;
  body["parameters"] = std::move(parameters);

  const auto request_id = next_request_id_++;
  const auto index = static_cast<std::size_t>(tool - tools_.begin());
  pending_.push_back({request_id, index, id, std::string(ev.response_id), now_ms, fate::deliver});
  out.push_back(invoke_tool{request_id, index, json::serialize(body)});
}

void tool_calls::on_cancelled(std::string_view tool_call_id, std::vector<action>& out) {
  for (auto& p : pending_)
    if (p.tool_call_id == tool_call_id && p.outcome == fate::deliver) {
      p.outcome = fate::cancelled;
      out.push_back(log_line{log_level::debug, "tool call " + log::escape_for_log(tool_call_id, log::name_bytes) +
                                                   " cancelled by the model: its result will be dropped"});
    }
}

void tool_calls::on_session_lost() {
  for (auto& p : pending_)
    if (p.outcome == fate::deliver) p.outcome = fate::session_lost;
  answer_owed_.clear();
}

void tool_calls::on_response_done(std::string_view response_id, bool other_response_active, upstream::adapter& adapter,
                                  std::vector<action>& out) {
  if (answer_owed_.empty() || answer_owed_ != response_id) return;
  answer_owed_.clear();
  if (other_response_active) return;
  adapter.request_response(commands_);
  for (auto& m : commands_) out.push_back(send_upstream_event{std::move(m)});
  commands_.clear();
}

void tool_calls::on_response(std::uint64_t request_id, const webhook_response& response,
                             std::string_view active_response, std::int64_t now_ms, upstream::adapter& adapter,
                             std::vector<action>& out) {
  const auto it = std::find_if(pending_.begin(), pending_.end(),
                               [&](const pending_call& p) { return p.request_id == request_id; });
  if (it == pending_.end()) return;
  const pending_call call = std::move(*it);
  pending_.erase(it);
  const auto& tool = tools_[call.tool_index];
  const auto& name = tool.declaration.name;
  auto [output, error] = check_response(response);
  tool_result result{call.tool_call_id, name, error.empty(), cut_text(output), {}, now_ms - call.started_ms};

  if (call.outcome != fate::deliver) {
    // A cancelled call's result is unwanted; the new session never saw a lost session's call, and a
    // result for an unknown call id would be an error there.
    const bool cancelled = call.outcome == fate::cancelled;
    if (!cancelled)
      out.push_back(log_line{log_level::info, "tool call " + log::escape_for_log(call.tool_call_id, log::name_bytes) +
                                                  " to " + name +
                                                  " answered after its upstream session was replaced: result dropped"});
    result.ok = false;
    result.output.clear();
    result.error = cancelled ? "cancelled by the model; the result was not sent"
                             : "the upstream session was replaced; the result was not sent";
    out.push_back(publish{std::move(result)});
    return;
  }
  if (!error.empty()) {
    out.push_back(log_line{log_level::warn, "tool call " + log::escape_for_log(call.tool_call_id, log::name_bytes) +
                                                " to " + name + ": " + log::escape_for_log(error, 300)});
    output = error_output(error);
    result.error = std::move(error);
  }
  // The response that made the call is still being generated (a fast webhook can answer before its
  // response.done): asking for an answer now would collide with it, and asking for none would leave the
  // result unspoken until the caller talks again. The answer is asked for when that response is done.
  const bool own_turn_running = !call.turn.empty() && active_response == call.turn;
  if (own_turn_running && !turn_pending(call.turn)) answer_owed_ = call.turn;
  // A tool the model talks over must not cut in on another answer: its result waits for the next turn.
  // A backend beside the voice is not an answer: it waits for its results.
  const bool respond_allowed = adapter.caps().tools_beside_speech ||
                               (!own_turn_running && !(tool.keep_talking && !active_response.empty()));
  deliver(call.tool_call_id, name, call.turn, output, respond_allowed, adapter, out);
  out.push_back(publish{std::move(result)});
}

}  // namespace mb::call
