// mediabridge-load: many simulated Twilio calls against a running mediabridge, with the Realtime
// simulator hosted here, and the figures docs/performance.md publishes (tools/load_gen/load_run.hpp).
//
// Start the bridge on the hosted simulator first (scripts/bench does all of this):
//   export OPENAI_REALTIME_URL=ws://127.0.0.1:9300/v1/realtime OPENAI_API_KEY=bench
//   PUBLIC_URL=http://127.0.0.1:8080 build/app/mediabridge &
//   mediabridge-load --host-simulator 9300 --webhook http://127.0.0.1:8080/voice --calls 100 --bridge-pid $!
// For GPT-Live, start the bridge with PROVIDER=openai-live OPENAI_LIVE_URL=ws://127.0.0.1:9300/v1/live/sessions
// and pass --provider openai-live. On Azure's paths (PROVIDER=azure-realtime or azure-live with
// AZURE_OPENAI_ENDPOINT=http://127.0.0.1:9300) and Gemini's (PROVIDER=gemini with GEMINI_LIVE_URL set to
// the simulator's Gemini URL, which mediabridge-realtime-sim prints) pass that provider's name the same way.
// Gemini's audio is transcoded by the bridge, so the byte stamps of its frames cannot be read: they
// count as unstamped.
//
// Exit code: 0 when every call succeeded and no frame was lost, duplicated, reordered or misrouted;
// 1 otherwise; 2 for a usage error.

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "simulator/upstream_simulator.hpp"
#include "tools/cli/flags.hpp"
#include "tools/load_gen/load_run.hpp"
#include "tools/load_gen/proc_sampler.hpp"

namespace {

namespace load = mb::tools::load;
namespace cli = mb::tools::cli;
namespace twilio = mb::tools::twilio;
namespace sim = mb::simulator;
namespace asio = mb::asio;

constexpr std::string_view program = "mediabridge-load";

constexpr std::string_view usage_head = R"(usage: mediabridge-load --webhook URL --host-simulator PORT [options]
Runs simulated Twilio calls against a mediabridge whose upstream is the simulator this tool hosts on
127.0.0.1:PORT (OPENAI_REALTIME_URL=ws://127.0.0.1:PORT/v1/realtime, or for GPT-Live
OPENAI_LIVE_URL=ws://127.0.0.1:PORT/v1/live/sessions), and reports relay latency, barge-in reaction,
truncate accuracy, frame loss and the CPU and memory of the bridge (--bridge-pid) and of this tool.
)";

constexpr std::string_view usage_tail = R"(usage: mediabridge-load --table REPORT.json...
Prints the Markdown results table of docs/performance.md from reports written with --json.
)";

// A caller script flag: replaces `target`, whose value is the default shown.
cli::flag script_flag(std::string name, std::string help, std::vector<twilio::audio_segment>& target) {
  auto shown = load::script_spec(target);
  return cli::custom(name, "SPEC", std::move(help), std::move(shown),
                     [&target, name](std::string_view value) -> cli::problem {
                       auto script = load::parse_script(value);
                       if (script.empty()) return "invalid " + name + " (kind:ms,... with kind speech|silence)";
                       target = std::move(script);
                       return std::nullopt;
                     });
}

// Each call needs a socket to the bridge and the simulator needs one per call from it: raise the
// soft descriptor limit to the hard one.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

double num(const boost::json::value& v) { return v.is_double() ? v.as_double() : static_cast<double>(v.to_number<std::int64_t>()); }

const boost::json::value& at(const boost::json::value& v, std::initializer_list<std::string_view> path) {
  const boost::json::value* p = &v;
  for (const auto key : path) p = &p->as_object().at(key);
  return *p;
}

