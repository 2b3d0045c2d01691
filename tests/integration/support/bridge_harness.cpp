#include "tests/integration/support/bridge_harness.hpp"

#include <algorithm>
#include <stdexcept>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "call/end_reasons.hpp"
#include "server/recording_setup.hpp"
#include "protocol/stream_token.hpp"
#include "server/agent_setup.hpp"
#include "server/bridge_setup.hpp"
#include "server/metrics_setup.hpp"
#include "protocol/standard_webhook.hpp"
#include "simulator/audio_pattern.hpp"

namespace mb::test {

void recording_sink::publish(const bridge::call_identity& call, const call::call_event& event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back({call, event});
  }
  changed_.notify_all();
}

void recording_sink::call_ended(const bridge::call_identity& call, const bridge::call_summary& summary) {
  {
    std::lock_guard lock(mutex_);
    ended_.emplace_back(call, summary);
  }
  changed_.notify_all();
}

bool recording_sink::wait_ended(std::size_t calls, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return ended_.size() >= calls; });
}

bool recording_sink::wait_for_final(call::role speaker, std::chrono::milliseconds timeout) const {
  return wait_for_event(
      [&](const call::call_event& event) {
        const auto* f = std::get_if<call::transcript_final>(&event);
        return f != nullptr && f->speaker == speaker;
      },
      timeout);
}

bool recording_sink::wait_for_event(const std::function<bool(const call::call_event&)>& wanted,
                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return std::any_of(events_.begin(), events_.end(), [&](const entry& e) { return wanted(e.event); });
  });
}

void tee_sink::publish(const bridge::call_identity& call, const call::call_event& event) {
  for (auto* s : sinks) s->publish(call, event);
}

void tee_sink::call_ended(const bridge::call_identity& call, const bridge::call_summary& summary) {
  for (auto* s : sinks) s->call_ended(call, summary);
}

std::vector<recording_sink::entry> recording_sink::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::vector<std::pair<bridge::call_identity, bridge::call_summary>> recording_sink::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

namespace {

// Keeps every formatted line and wakes waiters; tests wait on log lines instead of sleeping.
class waitable_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool wait_for(std::string_view needle, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      return std::any_of(lines_.begin(), lines_.end(), [&](const auto& l) { return l.find(needle) != std::string::npos; });
    });
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    lines_.emplace_back(formatted.data(), formatted.size());
    changed_.notify_all();
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
  std::condition_variable_any changed_;
};

std::shared_ptr<waitable_sink> current_sink;

}  // namespace

