#include "tools/replay/replay_run.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "net/websocket.hpp"
#include "tools/replay/observed_log.hpp"
#include "tools/replay/replay_provider.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

namespace mb::tools::replay {
namespace {

using std::chrono::milliseconds;

// A recording without a stop ended when the bridge closed the stream: the replayed caller waits this
// long past the log's last entry for the bridge to do it again, then hangs up.
constexpr int bridge_end_grace_ms = 5000;
constexpr int timeout_margin_ms = 30000;
// Events of other calls are dropped as they arrive; a call's own are bounded by its length anyway.
constexpr std::size_t max_event_bytes = 1 << 20;

struct received_event {
  clock::time_point at;
  std::string call_sid;
  std::string json;
};

std::string call_sid_of(std::string_view json) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return {};
  const auto* sid = value.as_object().if_contains("call_sid");
  return sid && sid->is_string() ? std::string(sid->as_string()) : std::string{};
}

// ws://host:port/v1/events on the webhook's host and port.
std::optional<std::string> events_url_for(std::string_view webhook_url) {
  const auto url = boost::urls::parse_uri(webhook_url);
  if (!url || !url->has_authority()) return std::nullopt;
  const std::string scheme = url->scheme() == "https" ? "wss" : "ws";
  return scheme + "://" + std::string(url->encoded_authority()) + "/v1/events";
}

std::int64_t unix_ms_at(clock::time_point t) {
  const auto system_now = std::chrono::system_clock::now();
  const auto ago = clock::now() - t;
  return std::chrono::duration_cast<milliseconds>((system_now - ago).time_since_epoch()).count();
}

}  // namespace

struct replay_session::impl {
  impl(record::log_header recorded_header, const std::vector<record::log_entry>& recorded, replay_options o)
      : header(std::move(recorded_header)),
        options(std::move(o)),
        script(record::build_replay_script(recorded)),
        provider(ioc, script, log),
        settled(ioc) {
    port = provider.listen(options.provider_host, options.provider_port);
    provider.on_closed([this] { settled.cancel(); });
  }

  twilio::call_options caller_options() {
    twilio::call_options call;
    call.webhook_url = options.webhook_url;
    call.auth_token = options.twilio_auth_token;
    call.ulaw_audio = std::make_shared<const std::string>(script.caller.ulaw);
    call.hangup_when_audio_ends = false;
    call.hangup_after_ms = script.caller.stop_ms
                               ? static_cast<int>(std::ceil(*script.caller.stop_ms))
                               : static_cast<int>(std::ceil(script.caller.last_entry_ms)) + bridge_end_grace_ms;
    call.hangup_after_ms = std::max(call.hangup_after_ms, 1);
    for (const auto& d : script.caller.dtmf) call.dtmf.push_back({static_cast<int>(std::llround(d.t_ms)), d.digit});
    call.timeout_ms = options.timeout_ms > 0 ? options.timeout_ms : call.hangup_after_ms + timeout_margin_ms;
    call.record_sent_audio = false;
    call.record_played_audio = false;
    call.record_media_arrivals = false;
    call.on_message = [this](bool from_bridge, std::string_view message, clock::time_point at) {
      log.message(from_bridge ? record::direction::twilio_out : record::direction::twilio_in, message, at);
    };
    return call;
  }

  // Connects the listener (before the call, so that it misses none of the call's events).
  net::awaitable<bool> connect_listener() {
    const auto url = events_url_for(options.webhook_url);
    if (!url) {
      result.setup_failure = "the webhook URL names no host: " + options.webhook_url;
      co_return false;
    }
    net::connect_request request;
    request.url = *url;
    request.limits.max_message_bytes = max_event_bytes;
    request.limits.idle_timeout_ms = 60000;
    if (!options.api_token.empty()) request.headers.emplace_back("Authorization", "Bearer " + options.api_token);
    auto connected = co_await net::connect_websocket(request, nullptr);
    if (!connected.socket) {
      result.setup_failure = "events listener (" + *url + "): " + connected.failure +
                             (connected.http_status == 401 ? " (is --api-token the bridge's API_TOKEN?)" : "");
      co_return false;
    }
    listener = std::move(connected.socket);
    co_return true;
  }

  net::awaitable<void> listen() {
    std::string message;
    for (;;) {
      const auto r = co_await listener->read(message, 0);
      if (r.status != net::read_status::message) break;
      auto sid = call_sid_of(message);
      const bool ours_ended = !call_sid.empty() && sid == call_sid && message.find("\"call.ended\"") != std::string::npos;
      events.push_back({clock::now(), std::move(sid), message});
      if (ours_ended) {
        call_ended = true;
        settled.cancel();
      }
    }
  }

  // After the caller's side: the bridge publishes call.ended and closes the upstream on its own time.
  net::awaitable<void> settle() {
    const auto deadline = clock::now() + milliseconds(options.settle_ms);
    const auto settled_down = [this] { return (call_ended || !listener) && provider.all_closed(); };
    while (!settled_down() && clock::now() < deadline) {
      settled.expires_at(deadline);
      co_await settled.async_wait(net::as_tuple_awaitable);
    }
  }

  // The listener reads alongside the call (not spawned: spawning from this coroutine trips g++ 12's
  // -Werror=mismatched-new-delete at -O3); place_call ends it by aborting its socket.
  net::awaitable<void> main() {
    if (!options.listen_events) co_return co_await place_call();
    if (!co_await connect_listener()) co_return;
    using namespace asio::experimental::awaitable_operators;
    co_await (listen() && place_call());
  }

