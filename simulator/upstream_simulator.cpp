#include "simulator/upstream_simulator.hpp"

#include <stdexcept>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>
#include <fmt/format.h>

#include "simulator/gemini_session.hpp"
#include "simulator/live_session.hpp"
#include "simulator/realtime_session.hpp"
#include "simulator/sim_state.hpp"
#include "simulator/sip_plane.hpp"

namespace mb::simulator {
namespace {

using tcp = asio::ip::tcp;
using state_ptr = std::shared_ptr<upstream_simulator::state>;

using upstream::provider_kind;

constexpr std::string_view realtime_path = "/v1/realtime";
constexpr std::string_view live_path = "/v1/live/sessions";
constexpr std::string_view azure_realtime_path = "/openai/v1/realtime";
constexpr std::string_view azure_live_path = "/openai/v1/live";
constexpr std::string_view azure_live_sessions_path = "/openai/v1/live/sessions";
constexpr std::string_view gemini_path = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

bool is_live(provider_kind p) { return p == provider_kind::openai_live || p == provider_kind::azure_live; }

net::plain_http_response error_response(unsigned status, std::string_view error) {
  return {.status = status, .content_type = "application/json", .body = fmt::format(R"({{"error":"{}"}})", error)};
}

// A plain HTTP request on the simulator's port: the SIP control plane (sip_plane.hpp) or the tool
// webhook endpoint, POST /tools/<name>.
net::awaitable<net::plain_http_response> answer_plain(state_ptr state, net::plain_http_request request) {
  if (is_sip_http_target(request.head.target)) co_return co_await answer_sip_http(std::move(state), std::move(request));
  const auto tool = tool_name_of(request.head.target);
  if (!tool) co_return error_response(404, "not found");
  if (request.method != "POST") co_return error_response(405, "method not allowed");
  tool_request_record record{.tool = *tool,
                             .body = std::move(request.body),
                             .signature = request.head.header(protocol::webhook_signature_header),
                             .signature_check = std::nullopt,
                             .status = 0,
                             .arrived = std::chrono::system_clock::now()};
  if (!state->options.tool_webhook_secret.empty()) {
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(record.arrived.time_since_epoch()).count();
    record.signature_check = protocol::check_webhook_signature(state->options.tool_webhook_secret, record.signature,
                                                               record.body, now_s);
  }
  const bool refused = record.signature_check && *record.signature_check != protocol::webhook_check::valid;
  tool_reply reply;
  {
    std::lock_guard lock(state->mutex);
    if (const auto it = state->tool_replies.find(*tool); it != state->tool_replies.end()) reply = it->second;
  }
  net::plain_http_response response = refused ? error_response(401, to_string(*record.signature_check))
                                              : net::plain_http_response{.status = reply.status,
                                                                         .content_type = "application/json",
                                                                         .body = tool_reply_body(reply, *tool, record.body)};
  record.status = response.status;
  {
    std::lock_guard lock(state->mutex);
    if (state->tool_requests.size() < max_tool_requests) state->tool_requests.push_back(std::move(record));
  }
  state->changed.notify_all();
  if (!refused && reply.delay.count() > 0) co_await delay_reply(state, reply.delay);
  co_return response;
}

// Upgrades the socket, unless its path's provider wants credentials it lacks (or, for a SIP call's
// sideband, the call is not one to attach to), and serves it with the protocol its path asks for.
net::awaitable<void> serve(state_ptr state, tcp::socket socket, std::uint64_t number) {
  const auto check = [&state](const net::upgrade_request& request) {
    if (state->options.refuse_upgrade_status != 0) return state->options.refuse_upgrade_status;
    if (const auto sideband = parse_sip_sideband_target(request.target))
      return sideband_refusal(*state, *sideband, request.header("Authorization"));
    return upgrade_refusal(provider_for_target(request.target), request.header("api-key"),
                           request.header("Authorization"), request.header("x-goog-api-key"));
  };
  const auto plain = [state](net::plain_http_request request) { return answer_plain(state, std::move(request)); };
  if (state->options.upgrade_delay_ms > 0)
    co_await delay_reply(state, std::chrono::milliseconds(state->options.upgrade_delay_ms));
  auto accepted = co_await net::accept_websocket(std::move(socket), state->limits, check, plain);
  if (accepted.refused_status != 0) state->refused_upgrades.fetch_add(1, std::memory_order_relaxed);
  if (!accepted.socket) co_return;
  auto strand = co_await asio::this_coro::executor;
  const provider_kind provider = provider_for_target(accepted.request.target);
  std::shared_ptr<sim_session> session;
  if (auto sideband = parse_sip_sideband_target(accepted.request.target))
    session = make_sideband_session(state, strand, number, std::move(*sideband));
  else if (provider == provider_kind::gemini_live)
    session = std::make_shared<gemini_session>(state, strand, number);
  else if (is_live(provider))
    session = std::make_shared<live_session>(state, strand, number, provider);
  else
    session = std::make_shared<realtime_session>(state, strand, number, provider);
  co_await session->run(std::move(accepted));
}


net::awaitable<void> accept_loop(state_ptr state, std::shared_ptr<tcp::acceptor> acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(state->ioc), net::as_tuple_awaitable);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning on the error.
      asio::steady_timer backoff(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await backoff.async_wait(net::as_tuple_awaitable);
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto strand = socket.get_executor();
    const std::uint64_t number = state->next_number.fetch_add(1);
    asio::co_spawn(std::move(strand), serve(state, std::move(socket), number), [](const std::exception_ptr& e) {
      if (e) spdlog::error("simulator: session ended by an exception");
    });
  }
}

// Sessions alive now, taken under the lock and used outside it.
std::vector<std::shared_ptr<sim_session>> open_sessions(upstream_simulator::state& state) {
  std::vector<std::shared_ptr<sim_session>> result;
  std::lock_guard lock(state.mutex);
  result.reserve(state.live.size());
  for (const auto& [number, weak] : state.live)
    if (auto s = weak.lock()) result.push_back(std::move(s));
  return result;
}

void validate(const simulator_options& o) {
  if (!(o.speed > 0.0)) throw std::invalid_argument("upstream simulator: speed must be > 0");
  if (o.chunk_bytes == 0) throw std::invalid_argument("upstream simulator: chunk_bytes must be > 0");
  if (o.response_ms == 0) throw std::invalid_argument("upstream simulator: response_ms must be > 0");
  if (o.audio_items_per_response == 0)
    throw std::invalid_argument("upstream simulator: audio_items_per_response must be > 0");
  if (o.gemini_chunk_ms == 0) throw std::invalid_argument("upstream simulator: gemini_chunk_ms must be > 0");
  if (o.writer_queue < 16) throw std::invalid_argument("upstream simulator: writer_queue must be >= 16");
}

}  // namespace

