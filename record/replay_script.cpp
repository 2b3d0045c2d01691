#include "record/replay_script.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "protocol/base64.hpp"

namespace mb::record {
namespace {

constexpr std::size_t max_skipped_lines = 32;
constexpr char ulaw_silence = static_cast<char>(0xFF);
constexpr double ulaw_bytes_per_ms = 8;

std::optional<boost::json::object> parse_object(std::string_view json) {
  boost::system::error_code ec;
  auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

std::string_view string_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view{};
}

const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

// Twilio writes numbers as strings ("timestamp":"5140"); accept both.
std::optional<double> number_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_number()) return v->to_number<double>();
  if (!v->is_string()) return std::nullopt;
  const std::string text(v->as_string());
  char* end = nullptr;
  const double parsed = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(parsed)) return std::nullopt;
  return parsed;
}

std::string at_time(double t_ms) {
  char text[48];
  std::snprintf(text, sizeof text, "t=%.1f ms", t_ms);
  return text;
}

// The close frame a recorded closure names, "… (code 1000, reason 'connection lifetime reached')";
// none named: a drop (code 0).
void set_close_frame(std::string_view detail, provider_step& step) {
  const auto code_at = detail.find("code ");
  if (code_at == std::string_view::npos) return;
  unsigned code = 0;
  for (auto i = code_at + 5; i < detail.size() && detail[i] >= '0' && detail[i] <= '9' && code < 10000; ++i)
    code = code * 10 + static_cast<unsigned>(detail[i] - '0');
  if (code < 1000 || code > 4999) return;
  step.close_code = static_cast<std::uint16_t>(code);
  constexpr std::string_view reason_mark = "reason '";
  const auto reason_at = detail.find(reason_mark, code_at);
  if (reason_at == std::string_view::npos) return;
  const auto start = reason_at + reason_mark.size();
  const auto end = detail.rfind('\'');
  if (end != std::string_view::npos && end > start) step.close_reason = std::string(detail.substr(start, end - start));
}

class script_builder {
 public:
  script_builder(const std::vector<log_entry>& entries, const replay_script_limits& limits)
      : entries_(entries), limits_(limits) {}

  replay_script build() {
    survey();
    for (const auto& e : entries_) add(e);
    if (skipped_beyond_ > 0)
      out_.skipped.push_back("… and " + std::to_string(skipped_beyond_) + " more entries not replayed");
    return std::move(out_);
  }

 private:
  // What deciding a connection's end needs from later entries.
  void survey() {
    for (const auto& e : entries_) {
      if (e.dir == direction::upstream_open) last_open_ = std::max(last_open_, e.number);
      if (e.dir == direction::event && e.kind == payload_kind::json) {
        if (const auto msg = parse_object(e.payload); msg && string_at(*msg, "type") == "call.ended")
          end_reason_ = std::string(string_at(*msg, "reason"));
      }
    }
  }

  void add(const log_entry& e) {
    out_.caller.last_entry_ms = std::max(out_.caller.last_entry_ms, e.t_ms);
    switch (e.dir) {
      case direction::twilio_in: return add_caller(e);
      case direction::twilio_out:
      case direction::event: return;
      case direction::upstream_open: return open(e);
      case direction::upstream_closed: return closed(e);
      case direction::upstream_out: return sent_by_bridge(e);
      case direction::upstream_in: return sent_by_provider(e);
      case direction::gap:
        return skip(e, "the recorder lost " + std::to_string(e.number) + " bytes of entries here");
    }
  }

  void add_caller(const log_entry& e) {
    if (e.kind == payload_kind::masked) return skip(e, "a masked Twilio " + e.payload + " (its digits were never written)");
    if (e.kind != payload_kind::json) return skip(e, "a Twilio message that was not JSON");
    const auto msg = parse_object(e.payload);
    if (!msg) return skip(e, "a Twilio message that is not a JSON object");
    const auto event = string_at(*msg, "event");
    if (event == "media") return add_media(e, *msg);
    if (event == "dtmf") {
      const auto* dtmf = object_at(*msg, "dtmf");
      const auto digit = dtmf ? string_at(*dtmf, "digit") : std::string_view{};
      if (digit.size() != 1) return skip(e, "a dtmf message without a digit");
      out_.caller.dtmf.push_back({e.t_ms, digit[0]});
    } else if (event == "stop") {
      if (!out_.caller.stop_ms) out_.caller.stop_ms = e.t_ms;
    }
    // connected, start and mark echoes: the simulated Twilio makes its own.
  }

  void add_media(const log_entry& e, const boost::json::object& msg) {
    const auto* media = object_at(msg, "media");
    const auto timestamp = media ? number_at(*media, "timestamp") : std::nullopt;
    const auto audio = media ? protocol::base64_decode(string_at(*media, "payload")) : std::nullopt;
    if (!timestamp || *timestamp < 0 || !audio) return skip(e, "a media message without a timestamp or a base64 payload");
    if (*timestamp + static_cast<double>(audio->size()) / ulaw_bytes_per_ms > limits_.max_call_ms)
      return skip(e, "caller audio beyond the longest call replayed");
    auto& ulaw = out_.caller.ulaw;
    const auto at = static_cast<std::size_t>(std::llround(*timestamp * ulaw_bytes_per_ms));
    if (ulaw.size() < at + audio->size()) ulaw.resize(at + audio->size(), ulaw_silence);
    std::copy(audio->begin(), audio->end(), ulaw.begin() + static_cast<std::ptrdiff_t>(at));
  }