  net::awaitable<void> place_call() {
    auto call = caller_options();
    call.before_stream = [this](const twilio::call_report& r) { call_sid = r.call_sid; };
    result.call = co_await twilio::run_call(std::move(call));
    call_sid = result.call.call_sid;
    using twilio::call_outcome;
    const auto outcome = result.call.outcome;
    if (outcome == call_outcome::webhook_failed || outcome == call_outcome::rejected ||
        outcome == call_outcome::connect_failed || outcome == call_outcome::sip_dialed) {
      result.setup_failure = "the call did not reach a media stream: " + result.call.failure;
    } else {
      co_await settle();
    }
    provider.stop();
    if (listener) listener->abort();
  }

  void finish() {
    const auto zero = result.call.stream_started;
    result.header = header;
    result.header.call_sid = result.call.call_sid;
    result.header.stream_sid = result.call.stream_sid;
    result.header.started_at = unix_ms_at(zero);
    result.header.dtmf_masked = false;
    for (const auto& e : events)
      if (e.call_sid == call_sid) log.message(record::direction::event, e.json, e.at);
    result.observed = log.entries(zero);
    // Events were added last: put every entry back in time order (stable, so ties keep their order).
    std::stable_sort(result.observed.begin(), result.observed.end(),
                     [](const auto& a, const auto& b) { return a.t_ms < b.t_ms; });
    result.notes = script.skipped;
    for (auto& line : provider.unfinished()) result.notes.push_back(std::move(line));
    if (!result.call.ok() && result.setup_failure.empty()) result.notes.push_back("the call: " + result.call.failure);
  }

  asio::io_context ioc{1};
  record::log_header header;
  replay_options options;
  record::replay_script script;
  observed_log log;
  replay_provider provider;
  asio::steady_timer settled;  // cancelled when something the settling waits for happens
  std::uint16_t port = 0;
  std::unique_ptr<net::message_socket> listener;
  std::vector<received_event> events;
  std::string call_sid;
  bool call_ended = false;
  replay_result result;
};

replay_session::replay_session(record::log_header recorded_header, const std::vector<record::log_entry>& recorded,
                               replay_options options)
    : impl_(std::make_unique<impl>(std::move(recorded_header), recorded, std::move(options))) {}

replay_session::~replay_session() = default;

std::uint16_t replay_session::provider_port() const noexcept { return impl_->port; }
const record::replay_script& replay_session::script() const noexcept { return impl_->script; }

replay_result replay_session::run() {
  std::exception_ptr failure;
  // Once the call and its settling are over, nothing left in the context matters (a caller's timers
  // may still wait out their bounds): stop it rather than wait for them.
  asio::co_spawn(impl_->ioc, impl_->main(), [this, &failure](std::exception_ptr e) {
    failure = e;
    impl_->ioc.stop();
  });
  impl_->ioc.run();
  if (failure) std::rethrow_exception(failure);
  impl_->finish();
  return std::move(impl_->result);
}

std::optional<recorded_log> read_log(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = path + ": cannot be read";
    return std::nullopt;
  }
  recorded_log log;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    std::string problem;
    if (number == 1) {
      auto header = record::parse_header(line, problem);
      if (!header) {
        error = path + ":1: not a recording's header: " + problem;
        return std::nullopt;
      }
      log.header = std::move(*header);
      continue;
    }
    auto entry = record::parse_entry(line, problem);
    if (!entry) {
      error = path + ":" + std::to_string(number) + ": " + problem;
      return std::nullopt;
    }
    log.entries.push_back(std::move(*entry));
  }
  if (number == 0) {
    error = path + ": empty";
    return std::nullopt;
  }
  return log;
}

bool write_log(const std::string& path, const record::log_header& header, const std::vector<record::log_entry>& entries,
               std::string& error) {
  std::string text;
  record::append_header(text, header);
  for (const auto& e : entries) record::append_entry(text, e);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) error = path + ": cannot be written";
  return static_cast<bool>(out);
}

std::vector<std::pair<std::string, std::string>> bridge_settings_for(std::string_view provider,
                                                                     std::string_view host_port) {
  const std::string ws = "ws://" + std::string(host_port);
  std::vector<std::pair<std::string, std::string>> env{{"PROVIDER", std::string(provider)}};
  if (provider == "openai-realtime") {
    env.insert(env.end(), {{"OPENAI_API_KEY", "replay"}, {"OPENAI_REALTIME_URL", ws + "/v1/realtime"}});
  } else if (provider == "openai-live") {
    env.insert(env.end(), {{"OPENAI_API_KEY", "replay"}, {"OPENAI_LIVE_URL", ws + "/v1/live/sessions"}});
  } else if (provider == "azure-realtime" || provider == "azure-live") {
    // demo: the deployment demo mode names, so that a recording made on the built-in simulator
    // replays with the same requests.
    env.insert(env.end(), {{"AZURE_OPENAI_API_KEY", "replay"},
                           {"AZURE_OPENAI_ENDPOINT", "http://" + std::string(host_port)},
                           {"AZURE_OPENAI_DEPLOYMENT", "demo"}});
  } else if (provider == "gemini") {
    env.insert(env.end(), {{"GEMINI_API_KEY", "replay"}, {"GEMINI_LIVE_URL", ws + "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"}});
  } else {
    return {};
  }
  return env;
}

}  // namespace mb::tools::replay