int print_table(int argc, char** argv) {
  std::printf("| provider | calls | ok / failed | frames lost / dup / reordered | caller→upstream p50 / p99 / max (ms) | "
              "upstream→caller p50 / p99 / max (ms) | barge-in clear p50 / p99 (ms) | truncate \\|error\\| p95 (ms) | "
              "bridge CPU (%% of a core) | bridge CPU per call (ms/s) | bridge RSS per call (KB) | generator + simulator "
              "CPU (%%) | load average |\n");
  std::printf("|---|---:|---|---|---|---|---|---:|---:|---:|---:|---:|---|\n");
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i]);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    boost::system::error_code ec;
    const auto r = boost::json::parse(text, ec);
    if (ec || !r.is_object()) {
      std::fprintf(stderr, "mediabridge-load: %s is not a report\n", argv[i]);
      return 2;
    }
    const auto lat = [&](std::string_view dir, std::string_view q) {
      return num(at(r, {"relay_latency", dir, q})) / 1000.0;
    };
    const auto broken = [&](std::string_view what) {
      return num(at(r, {"frames", "caller_to_upstream", what})) + num(at(r, {"frames", "upstream_to_caller", what}));
    };
    const bool sampled = r.as_object().contains("bridge");
    const auto bridge = [&](std::string_view k) { return sampled ? num(at(r, {"bridge", k})) : 0.0; };
    const auto* provider = r.as_object().if_contains("provider");  // reports before it were all Realtime
    std::printf("| %s | %.0f | %.0f / %.0f | %.0f / %.0f / %.0f | %.3f / %.3f / %.1f | %.3f / %.3f / %.1f | %.3f / %.3f | %.0f | "
                "%.0f | %.3f | %.0f | %.0f + %.0f | %.1f → %.1f |\n",
                provider ? std::string(provider->as_string()).c_str() : "openai-realtime", num(at(r, {"calls"})),
                num(at(r, {"calls_ok"})), num(at(r, {"calls_failed"})), broken("lost"),
                broken("duplicated"), broken("reordered"), lat("caller_to_upstream", "p50_us"),
                lat("caller_to_upstream", "p99_us"), lat("caller_to_upstream", "max_us"),
                lat("upstream_to_caller", "p50_us"), lat("upstream_to_caller", "p99_us"),
                lat("upstream_to_caller", "max_us"), num(at(r, {"barge_in_clear", "p50_us"})) / 1000.0,
                num(at(r, {"barge_in_clear", "p99_us"})) / 1000.0, num(at(r, {"truncates", "error_p95_abs_ms"})),
                bridge("cpu_percent"), bridge("cpu_ms_per_call_second"), bridge("rss_per_call_kb"),
                num(at(r, {"generator", "cpu_percent"})), num(at(r, {"generator", "simulator_cpu_percent"})),
                num(at(r, {"load_average_1m", "start"})), num(at(r, {"load_average_1m", "end"})));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "--table") return print_table(argc, argv);
  load::load_options options;
  if (const char* token = std::getenv("TWILIO_AUTH_TOKEN")) options.auth_token = token;
  int sim_port = 0;
  int sim_threads = 1;
  std::string json_path;
  const cli::flag_table flags(
      program, std::string(usage_head),
      {
          cli::text("--webhook", "URL", "the bridge's voice webhook on loopback, e.g. http://127.0.0.1:8080/voice",
                    options.webhook_url),
          cli::number("--host-simulator", "PORT", "serve the simulator on 127.0.0.1:PORT (the bridge connects to it)",
                      sim_port),
          cli::custom("--provider", "NAME",
                      "the protocol the bridge speaks upstream; the report names it, and a session on another "
                      "is a failure",
                      std::string(mb::upstream::to_string(options.provider)),
                      [&options](std::string_view value) -> cli::problem {
                        const auto provider = mb::upstream::provider_from_name(value);
                        if (!provider) return "--provider must be one of " + mb::upstream::provider_names();
                        options.provider = *provider;
                        return std::nullopt;
                      }),
          cli::secret("--auth-token", "TOKEN", "sign like Twilio; prefer the variable: arguments show in `ps`",
                      options.auth_token, "$TWILIO_AUTH_TOKEN"),
          cli::number("--calls", "N", "concurrent calls, at most " + std::to_string(load::max_calls), options.calls),
          cli::number("--ramp-per-s", "R", "calls started per second", options.ramp_per_s),
          cli::number("--duration-s", "D", "each call's length in seconds", options.duration_s),
          cli::number("--barge-in-share", "F", "share of calls that talk over the answer, 0..1",
                      options.barge_in_share),
          script_flag("--script", "caller audio of other calls, repeated", options.script),
          script_flag("--barge-in-script", "caller audio of barge-in calls, repeated", options.barge_in_script),
          cli::number("--threads", "N", "generator I/O threads", options.threads),
          cli::number("--send-grid-us", "US",
                      "caller frames leave on a grid of this period (0: each at its own time); fewer "
                      "wake-ups for the generator and the bridge, each frame up to this late",
                      options.send_grid_us),
          cli::number("--simulator-threads", "N", "simulator I/O threads", sim_threads),
          cli::number("--bridge-pid", "PID", "sample the bridge's CPU and RSS from /proc/PID", options.bridge_pid),
          cli::number("--warmup-frames", "N", "caller frames per call left out of the latency figures",
                      options.warmup_frames),
          cli::number("--settle-ms", "MS", "wait after the last call started before measuring", options.settle_ms),
          cli::text("--json", "FILE", "also write the report as JSON (\"-\": stdout instead of the table)", json_path),
      },
      std::string(usage_tail));
  flags.apply_or_exit(argc, argv);
  if (options.webhook_url.empty()) flags.usage_error("--webhook is required");
  if (sim_port < 1 || sim_port > 65535) flags.usage_error("--host-simulator PORT is required (1..65535)");
  if (options.calls == 0 || options.calls > load::max_calls) flags.usage_error("--calls must be 1..20000");
  if (!(options.barge_in_share >= 0 && options.barge_in_share <= 1)) flags.usage_error("--barge-in-share must be 0..1");
  if (options.threads < 1 || options.threads > 64 || sim_threads < 1 || sim_threads > 64)
    flags.usage_error("--threads and --simulator-threads must be 1..64");
  if (options.send_grid_us < 0 || options.send_grid_us > 20000) flags.usage_error("--send-grid-us must be 0..20000");
  raise_open_file_limit();

  auto probe = std::make_shared<load::load_probe>(options.calls, options.warmup_frames);
  sim::simulator_options sim_options;
  sim_options.record_audio = false;
  sim_options.record_events = false;
  sim_options.probe = probe;
  asio::io_context sim_ioc(sim_threads);
  std::unique_ptr<sim::upstream_simulator> simulator;
  try {
    simulator = std::make_unique<sim::upstream_simulator>(sim_ioc, sim_options);
    simulator->listen("127.0.0.1", static_cast<std::uint16_t>(sim_port));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mediabridge-load: cannot host the simulator on 127.0.0.1:%d: %s\n", sim_port, e.what());
    return 2;
  }
  std::vector<std::thread> sim_pool;
  for (int t = 0; t < sim_threads; ++t)
    sim_pool.emplace_back([&sim_ioc] {
      load::register_current_thread("simulator");
      sim_ioc.run();
    });

  load::load_report report;
  int status = 0;
  try {
    report = load::run_load(options, *probe);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mediabridge-load: %s\n", e.what());
    status = 2;
  }
  simulator->stop();
  for (auto& t : sim_pool) t.join();
  simulator.reset();
  if (status != 0) return status;

  const std::string json = boost::json::serialize(report.to_json());
  if (json_path == "-") {
    std::cout << json << "\n";
  } else {
    std::cout << report.table();
    if (!json_path.empty()) std::ofstream(json_path) << json << "\n";
  }
  return report.clean() ? 0 : 1;
}
