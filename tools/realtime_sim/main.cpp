// mediabridge-realtime-sim: the upstream simulator (simulator/) as a standalone loopback server, for
// demos and load tests without an API key. Point the bridge at ws://127.0.0.1:<port>/v1/realtime
// (the Realtime API), ws://127.0.0.1:<port>/v1/live/sessions (GPT-Live), http://127.0.0.1:<port> as
// the Azure OpenAI endpoint (/openai/v1/realtime, /openai/v1/live), or
// ws://127.0.0.1:<port>/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent
// (Gemini Live). Tool webhooks: POST http://127.0.0.1:<port>/tools/<name> (--tool-reply, --tool-call).

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "tools/cli/flags.hpp"
#include "simulator/upstream_simulator.hpp"

namespace {

namespace asio = mb::asio;
namespace sim = mb::simulator;
namespace cli = mb::tools::cli;

constexpr std::string_view program = "mediabridge-realtime-sim";

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8765;
  unsigned threads = 1;
  sim::simulator_options options;
  options.record_audio = false;
  options.record_events = false;
  options.log_sessions = true;
  bool record = false;

  const cli::flag_table flags(
      program, "usage: mediabridge-realtime-sim [options]\n",
      {
          cli::text("--host", "ADDR", "loopback address to listen on", host),
          cli::number("--port", "N", "port, 0 = ephemeral", port),
          cli::number("--threads", "N", "io_context threads", threads),
          cli::number("--speed", "X", "audio sent X times faster than real time", options.speed),
          cli::number("--response-ms", "N", "audio per assistant item in ms", options.response_ms),
          cli::number("--chunk-bytes", "N", "μ-law bytes per audio delta (800 = 100 ms)", options.chunk_bytes),
          cli::number("--items", "N", "audio items per response", options.audio_items_per_response),
          cli::number("--first-audio-delay-ms", "N", "extra delay before an item's first delta",
                      options.first_audio_delay_ms),
          cli::number("--late-deltas", "N",
                      "deltas still sent after a cancel or, on GPT-Live, after the caller's speech is detected",
                      options.late_deltas_after_cancel),
          cli::enable("--live-audio-timing", "GPT-Live: start_ms/end_ms on session.output_audio.delta",
                      options.live_audio_timing),
          cli::text("--force-output-format", "TYPE",
                    "announce this output format in session.updated, or this audio format in GPT-Live's "
                    "session.started (e.g. audio/pcm)",
                    options.force_output_format),
          cli::number("--upgrade-delay-ms", "N", "answer each WebSocket upgrade N ms after its TCP accept (a provider's "
                      "connect time)", options.upgrade_delay_ms),
          cli::number("--session-updated-delay-ms", "N", "delay session.updated, session.started and setupComplete",
                      options.session_updated_delay_ms),
          cli::number("--gemini-chunk-ms", "N", "Gemini: audio per modelTurn message in ms", options.gemini_chunk_ms),
          cli::number("--gemini-go-away-after-ms", "N", "Gemini: connection age at which goAway is sent (0 = never)",
                      options.gemini_go_away_after_ms),
          cli::number("--gemini-go-away-time-left-ms", "N", "Gemini: goAway's timeLeft, then the connection closes",
                      options.gemini_go_away_time_left_ms),
          cli::number("--gemini-handle-lifetime-ms", "N", "Gemini: how long a resumption handle resumes",
                      options.gemini_handle_lifetime_ms),
          cli::custom("--tool-call", "TURN:TOOL[:JSON]",
                      "after caller turn TURN the model calls TOOL (when the session declared it) with these "
                      "arguments, then speaks about the result; end_call is said goodbye to first (repeatable)",
                      "", [&options](std::string_view spec) -> cli::problem {
                        auto call = sim::parse_tool_call(spec);
                        if (!call) return "--tool-call: expected TURN:TOOL[:JSON object], not '" + std::string(spec) + "'";
                        options.tool_call_script.push_back(std::move(*call));
                        return std::nullopt;
                      }),
          cli::enable("--gemini-cancel-tool-calls", "Gemini: caller speech cancels unanswered tool calls (toolCallCancellation)",
                      options.gemini_cancel_tool_calls_on_barge_in),
          cli::custom("--tool-reply", "TOOL=REPLY",
                      "how POST /tools/TOOL answers: echo, json:<JSON>, status:<code>, delay:<ms>, invalid or "
                      "oversize (repeatable)",
                      "echo", [&options](std::string_view spec) -> cli::problem {
                        const auto equals = spec.find('=');
                        const auto reply = equals == std::string_view::npos ? std::nullopt
                                                                            : sim::parse_tool_reply(spec.substr(equals + 1));
                        if (!reply || !sim::tool_name_of("/tools/" + std::string(spec.substr(0, equals))))
                          return "--tool-reply: expected TOOL=echo|json:<JSON>|status:<code>|delay:<ms>|invalid|oversize, not '" +
                                 std::string(spec) + "'";
                        options.tool_replies.insert_or_assign(std::string(spec.substr(0, equals)), *reply);
                        return std::nullopt;
                      }),
          cli::secret("--tool-webhook-secret", "SECRET",
                      "check X-Mediabridge-Signature on POST /tools/<name> with this secret (401 when it fails)",
                      options.tool_webhook_secret, "none: not checked"),
          cli::enable("--record", "keep per-session audio and event records (memory grows per call)", record),
      });
  flags.apply_or_exit(argc, argv);
  if (threads == 0) flags.usage_error("--threads must be at least 1");
  options.record_audio = options.record_events = record;

  try {
    asio::io_context ioc(static_cast<int>(threads));
    sim::upstream_simulator simulator(ioc, options);
    simulator.listen(host, port);
    for (const auto provider : mb::upstream::all_providers)
      spdlog::info("realtime-sim: {} on {}", mb::upstream::to_string(provider), simulator.url_for(provider));
    spdlog::info("realtime-sim: Azure endpoint {} (speed {}x, {} ms per item)", simulator.endpoint(), options.speed,
                 options.response_ms);
    spdlog::info("realtime-sim: tool webhooks on {}", simulator.tool_url("<name>"));

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const mb::error_code& ec, int) {
      if (ec) return;
      spdlog::info("realtime-sim: stopping");
      simulator.stop();
    });

    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    spdlog::error("realtime-sim: {}", e.what());
    return 1;
  }
  return 0;
}
