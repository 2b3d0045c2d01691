// mediabridge-call: places simulated Twilio calls (tools/twilio_sim) against a running mediabridge and
// says what happened. A newcomer uses it to hear (well, count) a call against `scripts/run`; the proxy
// test (scripts/proxy-test) uses its --expect-* options so the exit code carries every assertion.
//
// A voice webhook that answers <Dial><Sip> (SIP mode) hands the call to the simulated OpenAI SIP
// endpoint the URI names (demo mode's upstream simulator): the call is reported as sip_dialed with the
// endpoint's call id and the tool returns at once; the conversation then runs between the simulator
// and the bridge, where the dashboard and GET /v1/calls show it. The URI is printed without its query,
// which carries the call's stream token.
//
// Exit code: 0 when every call completed as a call should (call_report.hpp: call_problems) and every
// --expect-* held; 1 otherwise; 2 for a usage error. The usage text says what that means.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "tools/cli/flags.hpp"
#include "net/websocket.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

namespace {

namespace twilio = mb::tools::twilio;
namespace cli = mb::tools::cli;
namespace json = boost::json;

constexpr std::string_view program = "mediabridge-call";

constexpr std::string_view usage_head = R"(usage: mediabridge-call --webhook URL [options]
Places simulated Twilio calls: POSTs the voice webhook, opens the <Stream> URL from the TwiML, sends the
caller's audio in real time, plays the bridge's audio back (echoing marks, honouring clear) and hangs up.
)";

constexpr std::string_view usage_tail = R"(A call succeeds when it completes as a call should: the simulated caller hangs up and the bridge
answers the close with code 1000, or the bridge closes the stream with 1000 (normal closure), and
the bridge sent no malformed Media Streams message. Any other close code fails the call (1011: the
upstream failed or confirmed the wrong audio format; 1008: input refused; 1001: the server shut down
mid-call), as do a webhook that fails or answers without <Connect><Stream>, a refused upgrade, a
broken stream and a call outliving --timeout-ms. When the script has speech followed by at least
--answer-within-ms of the call, the bridge must also have sent some audio (an answer).
Exit code: 0 when every call succeeded and every --expect-* held; 1 otherwise; 2 for a usage error.
)";

// The comma-separated `A:B` items of `option`'s value, split at the colon.
std::vector<std::pair<std::string_view, std::string_view>> colon_pairs(const cli::flag_table& flags,
                                                                       std::string_view option, std::string_view spec) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos)
      flags.usage_error(std::string(option) + " item without a colon: " + std::string(item));
    pairs.emplace_back(item.substr(0, colon), item.substr(colon + 1));
  }
  return pairs;
}

std::vector<twilio::audio_segment> parse_script(const cli::flag_table& flags, std::string_view spec) {
  std::vector<twilio::audio_segment> script;
  for (const auto& [kind, ms] : colon_pairs(flags, "--script", spec)) {
    twilio::audio_segment segment;
    if (kind == "speech") segment.kind = twilio::audio_kind::speech;
    else if (kind == "silence") segment.kind = twilio::audio_kind::silence;
    else flags.usage_error("--script kind must be speech or silence: " + std::string(kind));
    segment.ms = flags.number<int>("--script", ms);
    if (segment.ms <= 0) flags.usage_error("--script durations must be positive");
    script.push_back(segment);
  }
  return script;
}