net::awaitable<void> delay_reply(const state_ptr& state, std::chrono::milliseconds delay) {
  auto timer = std::make_shared<asio::steady_timer>(co_await asio::this_coro::executor, delay);
  {
    std::lock_guard lock(state->mutex);
    if (state->stopping) co_return;
    std::erase_if(state->tool_delays, [](const auto& weak) { return weak.expired(); });
    state->tool_delays.push_back(timer);
  }
  co_await timer->async_wait(net::as_tuple_awaitable);
}

std::string_view path_for(provider_kind provider) noexcept {
  switch (provider) {
    case provider_kind::openai_realtime: return realtime_path;
    case provider_kind::openai_live: return live_path;
    case provider_kind::azure_realtime: return azure_realtime_path;
    case provider_kind::azure_live: return azure_live_path;
    case provider_kind::gemini_live: return gemini_path;
  }
  return realtime_path;
}

provider_kind provider_for_target(std::string_view target) noexcept {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == live_path) return provider_kind::openai_live;
  if (path == azure_realtime_path) return provider_kind::azure_realtime;
  if (path == azure_live_path || path == azure_live_sessions_path) return provider_kind::azure_live;
  if (path == gemini_path) return provider_kind::gemini_live;
  return provider_kind::openai_realtime;
}

bool credential_in_query(std::string_view target) noexcept {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return false;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::string_view name = param.substr(0, param.find('='));
    if (name == "key" || name == "api-key" || name == "access_token") return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

unsigned upgrade_refusal(provider_kind provider, std::string_view api_key, std::string_view authorization,
                         std::string_view goog_api_key) noexcept {
  constexpr unsigned unauthorized = 401;
  switch (provider) {
    case provider_kind::openai_realtime:
    case provider_kind::openai_live: return 0;
    case provider_kind::azure_realtime:
    case provider_kind::azure_live: return api_key.empty() && !has_bearer_token(authorization) ? unauthorized : 0;
    case provider_kind::gemini_live: return goog_api_key.empty() ? unauthorized : 0;
  }
  return 0;
}

upstream_simulator::upstream_simulator(asio::io_context& ioc, simulator_options options) {
  validate(options);
  state_ = std::make_shared<state>(ioc, std::move(options));
}

upstream_simulator::~upstream_simulator() { stop(); }

std::uint16_t upstream_simulator::listen(const std::string& host, std::uint16_t port) {
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  if (!address.is_loopback())
    throw std::invalid_argument("upstream simulator: listens on loopback only, not " + host);
  auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(state_->ioc));
  const tcp::endpoint endpoint(address, port);
  acceptor->open(endpoint.protocol());
  acceptor->set_option(tcp::acceptor::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  const std::uint16_t bound = acceptor->local_endpoint().port();
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping) throw std::logic_error("upstream simulator: listen() after stop()");
    state_->acceptors.push_back(acceptor);
    if (state_->url_authority.empty()) state_->url_authority = address.to_string() + ":" + std::to_string(bound);
  }
  auto executor = acceptor->get_executor();
  asio::co_spawn(std::move(executor), accept_loop(state_, std::move(acceptor)), asio::detached);
  return bound;
}

