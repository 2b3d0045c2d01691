#include "call/call_control.hpp"

#include <boost/json.hpp>

#include "log/escape.hpp"
#include "twiml/twiml.hpp"

namespace mb::call {

namespace json = boost::json;

namespace {

constexpr std::size_t max_reason_bytes = 200;

const char* const end_call_description =
    "Hang up the phone call. First say a short goodbye to the caller in the same turn; the call ends once "
    "your goodbye has played. Use it when the conversation is over or the caller asks to end it.";
const char* const transfer_call_description =
    "Transfer the caller to a person or team. Name one of the listed destinations, never a phone number; tell "
    "the caller first that you are transferring them. The call with you ends when the transfer starts.";

std::string transfer_parameters(const std::vector<transfer_destination>& transfers) {
  json::array names;
  for (const auto& t : transfers) names.emplace_back(t.name);
  json::object destination{{"type", "string"}, {"description", "Where to transfer the caller."}};
  destination["enum"] = std::move(names);
  json::object properties;
  properties["destination"] = std::move(destination);
  json::object schema{{"type", "object"}};
  schema["properties"] = std::move(properties);
  schema["required"] = json::array{"destination"};
  return json::serialize(schema);
}

std::string error_result(std::string_view text) { return json::serialize(json::object{{"error", text}}); }
std::string status_result(std::string_view text) {
  return json::serialize(json::object{{"ok", true}, {"status", text}});
}

// A string field of the model's arguments; empty when absent, not a string or not JSON.
std::string argument(std::string_view arguments_json, std::string_view name) {
  boost::system::error_code ec;
  const auto value = json::parse(arguments_json, ec);
  if (ec || !value.is_object()) return {};
  const auto* field = value.as_object().if_contains(name);
  if (!field || !field->is_string()) return {};
  return std::string(field->as_string());
}

call_control event(std::string_view action_name, std::string_view by, std::string_view status,
                         std::string_view target = {}, std::string detail = {}) {
  return {std::string(action_name), std::string(by), std::string(status), std::string(target), std::move(detail)};
}

}  // namespace

void declare_builtin_tools(protocol::session_config& session, const call_tools_config& tools) {
  std::erase_if(session.tools, [](const auto& t) { return call_controller::is_builtin(t.name); });
  if (tools.end_call)
    session.tools.push_back({std::string(end_call_tool), end_call_description,
                             R"({"type":"object","properties":{"reason":{"type":"string","description":)"
                             R"("Why the call ends, in a few words."}}})"});
  if (!tools.transfers.empty())
    session.tools.push_back(
        {std::string(transfer_call_tool), transfer_call_description, transfer_parameters(tools.transfers)});
}

void call_controller::configure(const call_tools_config& tools) {
  end_call_enabled_ = tools.end_call;
  grace_ms_ = tools.end_call_grace_ms;
  transfers_ = tools.transfers;
  caller_id_ = tools.transfer_caller_id;
}

void call_controller::on_tool_call(std::string_view tool_call_id, std::string_view tool_name,
                                std::string_view arguments_json, const playback_state& playback, std::int64_t now_ms,
                                std::vector<action>& out, std::vector<model_note>& notes) {
  if (busy()) {
    notes.push_back({model_note::kind::tool_result, std::string(tool_call_id), std::string(tool_name),
                     error_result("a hang-up or transfer is already under way"), false});
    return;
  }
  if (tool_name == end_call_tool)
    on_end_call(tool_call_id, arguments_json, playback, now_ms, out, notes);
  else
    on_transfer_call(tool_call_id, arguments_json, now_ms, out, notes);
}

void call_controller::on_end_call(std::string_view tool_call_id, std::string_view arguments_json,
                               const playback_state& playback, std::int64_t now_ms, std::vector<action>& out,
                               std::vector<model_note>& notes) {
  const auto reason = log::escape_for_log(argument(arguments_json, "reason"), max_reason_bytes);
  out.push_back(publish{event("hang_up", "model", "requested", {}, reason)});
  // Without a goodbye of its own, the model is asked for one: the answer to its result.
  const bool goodbye_due = !playback.spoke_this_turn;
  notes.push_back({model_note::kind::tool_result, std::string(tool_call_id), std::string(end_call_tool),
                   status_result(goodbye_due ? "say a short goodbye now; the call ends after it"
                                             : "the call ends once your last words have played"),
                   goodbye_due});
  waiting_ = waiting{{"hang_up", "model", {}, {}, {0, update_twilio_call::kind::hang_up, {}}},
                     now_ms + grace_ms_, goodbye_due};
}

void call_controller::on_transfer_call(std::string_view tool_call_id, std::string_view arguments_json,
                                    std::int64_t now_ms, std::vector<action>& out, std::vector<model_note>& notes) {
  const auto destination = argument(arguments_json, "destination");
  auto update = transfer_to(destination, "model", out);
  if (!update) {
    notes.push_back({model_note::kind::tool_result, std::string(tool_call_id), std::string(transfer_call_tool),
                     error_result("not an allowed destination; allowed: " + allowed_names()), true});
    return;
  }
  // What the model said about the transfer plays first; its result waits for Twilio's answer.
  waiting_ = waiting{{"transfer", "model", destination, std::string(tool_call_id), std::move(*update)},
                     now_ms + grace_ms_, false};
}

std::optional<update_twilio_call> call_controller::transfer_to(std::string_view destination, std::string_view by,
                                                            std::vector<action>& out) {
  const auto it = std::find_if(transfers_.begin(), transfers_.end(),
                               [&](const auto& t) { return t.name == destination; });
  const auto shown = log::escape_for_log(destination, log::name_bytes);
  if (it == transfers_.end()) {
    out.push_back(publish{event("transfer", by, "refused", shown, "not an allowed destination")});
    out.push_back(log_line{log_level::warn, "refusing a transfer by the " + std::string(by) + " to '" + shown +
                                                "': not in the transfer allowlist"});
    return std::nullopt;
  }
  out.push_back(publish{event("transfer", by, "requested", it->name)});
  return update_twilio_call{0, update_twilio_call::kind::redirect,
                            twiml::render_transfer({it->announcement, it->target, caller_id_}), it->target};
}

void call_controller::on_operator(const operator_command& command, std::int64_t /*now_ms*/, std::vector<action>& out,
                               std::vector<model_note>& notes) {
  if (const auto* message = std::get_if<message_command>(&command)) {
    notes.push_back({model_note::kind::context_text, {}, {},
                     "A supervisor of this call sends you this message: " + message->text, true});
    out.push_back(publish{event("message", "operator", "done", {},
                                log::escape_for_log(message->text, max_reason_bytes))});
    return;
  }
  const bool hang_up = std::holds_alternative<hang_up_command>(command);
  const std::string action_name = hang_up ? "hang_up" : "transfer";
  if (busy()) {
    out.push_back(publish{event(action_name, "operator", "refused", {}, "a hang-up or transfer is already under way")});
    return;
  }
  if (hang_up) {
    out.push_back(publish{event("hang_up", "operator", "requested")});
    send({"hang_up", "operator", {}, {}, {0, update_twilio_call::kind::hang_up, {}}}, out);
    return;
  }
  const auto& destination = std::get<transfer_command>(command).destination;
  if (auto update = transfer_to(destination, "operator", out))
    send({"transfer", "operator", destination, {}, std::move(*update)}, out);
}

void call_controller::on_response_started() {
  if (waiting_) waiting_->goodbye_due = false;
}

void call_controller::on_playback(const playback_state& playback, std::int64_t now_ms, std::vector<action>& out) {
  if (!waiting_) return;
  const bool ready = playback.idle && !waiting_->goodbye_due;
  if (!ready && now_ms < waiting_->deadline_ms) return;
  if (!ready)
    out.push_back(log_line{log_level::warn, "the assistant's last words had not played " + std::to_string(grace_ms_) +
                                                " ms after " + waiting_->req.action + " was asked for: going ahead"});
  auto req = std::move(waiting_->req);
  waiting_.reset();
  send(std::move(req), out);
}

void call_controller::send(request req, std::vector<action>& out) {
  req.update.request_id = next_request_id_++;
  out.push_back(req.update);
  in_flight_ = std::move(req);
}

void call_controller::on_update_done(std::uint64_t request_id, const call_update_outcome& outcome,
                                  std::vector<action>& out, std::vector<model_note>& notes) {
  if (!in_flight_ || in_flight_->update.request_id != request_id) return;
  const auto req = std::move(*in_flight_);
  in_flight_.reset();
  const auto detail = log::escape_for_log(outcome.detail, log::reason_bytes);
  out.push_back(publish{event(req.action, req.by, outcome.ok ? "done" : "failed", req.target, detail)});
  if (!req.tool_call_id.empty())
    notes.push_back({model_note::kind::tool_result, req.tool_call_id, std::string(transfer_call_tool),
                     outcome.ok ? status_result("the caller is being transferred")
                                : error_result("the transfer failed: " + detail + "; the call goes on with you"),
                     !outcome.ok});
  if (outcome.ok) return;
  if (req.action == "hang_up") {
    // Twilio's REST API for a Media Streams call, OpenAI's control plane for a SIP call.
    out.push_back(log_line{log_level::warn, "hanging up through the call's control API failed (" + detail +
                                                "): closing the call's connection instead"});
    out.push_back(end_call{end_reason::hung_up, "hang-up by the " + req.by + "; the control API failed: " + detail});
  } else {
    out.push_back(log_line{log_level::warn, "transfer to '" + req.target + "' failed (" + detail +
                                                "): the call goes on"});
  }
}

std::optional<std::int64_t> call_controller::next_wakeup() const {
  if (!waiting_) return std::nullopt;
  return waiting_->deadline_ms;
}

std::string call_controller::allowed_names() const {
  std::string names;
  for (const auto& t : transfers_) names += (names.empty() ? "" : ", ") + t.name;
  return names.empty() ? "none" : names;
}

}  // namespace mb::call
