// mediabridge: settings → logger → workers → (demo simulator) → HTTP server → signals → run.

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "agents/demo_mode.hpp"
#include "agents/settings_profile.hpp"
#include "bridge/call_session.hpp"
#include "bridge/prewarm_pool.hpp"
#include "call/end_reasons.hpp"
#include "config/settings.hpp"
#include "metrics/bridge_metrics.hpp"
#include "server/agent_setup.hpp"
#include "server/bridge_setup.hpp"
#include "server/drain.hpp"
#include "server/http_server.hpp"
#include "server/listener_hub.hpp"
#include "server/logging.hpp"
#include "server/memory_trimmer.hpp"
#include "server/metrics_setup.hpp"
#include "server/probe_monitor.hpp"
#include "protocol/base64.hpp"
#include "protocol/standard_webhook.hpp"
#include "protocol/stream_token.hpp"
#include "routing/route.hpp"
#include "telephony/openai_calls.hpp"
#include "server/outbound.hpp"
#include "server/probe_setup.hpp"
#include "server/recording_setup.hpp"
#include "server/server_context.hpp"
#include "server/client_secrets.hpp"
#include "server/sip_webhook.hpp"
#include "store/call_store.hpp"
#include "telephony/twilio_client.hpp"
#include "simulator/upstream_simulator.hpp"

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

// Says which providers the simulator answers for, and what to set to reach each for real.
void print_demo_banner(const agents::demo_plan& plan, std::uint16_t sim_port) {
  spdlog::warn("****************************************************************************");
  spdlog::warn("*  DEMO MODE: calls to these providers are bridged to the built-in simulator");
  spdlog::warn("*  (127.0.0.1:{}), which answers with test tones, canned transcripts and a", sim_port);
  spdlog::warn("*  real barge-in:");
  for (const auto& mode : plan.providers)
    if (mode.in_use && mode.simulated)
      spdlog::warn("*    {}: set {} to reach it", upstream::to_string(mode.provider),
                   agents::credentials_for(mode.provider));
  spdlog::warn("****************************************************************************");
}

// Where the simulated OpenAI sends its webhooks: this server, on loopback when it listens on every address.
std::string own_webhook_url(const config::settings& settings, std::uint16_t port) {
  std::string host = settings.listen_host;
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port) + std::string(routing::openai_webhook_path);
}

// Demo mode answers a SIP-mode profile whose provider is simulated without OPENAI_SIP_URI: Twilio's side
// dials the simulator, which signs its webhooks with this secret unless OPENAI_WEBHOOK_SECRET names one.
bool demo_sip(const config::settings& settings, const agents::agent_catalog& agents, const agents::demo_plan& plan) {
  return settings.openai_sip_uri.empty() &&
         std::any_of(agents.profiles().begin(), agents.profiles().end(), [&](const agents::agent_profile& p) {
           return p.mode == agents::call_mode::sip && plan.simulated(p.provider);
         });
}

