// mediabridge: settings → logger → workers → (demo simulator) → HTTP server → signals → run.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "bridge/call_session.hpp"
#include "config/settings.hpp"
#include "server/http_server.hpp"
#include "server/logging.hpp"
#include "server/server_context.hpp"
#include "tools/realtime_sim/realtime_simulator.hpp"

extern char** environ;

namespace {

using namespace mb;

config::env_map read_environment() {
  config::env_map env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

protocol::session_config session_from(const config::settings& s) {
  protocol::session_config c;
  c.instructions = s.instructions;
  c.voice = s.openai_voice;
  c.transcription_model = s.transcription_model;
  switch (s.vad.type) {
    case config::vad_type::server_vad: c.turn_detection = protocol::turn_detection_type::server_vad; break;
    case config::vad_type::semantic_vad: c.turn_detection = protocol::turn_detection_type::semantic_vad; break;
    case config::vad_type::none: c.turn_detection = protocol::turn_detection_type::none; break;
  }
  c.vad_threshold = s.vad.threshold;
  c.vad_prefix_padding_ms = s.vad.prefix_padding_ms;
  c.vad_silence_duration_ms = s.vad.silence_duration_ms;
  c.vad_eagerness = s.vad.eagerness;
  c.vad_create_response = s.vad.create_response;
  c.vad_interrupt_response = s.vad.interrupt_response;
  return c;
}

std::string with_model(const std::string& url, const std::string& model) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "model=" + model;
}

void print_demo_banner(std::uint16_t sim_port) {
  spdlog::warn("****************************************************************************");
  spdlog::warn("*  DEMO MODE: OPENAI_API_KEY is not set.                                   *");
  spdlog::warn("*  Calls are bridged to the built-in Realtime simulator (127.0.0.1:{:<5}),  *", sim_port);
  spdlog::warn("*  which answers with test tones, canned transcripts and a real barge-in.  *");
  spdlog::warn("*  Set OPENAI_API_KEY to talk to the OpenAI Realtime API.                  *");
  spdlog::warn("****************************************************************************");
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto loaded = config::load(args, read_environment());
  if (loaded.show_help) {
    std::cout << config::help_text();
    return 0;
  }
  if (loaded.show_version) {
    std::cout << "mediabridge " << server::version << "\n";
    return 0;
  }
  if (loaded.print_config_markdown) {
    std::cout << config::markdown_table();
    return 0;
  }
  if (loaded.error) {
    std::fprintf(stderr, "mediabridge: %s: %s\n", loaded.error->variable.c_str(), loaded.error->problem.c_str());
    return 2;
  }
  const config::settings& settings = *loaded.value;
  server::configure_logging(settings);

  const auto threads = settings.worker_threads > 0 ? static_cast<std::size_t>(settings.worker_threads)
                                                   : std::max(1u, std::thread::hardware_concurrency());
  server::io_pool pool(threads);

  bridge::call_registry registry;
  bridge::bridge_context bridge;
  bridge.session = session_from(settings);
  bridge.call.pacing_lead_ms = settings.pacing_lead_ms;
  bridge.call.pre_connect_buffer_ms = settings.pre_connect_buffer_ms;
  bridge.call.greeting = settings.greeting;
  bridge.upstream_connect_timeout_ms = settings.upstream_connect_timeout_ms;
  bridge.session_update_timeout_ms = settings.session_update_timeout_ms;
  bridge.max_call_duration_s = settings.max_call_duration_s;
  bridge.twilio_limits = {.max_message_bytes = 64 * 1024, .handshake_timeout_ms = 10000, .idle_timeout_ms = 30000};
  bridge.upstream_limits = {.max_message_bytes = 8 << 20, .handshake_timeout_ms = 10000, .idle_timeout_ms = 60000};
  bridge.registry = &registry;

  std::string tls_error;
  bridge.tls = net::tls_client_context::create(settings.upstream_ca_file, tls_error);
  if (!bridge.tls) {
    std::fprintf(stderr, "mediabridge: UPSTREAM_CA_FILE: %s\n", tls_error.c_str());
    return 2;
  }

  std::unique_ptr<tools::sim::realtime_simulator> simulator;
  if (settings.openai_api_key.empty()) {
    simulator = std::make_unique<tools::sim::realtime_simulator>(pool.first(), tools::sim::simulator_options{});
    const auto sim_port = simulator->listen("127.0.0.1", 0);
    bridge.upstream_url = with_model("ws://127.0.0.1:" + std::to_string(sim_port) + "/v1/realtime", settings.openai_model);
    bridge.upstream_headers = {{"Authorization", "Bearer demo"}};
    print_demo_banner(sim_port);
  } else {
    bridge.upstream_url = with_model(settings.openai_realtime_url, settings.openai_model);
    bridge.upstream_headers = {{"Authorization", "Bearer " + settings.openai_api_key.reveal()}};
    spdlog::info("upstream: {} (voice {})", bridge.upstream_url, settings.openai_voice);
  }

  server::server_context ctx{settings, bridge, registry};
  server::http_server http(pool, ctx);
  std::uint16_t port = 0;
  try {
    port = http.listen(settings.listen_host, settings.port);
  } catch (const std::exception& e) {
    spdlog::critical("cannot listen on {}:{}: {}", settings.listen_host, settings.port, e.what());
    return 1;
  }
  spdlog::info("mediabridge {} listening on {}:{} with {} worker threads; voice webhook: POST /voice",
               server::version, settings.listen_host, port, pool.size());
  if (settings.public_url.empty())
    spdlog::info("PUBLIC_URL is not set: stream URLs are derived from each request's Host header");

  // First signal: drain (webhook answers fallback TwiML, running calls may finish); second: exit now.
  asio::signal_set signals(pool.first(), SIGINT, SIGTERM);
  int signals_seen = 0;
  asio::steady_timer drain_timer(pool.first());
  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const error_code& ec, int signo) {
      if (ec) return;
      if (++signals_seen > 1) {
        spdlog::warn("second signal: exiting now");
        std::_Exit(0);
      }
      spdlog::info("signal {}: draining {} active call(s) for up to {} s", signo, registry.active(),
                   settings.drain_timeout_s);
      ctx.draining = true;
      auto shutdown = [&] {
        asio::post(pool.first(), [&] {
          http.close();
          if (simulator) simulator->stop();
          pool.stop();
        });
      };
      drain_timer.expires_after(std::chrono::seconds(settings.drain_timeout_s));
      drain_timer.async_wait([&](const error_code& wec) {
        if (wec) return;
        spdlog::info("drain timeout: closing {} remaining call(s)", registry.active());
        registry.stop_all();
      });
      registry.on_idle([&, shutdown] {
        asio::post(pool.first(), [&, shutdown] {
          drain_timer.cancel();
          spdlog::info("no active calls: exiting");
          shutdown();
        });
      });
      wait_signal();
    });
  };
  wait_signal();

  pool.run();
  return 0;
}
