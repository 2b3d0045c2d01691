// mediabridge-twilio-rest-sim: the simulated Twilio call REST API (rest_simulator.hpp) as a standalone
// loopback server, for demos and manual tests of hang-up, transfer and outbound calls without a Twilio
// account. Point the bridge at it with TWILIO_API_BASE_URL=http://127.0.0.1:<port> and the same
// account SID and auth token.

#include <pthread.h>
#include <signal.h>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "tools/cli/flags.hpp"
#include "tools/twilio_rest_sim/rest_simulator.hpp"

namespace {

namespace cli = mb::tools::cli;
namespace sim = mb::tools::twilio_rest;

constexpr std::string_view program = "mediabridge-twilio-rest-sim";

std::optional<sim::call_script::end> parse_outcome(std::string_view text) {
  if (text == "completed") return sim::call_script::end::completed;
  if (text == "busy") return sim::call_script::end::busy;
  if (text == "no-answer") return sim::call_script::end::no_answer;
  if (text == "failed") return sim::call_script::end::failed;
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8766;
  sim::rest_sim_options options;
  options.log_requests = true;
  if (const char* token = std::getenv("TWILIO_AUTH_TOKEN")) options.auth_token = token;
  if (const char* secret = std::getenv("TWILIO_API_KEY_SECRET")) options.api_key_secret = secret;
  if (const char* account = std::getenv("TWILIO_ACCOUNT_SID")) options.account_sid = account;
  if (const char* key = std::getenv("TWILIO_API_KEY_SID")) options.api_key_sid = key;
  auto& script = options.default_script;

  const cli::flag_table flags(
      program, "usage: mediabridge-twilio-rest-sim [options]\n",
      {
          cli::text("--host", "ADDR", "loopback address to listen on", host),
          cli::number("--port", "N", "port, 0 = ephemeral", port),
          cli::text("--account-sid", "AC…", "the account served", options.account_sid, "$TWILIO_ACCOUNT_SID"),
          cli::secret("--auth-token", "TOKEN", "Basic auth password with the account SID; signs callbacks",
                      options.auth_token, "$TWILIO_AUTH_TOKEN"),
          cli::text("--api-key-sid", "SK…", "an API key accepted as the username", options.api_key_sid,
                    "$TWILIO_API_KEY_SID"),
          cli::secret("--api-key-secret", "SECRET", "the API key's password", options.api_key_secret,
                      "$TWILIO_API_KEY_SECRET"),
          cli::custom("--outcome", "END", "how placed calls end: completed, busy, no-answer or failed", "completed",
                      [&script](std::string_view value) -> cli::problem {
                        const auto outcome = parse_outcome(value);
                        if (!outcome) return "--outcome must be completed, busy, no-answer or failed";
                        script.outcome = *outcome;
                        return std::nullopt;
                      }),
          cli::number("--ringing-after-ms", "N", "initiated to ringing", script.ringing_after_ms),
          cli::number("--answer-after-ms", "N", "ringing to answered (or the outcome)", script.answer_after_ms),
          cli::number("--complete-after-ms", "N", "answered to completed; negative: until hung up",
                      script.complete_after_ms),
          cli::enable("--fetch-voice-url", "on answer, POST the call's Url (signed) like Twilio",
                      script.fetch_voice_url),
      });
  flags.apply_or_exit(argc, argv);
  if (options.auth_token.empty() && options.api_key_secret.empty())
    flags.usage_error("set --auth-token (or $TWILIO_AUTH_TOKEN) or an API key and secret");

  // Blocked before the server thread starts, so that only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    sim::rest_simulator simulator(options);
    simulator.start(host, port);
    spdlog::info("twilio-rest-sim: account {} at {}", simulator.account_sid(), simulator.base_url());
    int received = 0;
    sigwait(&signals, &received);
    spdlog::info("twilio-rest-sim: stopping");
  } catch (const std::exception& e) {
    spdlog::error("twilio-rest-sim: {}", e.what());
    return 1;
  }
  return 0;
}