std::string generated_webhook_secret() {
  return "whsec_" + protocol::base64_encode(server::random_key());
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
          store::store_options{settings.database_path, static_cast<std::size_t>(settings.store_queue_size),
                               settings.probe_retention_days});
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
  std::string tls_error;
  auto tls = net::tls_client_context::create(settings.upstream_ca_file, tls_error);
  if (!tls) {
    std::fprintf(stderr, "mediabridge: UPSTREAM_CA_FILE: %s\n", tls_error.c_str());
    return 2;
  }
  std::string agents_error;
  auto agents = server::load_agents(settings, agents::profile_from(settings), agents_error);
  if (!agents) {
    std::fprintf(stderr, "mediabridge: agent profiles: %s\n", agents_error.c_str());
    return 2;
  }
  if (settings.tool_webhook_secret.empty() &&
      std::any_of(agents->profiles().begin(), agents->profiles().end(), [](const auto& p) { return !p.tools.tools.empty(); }))
    spdlog::warn("TOOL_WEBHOOK_SECRET is not set: tool webhooks are sent unsigned (docs/tools.md)");
  std::string demo_error;
  const auto demo = agents::plan_demo(settings, agents->profiles(), demo_error);
  if (!demo) {
    std::fprintf(stderr, "mediabridge: %s\n", demo_error.c_str());
    return 2;
  }
  auto endpoints = agents::endpoints_from(settings);
  for (const auto& line : agents::describe(*demo, endpoints)) spdlog::info("{}", line);
  std::unique_ptr<mb::simulator::upstream_simulator> simulator;
  std::string webhook_secret = settings.openai_webhook_secret.reveal();
  std::string demo_sip_uri;
  if (demo->needs_simulator()) {
    if (demo_sip(settings, *agents, *demo) && webhook_secret.empty()) {
      webhook_secret = generated_webhook_secret();
      spdlog::warn("demo mode: OPENAI_WEBHOOK_SECRET is not set: the simulated OpenAI signs its webhooks with a "
                   "secret generated for this run");
    }
    simulator = std::make_unique<mb::simulator::upstream_simulator>(pool.first(), mb::simulator::demo_options());
    const auto sim_port = simulator->listen("127.0.0.1", 0);
    demo_sip_uri = "sip:proj_demo@127.0.0.1:" + std::to_string(sim_port) + ";transport=tls";
    const auto sim_urls = simulator->demo_urls();
    endpoints = agents::simulated_endpoints(std::move(endpoints), *demo, sim_urls);
    // The simulated profiles show a tool call: a tool whose webhook is the simulator's.
    agents = agents::agent_catalog::create(agents::with_demo_tool(agents->profiles(), *demo, sim_urls),
                                           agents->default_profile().name, agents_error);
    if (!agents) {
      std::fprintf(stderr, "mediabridge: agent profiles: %s\n", agents_error.c_str());
      return 2;
    }
    print_demo_banner(*demo, sim_port);
  }
  const auto sip_uri = server::sip_uri_for(settings, *agents, *demo, demo_sip_uri, agents_error);
  if (!sip_uri) {
    std::fprintf(stderr, "mediabridge: %s\n", agents_error.c_str());
    return 2;
  }
  if (!sip_uri->empty()) {
    spdlog::info("SIP-mode agent profiles: Twilio dials {}; OpenAI's webhooks: POST {}", *sip_uri,
                 routing::openai_webhook_path);
    if (webhook_secret.empty())
      spdlog::warn("OPENAI_WEBHOOK_SECRET is not set: POST {} answers 503 and SIP-mode calls are not accepted",
                   routing::openai_webhook_path);
  }
  std::string recording_error;
  const auto recordings = server::make_recording_writer(settings, *agents, history.get(), recording_error);
  if (!recording_error.empty()) {
    std::fprintf(stderr, "mediabridge: %s\n", recording_error.c_str());
    return 2;
  }
  auto bridge = server::bridge_context_from(settings, endpoints);
  bridge.recorder = recordings.get();
  spdlog::info("upstream: {} at {} (voice {})", upstream::to_string(bridge.provider), bridge.upstream_url,
               settings.openai_voice);
  bridge.metrics = &bridge_metrics;
  bridge.peer_lines = &peer_lines;
  bridge.registry = &registry;
  bridge.events = &listeners;
  bridge.tls = std::move(tls);
  // Declared after the bridge context that points to it and before the workers: it outlives every call.
  const telephony::twilio_client twilio_rest(server::twilio_client_options_from(settings), bridge.tls);
  bridge.twilio_rest = &twilio_rest;
  telephony::openai_calls_options sip_control;
  sip_control.timeout_ms = settings.sip_accept_timeout_ms;
  sip_control.accept_retries = settings.sip_accept_retries;
  const telephony::openai_calls openai_calls(sip_control, bridge.tls);
  bridge.openai_calls = &openai_calls;
  if (twilio_rest.configured())
    spdlog::info("Twilio REST call control: available (account {}, {}) at {}", settings.twilio_account_sid,
                 settings.twilio_api_key_sid.empty() ? "auth token" : "API key " + settings.twilio_api_key_sid,
                 settings.twilio_api_base_url);
  else
    spdlog::info("Twilio REST call control: unavailable ({}); hang-up closes the stream "
                 "instead, and transfers and outbound calls cannot be made",
                 twilio_rest.unavailable_reason().value_or(""));

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

  bridge.resolve = [&agents, endpoints](const protocol::twilio_start& start) {
    return server::resolve_call(*agents, endpoints, start);
  };
  spdlog::info("{} agent profile(s); default: {}", agents->profiles().size(), agents->default_profile().name);

  // Where the prober (PROBE_AGENTS) hands its runs: logged, stored, exported and checked against PROBE_ALERTS.
  auto probe_runs = std::make_shared<server::probe_monitor>(pool.first().get_executor(), history.get(), &metric_registry,
                                                            server::probe_monitor_settings(settings, bridge.tls));
  std::string probe_error;
  auto probes = server::make_prober(settings, *agents, endpoints, bridge, pool.first().get_executor(), probe_runs,
                                    probe_error);
  if (!probe_error.empty()) {
    std::fprintf(stderr, "mediabridge: PROBE_AGENTS: %s\n", probe_error.c_str());
    return 2;
  }

  // Declared after the workers' io_contexts, whose timers and sockets its sessions hold.
  std::optional<bridge::prewarm_pool> prewarm;
  if (settings.prewarm) {
    bridge.prewarm = &prewarm.emplace(bridge::prewarm_pool::options{std::chrono::milliseconds(settings.prewarm_ttl_ms),
                                                                    static_cast<std::size_t>(settings.max_concurrent_calls)},
                                      bridge.tls);
    spdlog::info("PREWARM: each answered voice webhook opens its call's upstream session (unclaimed: closed after "
                 "{} ms)", settings.prewarm_ttl_ms);
  }

  server::server_context ctx{settings, bridge, registry, tokens};
  ctx.workers = &pool;
  ctx.agents = &*agents;
  ctx.listeners = &listeners;
  ctx.store = history.get();
  ctx.metrics = &metric_registry;
  ctx.recordings = recordings.get();
  if (recordings) server::register_recording_metrics(metric_registry, *recordings);
  server::outbound_service outbound(pool.first().get_executor(), ctx);
  ctx.outbound = &outbound;
  ctx.sip_uri = *sip_uri;
  // The secret was checked by config::load (a generated one is well-formed).
  std::optional<server::sip_webhook> openai_webhook;
  if (!webhook_secret.empty())
    ctx.openai_webhook = &openai_webhook.emplace(protocol::standard_webhook_key(webhook_secret).value_or(""), endpoints);
  // The same endpoints as calls: in demo mode the simulator mints the secrets.
  server::client_secret_service client_secrets(server::client_secret_options_from(settings), endpoints, bridge.tls);
  ctx.client_secrets = &client_secrets;
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
  // The simulated OpenAI's webhooks come to this server, whose port is known now.
  if (simulator && demo_sip(settings, *agents, *demo)) simulator->set_sip_webhook(own_webhook_url(settings, port), webhook_secret);
  spdlog::info("mediabridge {} listening on {}:{} with {} worker threads; voice webhook: POST /voice",
               server::version, settings.listen_host, port, pool.size());
  if (settings.public_url.empty())
    spdlog::info("PUBLIC_URL is not set: stream URLs are derived from each request's Host header");
  if (probes) probes->start();

  server::signal_drain drain(pool.first(), registry, ctx.draining, std::chrono::seconds(settings.drain_timeout_s),
                             [&] {
                               http.close();
                               // Before the simulator: a probe it closed would count as the provider's failure.
                               if (probes) probes->stop();
                               if (simulator) simulator->stop();
                               listeners.close_all([&pool] { pool.stop(); });
                             });
  if (prewarm) drain.on_drain_started([&prewarm] { prewarm->close_all(); });
  drain.start();

  pool.run();
  // Every call has ended and published its last events: commit them before the process exits.
  listeners.stop();
  // Before the history closes: each recording's outcome goes there.
  if (recordings) recordings->stop();
  if (history) {
    history->close();
    const auto s = history->stats();
    spdlog::info("call history flushed: {} record(s) written, {} write error(s), {} dropped", s.written,
                 s.write_errors, s.dropped);
  }
  return 0;
}
