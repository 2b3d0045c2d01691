#include "record/replay_diff.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string_view>

#include <simdjson.h>

#include "log/escape.hpp"

namespace mb::record {

namespace {

// A log may come from a real call: what one kind of value can add to a report is bounded.
constexpr std::size_t max_listed_per_kind = 10;
constexpr std::size_t max_runs_shown = 8;

// The messages that carry audio, left out of the type sequences: Twilio's media, and each provider's
// caller audio and model audio (docs/protocols.md A3/A4, D3/D4, F2/F4).
constexpr std::array<std::string_view, 6> audio_types{
    "media",                        // Twilio, both ways
    "input_audio_buffer.append",    // Realtime and Azure, to the provider
    "response.output_audio.delta",  // Realtime GA, from the provider
    "response.audio.delta",         // Realtime beta (Azure's older API versions)
    "session.input_audio.append",   // GPT-Live, to the provider
    "session.output_audio.delta",   // GPT-Live, from the provider
};

struct transcript_line {
  std::string role;
  std::string text;
  bool interrupted = false;
  friend bool operator==(const transcript_line&, const transcript_line&) = default;
};

struct turn_spans {
  std::optional<double> to_first_delta_ms;
  std::optional<double> to_first_audio_ms;
  std::optional<double> to_heard_ms;  // null when the caller cut the answer before hearing it
};

// What one run did, as the comparison sees it.
struct run_facts {
  std::vector<double> clear_at_ms;
  std::vector<double> truncate_audio_end_ms;  // the provider's truncate messages (Realtime, Azure)
  std::vector<double> barge_in_audio_end_ms;  // the barge_in events (every provider)
  std::vector<transcript_line> transcripts;
  std::size_t marks = 0;
  std::optional<std::string> end_reason;
  std::vector<turn_spans> turns;
  std::vector<std::string> twilio_out_types;
  std::vector<std::string> upstream_out_types;
  std::size_t upstream_sessions = 0;
};

std::string string_field(simdjson::dom::object& obj, const char* key) {
  std::string_view s;
  if (obj[key].get_string().get(s)) return {};
  return std::string(s);
}

std::optional<double> number_field(simdjson::dom::object& obj, const char* key) {
  double n = 0;
  if (obj[key].get_double().get(n)) return std::nullopt;  // absent, null or not a number
  return n;
}

// The message's type: "event" for Twilio, "type" for OpenAI's protocols, the only (first) key for
// Gemini's ({"setup": …}, {"toolResponse": …}); "?" when it has none.
std::string message_type(simdjson::dom::object& obj, direction dir) {
  auto type = string_field(obj, dir == direction::twilio_out ? "event" : "type");
  if (type.empty() && dir == direction::upstream_out && obj.begin() != obj.end()) type = obj.begin().key();
  return type.empty() ? "?" : type;
}

bool carries_audio(simdjson::dom::object& obj, std::string_view type) {
  if (std::find(audio_types.begin(), audio_types.end(), type) != audio_types.end()) return true;
  simdjson::dom::object input;
  return type == "realtimeInput" && !obj["realtimeInput"].get_object().get(input) && !input["audio"].error();
}

void note_event(simdjson::dom::object& event, run_facts& facts) {
  const auto type = string_field(event, "type");
  if (type == "barge_in") {
    facts.barge_in_audio_end_ms.push_back(number_field(event, "audio_end_ms").value_or(-1));
  } else if (type == "transcript.final") {
    bool interrupted = false;
    [[maybe_unused]] const auto absent = event["interrupted"].get_bool().get(interrupted);
    facts.transcripts.push_back({string_field(event, "role"), string_field(event, "text"), interrupted});
  } else if (type == "turn.latency") {
    facts.turns.push_back({number_field(event, "to_first_delta_ms"), number_field(event, "to_first_audio_ms"),
                           number_field(event, "to_heard_ms")});
  } else if (type == "call.ended") {
    facts.end_reason = string_field(event, "reason");
  }
}

void note_sent(simdjson::dom::object& message, direction dir, double t_ms, run_facts& facts) {
  auto type = message_type(message, dir);
  if (carries_audio(message, type)) return;
  if (dir == direction::twilio_out) {
    if (type == "clear") facts.clear_at_ms.push_back(t_ms);
    if (type == "mark") {
      ++facts.marks;
      // A run of marks is one step of the sequence: how many the pacing released between two other
      // messages is timing (compared by count, below), the order of marks and clears is behaviour.
      if (!facts.twilio_out_types.empty() && facts.twilio_out_types.back() == type) return;
    }
  } else if (type == "conversation.item.truncate") {
    facts.truncate_audio_end_ms.push_back(number_field(message, "audio_end_ms").value_or(-1));
  }
  (dir == direction::twilio_out ? facts.twilio_out_types : facts.upstream_out_types).push_back(std::move(type));
}

run_facts facts_of(const std::vector<log_entry>& log) {
  run_facts facts;
  simdjson::dom::parser parser;
  for (const auto& entry : log) {
    if (entry.dir == direction::upstream_open) {
      ++facts.upstream_sessions;
      continue;
    }
    const bool sent = entry.dir == direction::twilio_out || entry.dir == direction::upstream_out;
    if (!sent && entry.dir != direction::event) continue;
    auto& types = entry.dir == direction::twilio_out ? facts.twilio_out_types : facts.upstream_out_types;
    if (entry.kind == payload_kind::masked) {
      if (sent) types.push_back(entry.payload);
      continue;
    }
    simdjson::dom::object message;
    if (entry.kind != payload_kind::json || parser.parse(entry.payload).get_object().get(message)) {
      if (sent) types.emplace_back("(not JSON)");
      continue;
    }
    if (sent)
      note_sent(message, entry.dir, entry.t_ms, facts);
    else
      note_event(message, facts);
  }
  return facts;
}

std::string milliseconds(double ms) {
  std::array<char, 48> text{};
  std::snprintf(text.data(), text.size(), "%.1f ms", ms);
  return text.data();
}

std::string signed_milliseconds(double ms) {
  std::array<char, 48> text{};
  std::snprintf(text.data(), text.size(), "%+.1f ms", ms);
  return text.data();
}

std::string shown(std::string_view peer_text) { return log::escape_for_log(peer_text, log::reason_bytes); }

// Lists differences of one kind up to the bound, then says how many more there were.
class kind_listing {
 public:
  kind_listing(std::string what, replay_report& report) : what_(std::move(what)), report_(report) {}
  kind_listing(const kind_listing&) = delete;
  kind_listing& operator=(const kind_listing&) = delete;
  ~kind_listing() {
    if (unlisted_ > 0)
      report_.differences.push_back({what_ + ": more differences", "", std::to_string(unlisted_) + " not listed"});
  }
  void add(std::string what, std::string expected, std::string actual) {
    if (listed_ == max_listed_per_kind) {
      ++unlisted_;
      return;
    }
    ++listed_;
    report_.differences.push_back({std::move(what), std::move(expected), std::move(actual)});
  }

