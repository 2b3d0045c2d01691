// mediabridge-replay: plays a recorded call (its JSONL event log) against a running bridge, as both
// Twilio and the provider, and reports what differs from the recording (docs/recording.md "Replay").
//
// Exit code: 0 when the replay matches the recording within the tolerances; 1 when it differs; 2 for
// a usage error or a replay that could not take place (unreadable log, port in use, webhook refused).

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <tuple>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "record/replay_diff.hpp"
#include "tools/cli/flags.hpp"
#include "tools/replay/replay_run.hpp"

namespace {

namespace cli = mb::tools::cli;
namespace replay = mb::tools::replay;
namespace record = mb::record;

constexpr std::string_view program = "mediabridge-replay";

constexpr std::string_view usage_head = R"(usage: mediabridge-replay <log.jsonl> [options]
Replays a recorded call against a running bridge: places the call as Twilio (the recorded caller's audio
and DTMF at their recorded times, the bridge's audio played and its marks echoed), answers the bridge's
upstream connection as the provider (each recorded provider message at its recorded delay after what
triggered it), listens to the call's events, then compares what it saw with the recording.
)";

constexpr std::string_view usage_tail = R"(The bridge must send its upstream connections to the replay provider: start it with the settings
the tool prints for the log's provider (e.g. for openai-realtime: PROVIDER=openai-realtime
OPENAI_API_KEY=replay OPENAI_REALTIME_URL=ws://127.0.0.1:8790/v1/realtime), and the same agent profile
as the recorded call.
Exit code: 0 when the replay matches the recording within the tolerances; 1 when it differs; 2 for a
usage error or a replay that could not take place.
)";

std::pair<std::string, std::uint16_t> split_host_port(const cli::flag_table& flags, std::string_view value) {
  const auto colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    flags.usage_error("--provider-listen must be host:port, not " + std::string(value));
  return {std::string(value.substr(0, colon)), flags.number<std::uint16_t>("--provider-listen", value.substr(colon + 1))};
}

void print_lines(std::string_view title, const std::vector<std::string>& lines) {
  if (lines.empty()) return;
  std::printf("%.*s\n", static_cast<int>(title.size()), title.data());
  for (const auto& line : lines) std::printf("  %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  replay::replay_options options;
  options.webhook_url = "http://127.0.0.1:8080/voice";
  if (const char* token = std::getenv("TWILIO_AUTH_TOKEN")) options.twilio_auth_token = token;
  if (const char* token = std::getenv("API_TOKEN")) options.api_token = token;
  std::string provider_listen = "127.0.0.1:8790";
  std::string out_path;
  record::replay_tolerance tolerance;
  bool no_events = false;

  const cli::flag_table flags(
      program, std::string(usage_head),
      {
          cli::text("--webhook", "URL", "the bridge's voice webhook, http:// or https://", options.webhook_url),
          cli::secret("--auth-token", "TOKEN",
                      "the bridge's TWILIO_AUTH_TOKEN, to sign the webhook and the stream upgrade; prefer the "
                      "variable: arguments show in `ps`",
                      options.twilio_auth_token, "$TWILIO_AUTH_TOKEN"),
          cli::secret("--api-token", "TOKEN", "the bridge's API_TOKEN, for the call's events on /v1/events",
                      options.api_token, "$API_TOKEN"),
          cli::enable("--no-events", "do not listen to the call's events (events then count as missing)", no_events),
          cli::text("--provider-listen", "HOST:PORT", "where the replay provider accepts the bridge's upstream",
                    provider_listen),
          cli::text("--out", "FILE", "write what the replay observed there, as a log of the recording's format",
                    out_path),
          cli::number("--tolerance-clear-ms", "MS", "how far a barge-in's clear may move", tolerance.clear_ms),
          cli::number("--tolerance-audio-end-ms", "MS", "how far a truncate's audio_end_ms may move",
                      tolerance.audio_end_ms),
          cli::number("--tolerance-latency-ms", "MS", "how far a turn's latency may move", tolerance.latency_ms),
          cli::number("--timeout-ms", "N", "bound on the whole call", options.timeout_ms,
                      "the recorded call's length + 30000"),
      },
      std::string(usage_tail));

  // The log comes first; everything after it is a flag.
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string log_path;
  if (!args.empty() && !args.front().starts_with("-")) {
    log_path = args.front();
    args.erase(args.begin());
  }
  const auto outcome = flags.apply(args);
  if (outcome.help) {
    std::fwrite(flags.usage().data(), 1, flags.usage().size(), stdout);
    return 0;
  }
  if (outcome.error) flags.usage_error(*outcome.error);
  if (log_path.empty()) flags.usage_error("no recorded log given");
  options.listen_events = !no_events;
  if (options.webhook_url.rfind("http://", 0) != 0 && options.webhook_url.rfind("https://", 0) != 0)
    flags.usage_error("--webhook must be an http:// or https:// URL");
  std::tie(options.provider_host, options.provider_port) = split_host_port(flags, provider_listen);

  std::string error;
  const auto recorded = replay::read_log(log_path, error);
  if (!recorded) flags.usage_error(error);
  const auto settings = replay::bridge_settings_for(recorded->header.provider, provider_listen);
  if (settings.empty()) flags.usage_error("the log's provider is unknown: " + recorded->header.provider);

  std::optional<replay::replay_session> session;
  try {
    session.emplace(recorded->header, recorded->entries, options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: the replay provider cannot listen on %s: %s\n", program.data(), provider_listen.c_str(),
                 e.what());
    return 2;
  }
  std::fprintf(stderr, "%s: replaying %s (%s, %zu entries); the bridge needs:", program.data(), log_path.c_str(),
               recorded->header.provider.c_str(), recorded->entries.size());
  for (const auto& [name, value] : settings) std::fprintf(stderr, " %s=%s", name.c_str(), value.c_str());
  std::fprintf(stderr, "\n");

  const auto result = session->run();
  if (!result.setup_failure.empty()) {
    std::fprintf(stderr, "%s: %s\n", program.data(), result.setup_failure.c_str());
    return 2;
  }
  if (!out_path.empty() && !replay::write_log(out_path, result.header, result.observed, error)) {
    std::fprintf(stderr, "%s: %s\n", program.data(), error.c_str());
    return 2;
  }
  print_lines("not replayed as recorded:", result.notes);
  const auto report = record::compare_runs(recorded->entries, result.observed, tolerance);
  std::cout << record::format_report(report);
  return report.passed() ? 0 : 1;
}