std::vector<twilio::dtmf_press> parse_dtmf(const cli::flag_table& flags, std::string_view spec) {
  constexpr std::string_view keys = "0123456789*#ABCD";
  std::vector<twilio::dtmf_press> presses;
  for (const auto& [at_ms, key] : colon_pairs(flags, "--dtmf", spec)) {
    if (key.size() != 1 || keys.find(key[0]) == std::string_view::npos)
      flags.usage_error("--dtmf keys are one of 0-9 * # A-D: " + std::string(key));
    const auto at = flags.number<int>("--dtmf", at_ms);
    if (at < 0) flags.usage_error("--dtmf times must not be negative");
    presses.push_back({at, key[0]});
  }
  std::stable_sort(presses.begin(), presses.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  return presses;
}

double ms(std::uint64_t ulaw_bytes) { return static_cast<double>(ulaw_bytes) / twilio::ulaw_bytes_per_ms; }

double ms_between(twilio::clock::time_point a, twilio::clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::size_t cleared_marks(const twilio::call_report& r) {
  std::size_t n = 0;
  for (const auto& m : r.marks) n += m.cleared ? 1 : 0;
  return n;
}

// The stream's start → the first assistant audio it received (a greeting's, or the first answer's).
std::optional<double> first_audio_ms(const twilio::call_report& r) {
  for (const auto& e : r.events)
    if (e.kind == twilio::call_event_kind::first_media_received) return ms_between(r.stream_started, e.at);
  return std::nullopt;
}

// A URI without its query (a <Dial><Sip> URI's X- headers carry the call's stream token).
std::string without_query(std::string_view uri) { return std::string(uri.substr(0, uri.find('?'))); }

json::object to_json(const twilio::call_report& r, const std::vector<std::string>& problems) {
  json::object params;
  for (const auto& p : r.parameters) params[p.name] = p.value;
  json::array clears;
  for (const auto& c : r.clears)
    clears.push_back(json::object{{"at_ms", r.ms_since_start(c.at)},
                                  {"played_ms", c.played_ms},
                                  {"discarded_ms", c.discarded_ms},
                                  {"marks_flushed", c.marks_flushed}});
  json::array invalid;
  for (const auto& m : r.invalid_messages) invalid.push_back(json::object{{"reason", m.reason}, {"text", m.text}});
  json::array problem_list;
  for (const auto& p : problems) problem_list.emplace_back(p);
  return json::object{
      {"ok", problems.empty()},
      {"outcome", twilio::to_string(r.outcome)},
      {"failure", r.failure},
      {"problems", std::move(problem_list)},
      {"call_sid", r.call_sid},
      {"account_sid", r.account_sid},
      {"stream_sid", r.stream_sid},
      {"webhook_status", r.webhook_status},
      {"stream_url", r.stream_url},
      {"parameters", std::move(params)},
      {"sip_uri", without_query(r.sip_uri)},
      {"sip_call_id", r.sip_call_id},
      {"duration_ms", ms_between(r.started, r.ended)},
      {"first_audio_ms", first_audio_ms(r) ? json::value(*first_audio_ms(r)) : json::value(nullptr)},
      {"media_frames_sent", r.media_frames_sent},
      {"media_frames_received", r.media_frames_received},
      {"media_ms_received", ms(r.media_bytes_received)},
      {"played_ms", ms(r.played_bytes)},
      {"clears", std::move(clears)},
      {"stale_audio_ms", json::value_from(r.stale_audio_ms)},
      {"marks_echoed", r.marks.size()},
      {"marks_cleared", cleared_marks(r)},
      {"invalid_count", r.invalid_count},
      {"invalid_messages", std::move(invalid)},
      {"send_queue_drops", r.send_queue_drops},
      {"max_send_lag_ms", r.max_send_lag_ms},
      {"close_code", r.close_code},
      {"close_reason", r.close_reason},
  };
}

void print_human(std::size_t index, std::size_t total, const twilio::call_report& r,
                 const std::vector<std::string>& problems) {
  std::printf("call %zu/%zu %s: %s (%.1f s)\n", index + 1, total, r.call_sid.c_str(), twilio::to_string(r.outcome),
              ms_between(r.started, r.ended) / 1000.0);
  std::printf("  webhook:    HTTP %d\n", r.webhook_status);
  if (!r.stream_url.empty()) std::printf("  stream:     %s\n", r.stream_url.c_str());
  if (!r.sip_uri.empty())
    std::printf("  sip:        %s -> call %s\n", without_query(r.sip_uri).c_str(), r.sip_call_id.c_str());
  if (!r.parameters.empty()) {
    std::string list;
    for (const auto& p : r.parameters) list += (list.empty() ? "" : ", ") + p.name + "=" + p.value;
    std::printf("  parameters: %s\n", list.c_str());
  }
  if (r.outcome != twilio::call_outcome::webhook_failed && r.outcome != twilio::call_outcome::rejected &&
      r.outcome != twilio::call_outcome::connect_failed) {
    std::printf("  frames:     %llu sent, %llu received (%.0f ms of assistant audio)\n",
                static_cast<unsigned long long>(r.media_frames_sent),
                static_cast<unsigned long long>(r.media_frames_received), ms(r.media_bytes_received));
    if (const auto first = first_audio_ms(r)) std::printf("  first audio: %.1f ms after the stream start\n", *first);
    std::printf("  played:     %.0f ms; marks echoed %zu (%zu flushed by clear)\n", ms(r.played_bytes), r.marks.size(),
                cleared_marks(r));
    for (const auto& c : r.clears)
      std::printf("  clear:      at %.0f ms, %.0f ms played before it, %.0f ms discarded\n", r.ms_since_start(c.at),
                  c.played_ms, c.discarded_ms);
    if (r.clears.empty()) std::printf("  clears:     none\n");
    for (const auto stale : r.stale_audio_ms)
      std::printf("  talk-over:  the caller heard %.0f ms of assistant audio after starting to speak\n", stale);
    std::printf("  close:      %d %s\n", r.close_code, r.close_reason.c_str());
  }
  if (r.outcome == twilio::call_outcome::rejected || r.outcome == twilio::call_outcome::webhook_failed)
    std::printf("  twiml:      %s\n", r.twiml.substr(0, 400).c_str());
  for (const auto& p : problems) std::printf("  FAILED:     %s\n", p.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  twilio::call_options base;
  // A CLI run keeps counters only: recorded audio and arrival times grow with every call.
  base.record_sent_audio = false;
  base.record_played_audio = false;
  base.record_media_arrivals = false;
  if (const char* token = std::getenv("TWILIO_AUTH_TOKEN")) base.auth_token = token;
  std::string ca_file;
  std::string script_spec = "speech:1000,silence:3000";
  std::string dtmf_spec;
  int calls = 1;
  int threads = 1;
  int timeout_ms = 0;
  bool as_json = false;
  twilio::call_expectations expect;
  int answer_within_ms = 2000;

  const cli::flag_table flags(
      program, std::string(usage_head),
      {
          cli::text("--webhook", "URL", "voice webhook, http:// or https:// (e.g. http://127.0.0.1:8080/voice)",
                    base.webhook_url),
          cli::secret("--auth-token", "TOKEN",
                      "sign the webhook and the stream upgrade with X-Twilio-Signature; prefer the variable: "
                      "arguments show in `ps`",
                      base.auth_token, "$TWILIO_AUTH_TOKEN"),
          cli::text("--ca-file", "PEM", "extra CA bundle trusted for https:// and wss:// (a private proxy CA)",
                    ca_file),
          cli::text("--script", "SPEC",
                    "caller audio, comma-separated kind:ms with kind speech|silence; the call hangs up when it ends",
                    script_spec),
          cli::text("--dtmf", "SPEC",
                    "keys the caller presses, comma-separated ms:key (ms since the stream start, within the "
                    "script), e.g. 1500:4,1700:2,1900:#",
                    dtmf_spec),
          cli::number("--hangup-after-ms", "N", "hang up N ms after the stream start, even if audio remains",
                      base.hangup_after_ms),
          cli::number("--stream-delay-ms", "N",
                      "wait N ms between the webhook's answer and the stream's connect, as Twilio does",
                      base.stream_delay_ms),
          cli::number("--calls", "N", "calls placed at once", calls),
          cli::number("--threads", "N", "I/O threads for the simulated calls", threads),
          cli::number("--timeout-ms", "N", "per-call bound, webhook to close", timeout_ms, "script length + 30000"),
          cli::text("--from", "NUMBER", "the caller's number sent to the webhook", base.from),
          cli::text("--to", "NUMBER", "the called number sent to the webhook", base.to),
          cli::enable("--json", "print one JSON object instead of the human summary", as_json),
          cli::text("--expect-stream-url-prefix", "P", "fail unless the TwiML's stream URL starts with P",
                    expect.stream_url_prefix),
          cli::enable("--expect-audio", "fail unless audio flowed both ways (frames sent and received, some played)",
                      expect.audio_both_ways),
          cli::enable("--expect-barge-in", "fail unless the bridge cleared Twilio's playback at least once",
                      expect.barge_in),
          cli::number("--answer-within-ms", "N",
                      "how long a caller waits for an answer after its first speech (see below)", answer_within_ms),
      },
      std::string(usage_tail));
  flags.apply_or_exit(argc, argv);
  if (base.webhook_url.rfind("http://", 0) != 0 && base.webhook_url.rfind("https://", 0) != 0)
    flags.usage_error("--webhook must be an http:// or https:// URL");
  if (calls < 1) flags.usage_error("--calls must be at least 1");
  if (threads < 1) flags.usage_error("--threads must be at least 1");
  if (answer_within_ms < 1) flags.usage_error("--answer-within-ms must be at least 1");
  base.script = parse_script(flags, script_spec);
  base.dtmf = parse_dtmf(flags, dtmf_spec);
  expect.answer = twilio::answer_expected(base.script, base.hangup_after_ms, answer_within_ms);

  int script_ms = 0;
  for (const auto& s : base.script) script_ms += s.ms;
  base.timeout_ms = timeout_ms > 0 ? timeout_ms : script_ms + 30000;

  std::string tls_error;
  base.tls = mb::net::tls_client_context::create(ca_file, tls_error);
  if (!base.tls) flags.usage_error("--ca-file: " + tls_error);

  std::vector<twilio::call_options> options(static_cast<std::size_t>(calls), base);
  // Calls that outlive their own timeout are already reported timed_out; the extra second only lets
  // the aborts finish.
  const auto reports = twilio::run_calls(std::move(options), base.timeout_ms + 1000, threads);

  bool all_ok = true;
  json::array call_list;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto problems = twilio::call_problems(reports[i], expect);
    all_ok = all_ok && problems.empty();
    if (as_json) call_list.push_back(to_json(reports[i], problems));
    else print_human(i, reports.size(), reports[i], problems);
  }
  if (as_json) {
    std::cout << json::serialize(json::object{{"ok", all_ok}, {"calls", std::move(call_list)}}) << "\n";
  } else if (reports.size() > 1) {
    std::size_t failed = 0;
    for (std::size_t i = 0; i < reports.size(); ++i) failed += twilio::call_problems(reports[i], expect).empty() ? 0 : 1;
    std::printf("%zu call(s), %zu failed\n", reports.size(), failed);
  }
  return all_ok ? 0 : 1;
}