 private:
  std::string what_;
  replay_report& report_;
  std::size_t listed_ = 0;
  std::size_t unlisted_ = 0;
};

void compare_counts(const std::string& what, std::size_t recorded, std::size_t replayed, replay_report& report) {
  if (recorded != replayed) report.differences.push_back({what, std::to_string(recorded), std::to_string(replayed)});
}

// Values matched in order; `what` names the series ("barge-in", "truncate audio_end_ms").
void compare_series(const std::string& what, const std::vector<double>& recorded, const std::vector<double>& replayed,
                    double tolerance, replay_report& report) {
  report.summary_lines.push_back(what + ": " + std::to_string(recorded.size()) + " recorded, " +
                                 std::to_string(replayed.size()) + " replayed, tolerance " + milliseconds(tolerance));
  compare_counts(what + " count", recorded.size(), replayed.size(), report);
  kind_listing listing(what, report);
  for (std::size_t i = 0; i < std::min(recorded.size(), replayed.size()); ++i) {
    const double delta = replayed[i] - recorded[i];
    if (std::abs(delta) <= tolerance) continue;
    listing.add(what + " " + std::to_string(i + 1), milliseconds(recorded[i]),
                milliseconds(replayed[i]) + " (" + signed_milliseconds(delta) + ")");
  }
}

std::string describe(const transcript_line& line) {
  return "\"" + shown(line.text) + "\"" + (line.interrupted ? " (interrupted)" : "");
}

// Each role's finals in order. The order between roles is not compared: a caller's final and the
// cut answer's can be published within a millisecond of each other, in either order.
void compare_transcripts(const run_facts& recorded, const run_facts& replayed, replay_report& report) {
  const auto of_role = [](const std::vector<transcript_line>& all, std::string_view role) {
    std::vector<transcript_line> lines;
    std::copy_if(all.begin(), all.end(), std::back_inserter(lines), [&](const auto& l) { return l.role == role; });
    return lines;
  };
  for (const std::string role : {"caller", "assistant"}) {
    const auto was = of_role(recorded.transcripts, role);
    const auto now = of_role(replayed.transcripts, role);
    report.summary_lines.push_back(role + " transcripts: " + std::to_string(was.size()) + " recorded, " +
                                   std::to_string(now.size()) + " replayed");
    compare_counts(role + " transcript count", was.size(), now.size(), report);
    kind_listing listing(role + " transcript", report);
    for (std::size_t i = 0; i < std::min(was.size(), now.size()); ++i) {
      if (was[i] != now[i])
        listing.add(role + " transcript " + std::to_string(i + 1), describe(was[i]), describe(now[i]));
    }
  }
}

std::string describe(const std::optional<double>& span) { return span ? milliseconds(*span) : "null"; }

void compare_latency(const run_facts& recorded, const run_facts& replayed, double tolerance, replay_report& report) {
  report.summary_lines.push_back("turn latency: " + std::to_string(recorded.turns.size()) + " turns recorded, " +
                                 std::to_string(replayed.turns.size()) + " replayed, tolerance " +
                                 milliseconds(tolerance));
  compare_counts("turn latency count", recorded.turns.size(), replayed.turns.size(), report);
  kind_listing listing("turn latency", report);
  using span_field = std::optional<double> turn_spans::*;
  constexpr std::array<std::pair<span_field, std::string_view>, 3> spans{{
      {&turn_spans::to_first_delta_ms, "to_first_delta_ms"},
      {&turn_spans::to_first_audio_ms, "to_first_audio_ms"},
      {&turn_spans::to_heard_ms, "to_heard_ms"},
  }};
  for (std::size_t i = 0; i < std::min(recorded.turns.size(), replayed.turns.size()); ++i) {
    for (const auto& [field, name] : spans) {
      const auto& was = recorded.turns[i].*field;
      const auto& now = replayed.turns[i].*field;
      if (was && now && std::abs(*now - *was) <= tolerance) continue;
      if (!was && !now) continue;
      listing.add("turn " + std::to_string(i + 1) + " " + std::string(name), describe(was),
                  was && now ? describe(now) + " (" + signed_milliseconds(*now - *was) + ")" : describe(now));
    }
  }
}

// From `from` on, in runs ("mark x12, clear, mark x3"), a bounded number of them.
std::string runs_from(const std::vector<std::string>& types, std::size_t from) {
  if (from >= types.size()) return "(end)";
  std::string text;
  std::size_t runs = 0;
  for (std::size_t i = from; i < types.size();) {
    if (runs == max_runs_shown) return text + ", ...";
    std::size_t end = i;
    while (end < types.size() && types[end] == types[i]) ++end;
    if (runs++ > 0) text += ", ";
    text += log::escape_for_log(types[i], log::name_bytes);
    if (end - i > 1) text += " x" + std::to_string(end - i);
    i = end;
  }
  return text;
}

void compare_sequence(std::string_view dir, const std::vector<std::string>& recorded,
                      const std::vector<std::string>& replayed, replay_report& report) {
  report.summary_lines.push_back(std::string(dir) + " non-media messages: " + std::to_string(recorded.size()) +
                                 " recorded, " + std::to_string(replayed.size()) + " replayed");
  const auto [was, now] = std::mismatch(recorded.begin(), recorded.end(), replayed.begin(), replayed.end());
  if (was == recorded.end() && now == replayed.end()) return;
  const auto at = static_cast<std::size_t>(was - recorded.begin());
  report.differences.push_back({std::string(dir) + " message types from #" + std::to_string(at + 1),
                                runs_from(recorded, at), runs_from(replayed, at)});
}

}  // namespace

replay_report compare_runs(const std::vector<log_entry>& recorded, const std::vector<log_entry>& replayed,
                           const replay_tolerance& tolerance) {
  const auto was = facts_of(recorded);
  const auto now = facts_of(replayed);
  replay_report report;
  compare_series("barge-in (Twilio clear at)", was.clear_at_ms, now.clear_at_ms, tolerance.clear_ms, report);
  compare_series("truncate audio_end_ms", was.truncate_audio_end_ms, now.truncate_audio_end_ms,
                 tolerance.audio_end_ms, report);
  compare_series("barge_in event audio_end_ms", was.barge_in_audio_end_ms, now.barge_in_audio_end_ms,
                 tolerance.audio_end_ms, report);
  compare_transcripts(was, now, report);
  // The pacing releases audio (each release ends with a mark) on its own clock; a release due within
  // a few ms of a barge-in goes out before the clear in one run and is cut in the other. So each
  // barge-in of the recording allows one mark more or less (seen: 27 recorded, 28 replayed).
  const auto mark_tolerance = was.clear_at_ms.size();
  report.summary_lines.push_back("marks sent to Twilio: " + std::to_string(was.marks) + " recorded, " +
                                 std::to_string(now.marks) + " replayed, tolerance " +
                                 std::to_string(mark_tolerance) + " (one per barge-in)");
  const auto mark_delta = was.marks > now.marks ? was.marks - now.marks : now.marks - was.marks;
  if (mark_delta > mark_tolerance) compare_counts("marks sent to Twilio", was.marks, now.marks, report);
  const auto end_reason = [](const run_facts& f) { return f.end_reason ? shown(*f.end_reason) : "(no call.ended)"; };
  report.summary_lines.push_back("end reason: " + end_reason(was) + " recorded, " + end_reason(now) + " replayed");
  if (was.end_reason != now.end_reason) report.differences.push_back({"end reason", end_reason(was), end_reason(now)});
  compare_latency(was, now, tolerance.latency_ms, report);
  report.summary_lines.push_back("upstream sessions: " + std::to_string(was.upstream_sessions) + " recorded, " +
                                 std::to_string(now.upstream_sessions) + " replayed");
  compare_counts("upstream sessions", was.upstream_sessions, now.upstream_sessions, report);
  compare_sequence("twilio_out", was.twilio_out_types, now.twilio_out_types, report);
  compare_sequence("upstream_out", was.upstream_out_types, now.upstream_out_types, report);
  return report;
}

std::string format_report(const replay_report& report) {
  std::string text;
  for (const auto& line : report.summary_lines) text.append("  ").append(line).append("\n");
  for (const auto& d : report.differences) {
    text.append("DIFF ").append(d.what).append(": recorded ").append(d.expected.empty() ? "-" : d.expected);
    text.append(", replayed ").append(d.actual).append("\n");
  }
  if (report.passed()) return text + "PASS\n";
  return text + "FAIL: " + std::to_string(report.differences.size()) + " difference" +
         (report.differences.size() == 1 ? "" : "s") + "\n";
}

}  // namespace mb::record