log_capture::log_capture() {
  current_sink = std::make_shared<waitable_sink>();
  current_sink->set_pattern("%l %v");
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  stderr_sink->set_level(spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>("test", spdlog::sinks_init_list{current_sink, stderr_sink});
  logger->set_level(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

log_capture::~log_capture() = default;

std::vector<std::string> log_capture::lines() const { return current_sink->lines(); }

bool log_capture::contains(std::string_view needle) const { return wait_for(needle, std::chrono::milliseconds(0)); }

bool log_capture::wait_for(std::string_view needle, std::chrono::milliseconds timeout) const {
  return current_sink->wait_for(needle, timeout);
}

bridge_harness::bridge_harness(harness_options options) {
  simulator_ = std::make_unique<mb::simulator::upstream_simulator>(sim_ioc_, options.simulator);
  simulator_->listen("127.0.0.1", 0);
  sim_thread_ = std::thread([this] { sim_ioc_.run(); });

  settings_.listen_host = "127.0.0.1";
  settings_.database_path = ":memory:";
  upstream_base_ = simulator_->url_for(upstream::provider_kind::openai_realtime);
  bridge_.upstream_url = agents::realtime_url(upstream_base_, "gpt-realtime");
  bridge_.upstream_headers = {{"Authorization", "Bearer test-key"}};
  // Every provider's URL and credential header as demo mode builds them, from the default settings.
  agents::demo_plan every_provider_simulated;
  for (const auto p : upstream::all_providers)
    every_provider_simulated.providers.push_back({.provider = p, .in_use = true, .simulated = true});
  const auto simulated = agents::simulated_endpoints(agents::endpoints_from(settings_), every_provider_simulated,
                                                     simulator_->demo_urls());
  if (options.provider != upstream::provider_kind::openai_realtime) {
    const auto& endpoints = simulated;
    agents::agent_profile profile;
    profile.provider = options.provider;
    auto target = agents::upstream_for(profile, endpoints);
    bridge_.provider = target.provider;
    bridge_.upstream_url = std::move(target.url);
    bridge_.upstream_headers = std::move(target.headers);
    bridge_.session.model = std::move(target.session_model);
    if (!target.session_voice.empty()) bridge_.session.voice = std::move(target.session_voice);
  }
  bridge_.session.transcription_model = "gpt-4o-mini-transcribe";
  bridge_.twilio_limits = {.max_message_bytes = 64 * 1024, .handshake_timeout_ms = 5000, .idle_timeout_ms = 10000};
  bridge_.upstream_limits = {.max_message_bytes = 8 << 20, .handshake_timeout_ms = 5000, .idle_timeout_ms = 10000};
  bridge_.upstream_connect_timeout = std::chrono::seconds(5);
  bridge_.lifecycle = server::supervisor_options_from(settings_);
  bridge_.lifecycle.session_ready_timeout = std::chrono::seconds(5);
  bridge_.events = &events_;
  bridge_metrics_ = std::make_unique<metrics::bridge_metrics>(metrics_, call::end_reason_names());
  bridge_.metrics = bridge_metrics_.get();
  bridge_.peer_lines = &peer_lines_;
  std::string error;
  bridge_.tls = net::tls_client_context::create("", error);
  if (options.tweak) options.tweak(settings_, bridge_);
  registry_ = std::make_unique<bridge::call_registry>(
      admission::admission_limits{.calls = static_cast<std::size_t>(settings_.max_concurrent_calls),
                                  .pending = static_cast<std::size_t>(settings_.max_pending_streams)});
  bridge_.registry = registry_.get();
  if (options.listeners) {
    if (!settings_.database_path.empty())
      store_ = std::make_unique<store::call_store>(
          store::store_options{settings_.database_path, static_cast<std::size_t>(settings_.store_queue_size),
                               settings_.probe_retention_days});
    hub_ = std::make_unique<server::listener_hub>(server::with_settings(options.hub, settings_), store_.get());
    tee_.sinks = {&events_, hub_.get()};
    bridge_.events = &tee_;
  }
  if (settings_.record_calls) {
    bridge_.record = true;
    recordings_ = std::make_unique<recorder::recording_writer>(
        recorder::writer_options(settings_.recordings_dir, settings_.recording_retention_days),
        [this](const recorder::recording_outcome& o) {
          if (store_) store_->record_recording(o.call_sid, {o.started_at, o.duration_ms, o.complete, o.dropped_bytes});
        });
    bridge_.recorder = recordings_.get();
  }
  auto endpoints = simulated;
  endpoints.realtime_url = upstream_base_;
  endpoints.openai_api_key = config::secret("test-key");
  if (!settings_.agents_file.empty()) {
    // The profiles inherit the harness's provider; each reaches the simulator's path for its own.
    agents::agent_profile base;
    base.session = bridge_.session;
    base.greeting = bridge_.call.greeting;
    base.provider = bridge_.provider;
    if (base.provider == upstream::provider_kind::openai_realtime) base.model = "gpt-realtime";
    agents_ = server::load_agents(settings_, std::move(base), error);
    if (!agents_) throw std::runtime_error("agent profiles: " + error);
    bridge_.resolve = [this, endpoints](const protocol::twilio_start& start) {
      return server::resolve_call(*agents_, endpoints, start);
    };
  }
  tokens_ = std::make_unique<server::stream_tokens>(
      settings_.twilio_auth_token.empty() ? server::random_key() : settings_.twilio_auth_token.reveal(),
      std::chrono::seconds(settings_.stream_token_ttl_s));
  if (!bridge_.authorize_start)
    bridge_.authorize_start = [this](const protocol::twilio_start& start) {
      for (const auto& [name, value] : start.custom_parameters)
        if (name == protocol::stream_token_parameter) return tokens_->redeem(start.call_sid, value);
      return tokens_->redeem(start.call_sid, "");
    };

  pool_ = std::make_unique<server::io_pool>(options.server_threads);
  if (settings_.prewarm)
    bridge_.prewarm = (prewarm_ = std::make_unique<bridge::prewarm_pool>(
                           bridge::prewarm_pool::options{std::chrono::milliseconds(settings_.prewarm_ttl_ms),
                                                         static_cast<std::size_t>(settings_.max_concurrent_calls)},
                           bridge_.tls))
                          .get();
  ctx_ = std::make_unique<server::server_context>(settings_, bridge_, *registry_, *tokens_);
  ctx_->workers = pool_.get();
  ctx_->agents = agents_ ? &*agents_ : nullptr;
  ctx_->listeners = hub_.get();
  ctx_->store = store_.get();
  ctx_->metrics = &metrics_;
  ctx_->recordings = recordings_.get();
  if (recordings_) server::register_recording_metrics(metrics_, *recordings_);
  outbound_ = std::make_unique<server::outbound_service>(pool_->first().get_executor(), *ctx_);
  ctx_->outbound = outbound_.get();
  // OpenAI's SIP mode, as the server runs it: its control plane and webhooks are the simulator's.
  openai_calls_ = std::make_unique<telephony::openai_calls>(telephony::openai_calls_options{}, bridge_.tls);
  bridge_.openai_calls = openai_calls_.get();
  ctx_->sip_uri = settings_.openai_sip_uri.empty() ? simulator_->sip_uri() : settings_.openai_sip_uri;
  if (!settings_.openai_webhook_secret.empty()) {
    openai_webhook_ = std::make_unique<server::sip_webhook>(
        protocol::standard_webhook_key(settings_.openai_webhook_secret.reveal()).value_or(""), endpoints);
    ctx_->openai_webhook = openai_webhook_.get();
  }
  // OpenAI's client secrets, as the server mints them: the simulator's endpoint, the harness's key.
  auto secret_options = server::client_secret_options_from(settings_);
  if (options.client_secret_timeout_ms > 0) secret_options.timeout_ms = options.client_secret_timeout_ms;
  client_secrets_ = std::make_unique<server::client_secret_service>(secret_options, endpoints, bridge_.tls);
  ctx_->client_secrets = client_secrets_.get();
  server::register_server_metrics(metrics_, *ctx_);
  server_ = std::make_unique<server::http_server>(*pool_, *ctx_);
  port_ = server_->listen("127.0.0.1", 0);
  // Twilio must be sent to a plain ws:// URL here: there is no TLS proxy in front.
  if (settings_.public_url.empty()) settings_.public_url = "http://127.0.0.1:" + std::to_string(port_);
  server_thread_ = std::thread([this] { pool_->run(); });
}

bridge_harness::~bridge_harness() {
  server_->close();
  registry_->stop_all();
  pool_->stop();
  server_thread_.join();
  if (hub_) hub_->stop();
  if (recordings_) recordings_->stop();
  if (store_) store_->close();
  simulator_->stop();
  sim_ioc_.stop();
  sim_thread_.join();
}

std::string bridge_harness::ws_url(const std::string& path, const std::string& token) const {
  return "ws://127.0.0.1:" + std::to_string(port_) + path + (token.empty() ? "" : "?token=" + token);
}

std::string bridge_harness::webhook_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/voice"; }

tools::twilio::call_options bridge_harness::call(std::vector<tools::twilio::audio_segment> script) const {
  tools::twilio::call_options o;
  o.webhook_url = webhook_url();
  o.script = std::move(script);
  o.timeout_ms = 20000;
  return o;
}

std::vector<tools::twilio::call_report> bridge_harness::run(std::vector<tools::twilio::call_options> calls,
                                                           int timeout_ms) {
  return tools::twilio::run_calls(std::move(calls), timeout_ms, 1);
}

std::string assistant_audio(std::uint32_t response_index, std::size_t bytes) {
  std::string out(bytes, '\0');
  for (std::size_t i = 0; i < bytes; ++i)
    out[i] = static_cast<char>(mb::simulator::assistant_audio_byte(response_index, i));
  return out;
}

}  // namespace mb::test