  void open(const log_entry& e) {
    out_.connections.push_back({e.number, {}});
    current_ = &out_.connections.back();
    counts_.clear();
    trigger_ = {};
    trigger_ms_ = e.t_ms;
  }

  void closed(const log_entry& e) {
    if (!current_ || current_->connection != e.number) return;
    // The recorded detail is the same whichever side began the close (the other's echo ends the
    // read), so a closure the bridge reconnected after is replayed as the provider's: a rollover the
    // bridge starts then meets the provider's close at the same moment.
    const bool reconnected = e.number < last_open_;
    // Entries come in order: a stop seen already means the caller ended the call, not the provider.
    const bool ended_the_call = !reconnected && !out_.caller.stop_ms &&
                                (end_reason_ == "upstream_closed" || end_reason_ == "upstream_error");
    if (reconnected || ended_the_call) {
      auto& step = add_step(e.t_ms, provider_step::action::close);
      set_close_frame(e.detail, step);
    }
    current_ = nullptr;
  }

  void sent_by_bridge(const log_entry& e) {
    if (!current_) return;
    const std::string type = e.kind == payload_kind::masked ? e.payload
                             : e.kind == payload_kind::json ? message_type(e.payload)
                                                            : std::string{};
    if (type.empty()) return;  // not a message a provider could react to by its type
    auto it = std::find_if(counts_.begin(), counts_.end(), [&](const auto& c) { return c.first == type; });
    if (it == counts_.end()) it = counts_.insert(counts_.end(), {type, 0});
    trigger_ = {type, ++it->second};
    trigger_ms_ = e.t_ms;
  }

  void sent_by_provider(const log_entry& e) {
    if (e.kind == payload_kind::masked) return skip(e, "a masked provider " + e.payload + " (its content was never written)");
    if (!current_) return skip(e, "a provider message outside any upstream connection");
    auto& step = add_step(e.t_ms, provider_step::action::send);
    step.raw = e.kind == payload_kind::raw;
    step.message = e.payload;
  }

  provider_step& add_step(double t_ms, provider_step::action what) {
    provider_step step;
    step.what = what;
    step.trigger_type = trigger_.first;
    step.trigger_count = trigger_.second;
    step.delay_ms = std::max(0.0, t_ms - trigger_ms_);
    step.recorded_ms = t_ms;
    current_->steps.push_back(std::move(step));
    return current_->steps.back();
  }

  void skip(const log_entry& e, const std::string& why) { skip_line(at_time(e.t_ms) + ": " + why + ": not replayed"); }

  void skip_line(std::string line) {
    if (out_.skipped.size() < max_skipped_lines)
      out_.skipped.push_back(std::move(line));
    else
      ++skipped_beyond_;
  }

  const std::vector<log_entry>& entries_;
  const replay_script_limits& limits_;
  replay_script out_;
  std::uint64_t last_open_ = 0;
  std::string end_reason_;
  provider_connection_script* current_ = nullptr;
  std::vector<std::pair<std::string, std::uint64_t>> counts_;  // upstream_out per type, this connection
  std::pair<std::string, std::uint64_t> trigger_;              // the last one; empty type: the opening
  double trigger_ms_ = 0;
  std::size_t skipped_beyond_ = 0;
};

}  // namespace

std::string message_type(std::string_view json) {
  const auto msg = parse_object(json);
  if (!msg) return {};
  if (const auto type = string_at(*msg, "type"); !type.empty()) return std::string(type);
  return msg->empty() ? std::string{} : std::string(msg->begin()->key());
}

replay_script build_replay_script(const std::vector<log_entry>& entries, const replay_script_limits& limits) {
  return script_builder(entries, limits).build();
}

provider_playback::provider_playback(const provider_connection_script& script)
    : script_(&script), trigger_at_(script.steps.size()) {
  for (std::size_t i = 0; i < script.steps.size(); ++i) {
    const auto& type = script.steps[i].trigger_type;
    if (type.empty()) continue;
    auto it = std::find_if(counters_.begin(), counters_.end(), [&](const auto& c) { return c.type == type; });
    if (it == counters_.end()) it = counters_.insert(counters_.end(), type_counter{type, 0, {}, 0});
    it->waiting_steps.push_back(i);
  }
}

void provider_playback::opened(double now_ms) {
  for (std::size_t i = 0; i < script_->steps.size(); ++i)
    if (script_->steps[i].trigger_type.empty()) trigger_at_[i] = now_ms;
}

void provider_playback::received(std::string_view type, double now_ms) {
  const auto it = std::find_if(counters_.begin(), counters_.end(), [&](const auto& c) { return c.type == type; });
  if (it == counters_.end()) return;  // no step waits for this type
  ++it->count;
  for (; it->next_waiting < it->waiting_steps.size(); ++it->next_waiting) {
    const auto step = it->waiting_steps[it->next_waiting];
    if (script_->steps[step].trigger_count > it->count) break;
    trigger_at_[step] = now_ms;
  }
}

std::optional<double> provider_playback::next_due() const {
  if (finished() || !trigger_at_[next_]) return std::nullopt;
  const double due = *trigger_at_[next_] + script_->steps[next_].delay_ms;
  return previous_due_ ? std::max(due, *previous_due_) : due;
}

const provider_step* provider_playback::take_due(double now_ms) {
  const auto due = next_due();
  if (!due || *due > now_ms) return nullptr;
  previous_due_ = due;
  return &script_->steps[next_++];
}

std::string provider_playback::waiting_for() const {
  if (finished()) return {};
  const auto& step = script_->steps[next_];
  if (step.trigger_type.empty()) return "the connection";
  return step.trigger_type + " #" + std::to_string(step.trigger_count);
}

}  // namespace mb::record
