// mediabridge-realtime-sim: the upstream simulator (simulator/) as a standalone loopback server, for
// demos and load tests without an API key. Point the bridge at ws://127.0.0.1:<port>/v1/realtime
// (the Realtime API) or ws://127.0.0.1:<port>/v1/live/sessions (GPT-Live).

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "tools/cli/command_line.hpp"
#include "simulator/upstream_simulator.hpp"

namespace {

namespace asio = mb::asio;
namespace sim = mb::simulator;

constexpr std::string_view usage = R"(usage: mediabridge-realtime-sim [options]
  --host ADDR                   loopback address to listen on (default 127.0.0.1)
  --port N                      port, 0 = ephemeral (default 8765)
  --threads N                   io_context threads (default 1)
  --speed X                     audio sent X times faster than real time (default 4)
  --response-ms N               audio per assistant item in ms (default 2000)
  --chunk-bytes N               μ-law bytes per audio delta (default 800 = 100 ms)
  --items N                     audio items per response (default 1)
  --first-audio-delay-ms N      extra delay before an item's first delta (default 0)
  --late-deltas N               deltas still sent after a cancel or, on GPT-Live, after the caller's
                                speech is detected (default 0)
  --live-audio-timing           GPT-Live: start_ms/end_ms on session.output_audio.delta
  --force-output-format TYPE    announce this output format in session.updated, or this audio format
                                in GPT-Live's session.started (e.g. audio/pcm)
  --session-updated-delay-ms N  delay session.updated and session.started (default 0)
  --record                      keep per-session audio and event records (memory grows per call)
)";

constexpr mb::tools::command_line cli{"mediabridge-realtime-sim", usage};


}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8765;
  unsigned threads = 1;
  sim::simulator_options options;
  options.record_audio = false;
  options.record_events = false;
  options.log_sessions = true;

  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") {
      cli.print_usage();
      return 0;
    }
    if (flag == "--record") {
      options.record_audio = options.record_events = true;
      continue;
    }
    if (flag == "--live-audio-timing") {
      options.live_audio_timing = true;
      continue;
    }
    if (i + 1 >= args.size()) cli.usage_error("missing value for " + std::string(flag));
    const std::string_view value = args[++i];
    if (flag == "--host") host = value;
    else if (flag == "--port") port = cli.number<std::uint16_t>(flag, value);
    else if (flag == "--threads") threads = cli.number<unsigned>(flag, value);
    else if (flag == "--speed") options.speed = cli.number<double>(flag, value);
    else if (flag == "--response-ms") options.response_ms = cli.number<std::uint32_t>(flag, value);
    else if (flag == "--chunk-bytes") options.chunk_bytes = cli.number<std::uint32_t>(flag, value);
    else if (flag == "--items") options.audio_items_per_response = cli.number<std::uint32_t>(flag, value);
    else if (flag == "--first-audio-delay-ms") options.first_audio_delay_ms = cli.number<std::uint32_t>(flag, value);
    else if (flag == "--late-deltas") options.late_deltas_after_cancel = cli.number<std::uint32_t>(flag, value);
    else if (flag == "--force-output-format") options.force_output_format = value;
    else if (flag == "--session-updated-delay-ms") options.session_updated_delay_ms = cli.number<std::uint32_t>(flag, value);
    else cli.usage_error("unknown option " + std::string(flag));
  }
  if (threads == 0) cli.usage_error("--threads must be at least 1");

  try {
    asio::io_context ioc(static_cast<int>(threads));
    sim::upstream_simulator simulator(ioc, options);
    simulator.listen(host, port);
    spdlog::info("realtime-sim: listening on {} and {} (speed {}x, {} ms per item)",
                 simulator.url_for(mb::upstream::provider_kind::openai_realtime),
                 simulator.url_for(mb::upstream::provider_kind::openai_live), options.speed, options.response_ms);

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
