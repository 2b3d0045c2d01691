// mediabridge: settings → logger → workers → (demo simulator) → HTTP server → signals → run.

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "agents/agent_profile.hpp"
#include "bridge/call_session.hpp"
#include "call/end_reasons.hpp"
#include "config/settings.hpp"
#include "metrics/bridge_metrics.hpp"
#include "server/agent_setup.hpp"
#include "server/bridge_setup.hpp"
#include "server/http_server.hpp"
#include "server/listener_hub.hpp"
#include "server/logging.hpp"
#include "server/memory_trimmer.hpp"
#include "server/metrics_setup.hpp"
#include "protocol/stream_token.hpp"
#include "server/server_context.hpp"
#include "store/call_store.hpp"
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

// A call holds two sockets, plus one for its webhook while it is answered: the usual soft limit of
// 1024 descriptors caps a server near 400 calls. Raise it to the hard limit the system allows.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const auto soft = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
    spdlog::warn("cannot raise the open file limit from {}: at most about {} concurrent calls", soft, soft / 2);
  else
    spdlog::info("open file limit raised from {} to the hard limit {}", soft, limit.rlim_cur);
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
  raise_open_file_limit();

  const auto threads = settings.worker_threads > 0 ? static_cast<std::size_t>(settings.worker_threads)
                                                   : std::max(1u, std::thread::hardware_concurrency());
  // Call history and live events each run on their own thread: neither the disk nor a listener ever
  // holds up a call. Declared before the workers, so that they outlive every call and listener.
  std::unique_ptr<store::call_store> history;
  if (settings.database_path.empty()) {
    spdlog::warn("DATABASE_PATH is empty: call history is not stored");
  } else {
    try {
      history = std::make_unique<store::call_store>(
          store::store_options{settings.database_path, static_cast<std::size_t>(settings.store_queue_size)});
    } catch (const std::exception& e) {
      spdlog::critical("DATABASE_PATH: {}", e.what());
      return 1;
    }
    spdlog::info("call history: {}", settings.database_path);
  }
  server::listener_hub listeners(server::with_settings({}, settings), history.get());
  if (settings.api_token.empty())
    spdlog::warn("API_TOKEN is not set: the listener and history endpoints (/v1/...) accept loopback clients only");

  server::io_pool pool(threads);

  metrics::registry metric_registry;
  metrics::bridge_metrics bridge_metrics(metric_registry, call::end_reason_names());
  // Sampled every 5 s; a burst that leaves 32 MiB resident and free is given back (docs/performance.md,
  // "Memory after bursts").
  server::memory_trimmer trimmer(std::chrono::seconds(5), std::size_t{32} << 20);
  trimmer.register_metrics(metric_registry);
  log::shared_line_budget peer_lines;  // every connection's log lines together
  bridge::call_registry registry({.calls = static_cast<std::size_t>(settings.max_concurrent_calls),
                                  .pending = static_cast<std::size_t>(settings.max_pending_streams)});
  bridge::bridge_context bridge;
  bridge.metrics = &bridge_metrics;
  bridge.peer_lines = &peer_lines;
  bridge.session = session_from(settings);
  bridge.call.pacing_lead_ms = settings.pacing_lead_ms;
  bridge.call.pre_connect_buffer_ms = settings.pre_connect_buffer_ms;
  bridge.call.greeting = settings.greeting;
  bridge.upstream_connect_timeout = std::chrono::milliseconds(settings.upstream_connect_timeout_ms);
  bridge.lifecycle = server::supervisor_options_from(settings);
  // No WebSocket idle timeout towards Twilio: STREAM_START_TIMEOUT_MS and TWILIO_MEDIA_TIMEOUT_S end a
  // stream that goes quiet, and Beast re-arms its idle timer on every read (a timer cancel, a posted
  // handler and a new wait per frame, ~3% of the bridge's CPU under load; docs/performance.md).
  bridge.twilio_limits = {.max_message_bytes = 64 * 1024, .handshake_timeout_ms = 10000, .idle_timeout_ms = 0};
  bridge.upstream_limits = {.max_message_bytes = 8 << 20, .handshake_timeout_ms = 10000, .idle_timeout_ms = 60000};
  bridge.registry = &registry;
  bridge.events = &listeners;

  std::string tls_error;
  bridge.tls = net::tls_client_context::create(settings.upstream_ca_file, tls_error);
  if (!bridge.tls) {
    std::fprintf(stderr, "mediabridge: UPSTREAM_CA_FILE: %s\n", tls_error.c_str());
    return 2;
  }

  std::unique_ptr<tools::sim::realtime_simulator> simulator;
  std::string upstream_base = settings.openai_realtime_url;  // each agent profile adds its ?model=
  if (settings.openai_api_key.empty()) {
    simulator = std::make_unique<tools::sim::realtime_simulator>(pool.first(), tools::sim::simulator_options{});
    const auto sim_port = simulator->listen("127.0.0.1", 0);
    upstream_base = "ws://127.0.0.1:" + std::to_string(sim_port) + "/v1/realtime";
    bridge.upstream_url = server::realtime_url(upstream_base, settings.openai_model);
    bridge.upstream_headers = {{"Authorization", "Bearer demo"}};
    print_demo_banner(sim_port);
  } else {
    bridge.upstream_url = server::realtime_url(upstream_base, settings.openai_model);
    bridge.upstream_headers = {{"Authorization", "Bearer " + settings.openai_api_key.reveal()}};
    spdlog::info("upstream: {} (voice {})", bridge.upstream_url, settings.openai_voice);
  }

  // Keyed by the auth token so that every instance behind a balancer accepts the others' tokens.
  server::stream_tokens tokens(settings.twilio_auth_token.empty() ? server::random_key()
                                                                  : settings.twilio_auth_token.reveal(),
                               std::chrono::seconds(settings.stream_token_ttl_s));
  bridge.authorize_start = [&tokens](const protocol::twilio_start& start) {
    for (const auto& [name, value] : start.custom_parameters)
      if (name == protocol::stream_token_parameter) return tokens.redeem(start.call_sid, value);
    return tokens.redeem(start.call_sid, "");
  };
  if (settings.twilio_auth_token.empty())
    spdlog::warn("TWILIO_AUTH_TOKEN is not set: webhook and stream signatures are NOT checked; anyone who can "
                 "reach this server can open calls (and spend your OpenAI credit). Set it in production.");

  agents::agent_profile base_profile;
  base_profile.session = bridge.session;
  base_profile.greeting = settings.greeting;
  base_profile.model = settings.openai_model;
  std::string agents_error;
  const auto agents = server::load_agents(settings, std::move(base_profile), agents_error);
  if (!agents) {
    std::fprintf(stderr, "mediabridge: agent profiles: %s\n", agents_error.c_str());
    return 2;
  }
  bridge.resolve = [&agents, upstream_base](const protocol::twilio_start& start) {
    return server::resolve_call(*agents, upstream_base, start);
  };
  spdlog::info("{} agent profile(s); default: {}", agents->profiles().size(), agents->default_profile().name);

  server::server_context ctx{settings, bridge, registry, tokens};
  ctx.agents = &*agents;
  ctx.listeners = &listeners;
  ctx.store = history.get();
  ctx.metrics = &metric_registry;
  server::register_server_metrics(metric_registry, ctx);
  server::http_server http(pool, ctx);
  http.register_metrics(metric_registry);
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
          listeners.close_all([&pool] { pool.stop(); });
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
  // Every call has ended and published its last events: commit them before the process exits.
  listeners.stop();
  if (history) {
    history->close();
    const auto s = history->stats();
    spdlog::info("call history flushed: {} record(s) written, {} write error(s), {} dropped", s.written,
                 s.write_errors, s.dropped);
  }
  return 0;
}