std::string upstream_simulator::url_for(upstream::provider_kind provider) const {
  std::lock_guard lock(state_->mutex);
  if (state_->url_authority.empty()) throw std::logic_error("upstream simulator: url_for() before listen()");
  return "ws://" + state_->url_authority + std::string(path_for(provider));
}

agents::simulator_urls upstream_simulator::demo_urls() const {
  using upstream::provider_kind;
  return {.realtime = url_for(provider_kind::openai_realtime),
          .live = url_for(provider_kind::openai_live),
          .azure = endpoint(),
          .gemini = url_for(provider_kind::gemini_live),
          .tools = endpoint() + "/tools"};
}

std::string upstream_simulator::endpoint() const {
  std::lock_guard lock(state_->mutex);
  if (state_->url_authority.empty()) throw std::logic_error("upstream simulator: endpoint() before listen()");
  return "http://" + state_->url_authority;
}

void upstream_simulator::stop() {
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    acceptors.swap(state_->acceptors);
    for (const auto& weak : state_->tool_delays)
      if (auto timer = weak.lock()) {
        auto executor = timer->get_executor();
        asio::post(std::move(executor), [timer] { timer->cancel(); });
      }
  }
  for (auto& acceptor : acceptors) {
    auto executor = acceptor->get_executor();
    asio::post(std::move(executor), [acceptor = std::move(acceptor)] {
      error_code ignored;
      acceptor->close(ignored);
    });
  }
  for (auto& session : open_sessions(*state_)) session->close({1001, "simulator stopping"});
}

void upstream_simulator::drop_all() {
  for (auto& session : open_sessions(*state_)) session->drop();
}

void upstream_simulator::close_all(std::uint16_t code, std::string reason) {
  for (auto& session : open_sessions(*state_)) session->close({code, reason});
}

void upstream_simulator::send_to_all(std::string raw_text) {
  for (auto& session : open_sessions(*state_)) session->inject(raw_text);
}

void upstream_simulator::error_all(std::string type, std::string code, std::string message) {
  for (auto& session : open_sessions(*state_)) session->inject_error(type, code, message);
}

void upstream_simulator::end_live_sessions(std::string reason) {
  for (auto& session : open_sessions(*state_))
    if (is_live(session->provider())) std::static_pointer_cast<live_session>(session)->end(reason);
}

void upstream_simulator::go_away_all(std::chrono::milliseconds time_left) {
  for (auto& session : open_sessions(*state_))
    if (session->provider() == provider_kind::gemini_live)
      std::static_pointer_cast<gemini_session>(session)->go_away(time_left);
}

std::vector<session_snapshot> upstream_simulator::sessions() const {
  std::lock_guard lock(state_->mutex);
  return state_->records;
}

bool upstream_simulator::wait_until(const std::function<bool(const std::vector<session_snapshot>&)>& pred,
                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return pred(state_->records); });
}

std::vector<tool_request_record> upstream_simulator::tool_requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->tool_requests;
}

bool upstream_simulator::wait_for_tool_requests(
    const std::function<bool(const std::vector<tool_request_record>&)>& pred, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, timeout, [&] { return pred(state_->tool_requests); });
}

void upstream_simulator::set_tool_reply(std::string tool, tool_reply reply) {
  std::lock_guard lock(state_->mutex);
  state_->tool_replies.insert_or_assign(std::move(tool), std::move(reply));
}

std::string upstream_simulator::tool_url(std::string_view tool) const { return endpoint() + "/tools/" + std::string(tool); }

simulator_options demo_options() {
  simulator_options options;
  options.tool_call_script.push_back(
      {2, std::string(agents::demo_tool_name), std::string(agents::demo_tool_arguments)});
  options.sip_conversation.caller_hangs_up_after_script = true;  // a demo SIP call ends by itself
  return options;
}

simulator_stats upstream_simulator::stats() const {
  const auto& s = *state_;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {s.next_number.load(relaxed) - 1,         s.sessions_active.load(relaxed),
          s.messages_received.load(relaxed),       s.messages_sent.load(relaxed),
          s.audio_deltas_sent.load(relaxed),       s.audio_bytes_received.load(relaxed),
          s.overflows.load(relaxed),               s.live_sessions.load(relaxed),
          s.gemini_sessions.load(relaxed),         s.refused_upgrades.load(relaxed)};
}

const simulator_options& upstream_simulator::options() const noexcept { return state_->options; }

}  // namespace mb::simulator
