#include "tools/twilio_rest_sim/rest_simulator.hpp"

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <spdlog/spdlog.h>

#include "log/escape.hpp"
#include "net/http_client.hpp"
#include "protocol/twilio_rest.hpp"
#include "protocol/twilio_signature.hpp"

namespace mb::tools::twilio_rest {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::string_view api_prefix = "/2010-04-01/Accounts/";
constexpr std::size_t max_request_body_bytes = 64 * 1024;
constexpr std::size_t max_voice_twiml_bytes = 64 * 1024;
constexpr int request_read_timeout_ms = 10000;
constexpr std::string_view fallback_account_sid = "AC00000000000000000000000000000000";

bool terminal(std::string_view status) {
  return status == "completed" || status == "busy" || status == "no-answer" || status == "failed" ||
         status == "canceled";
}

std::string_view to_status(call_script::end end) {
  switch (end) {
    case call_script::end::completed: return "completed";
    case call_script::end::busy: return "busy";
    case call_script::end::no_answer: return "no-answer";
    case call_script::end::failed: return "failed";
  }
  return "failed";
}

// The StatusCallbackEvent that reports a status (Twilio's four progress events).
std::string_view event_of(std::string_view call_status) {
  if (call_status == "initiated") return "initiated";
  if (call_status == "ringing") return "ringing";
  if (call_status == "in-progress") return "answered";
  return "completed";
}

std::string rfc1123_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  const auto n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return std::string(text, n);
}

struct reply {
  int status = 200;
  std::string body;
  int delay_ms = 0;
  bool answer = true;  // false: close without answering
};

reply error_reply(int status, int code, std::string message) {
  boost::json::object error{{"code", code},
                            {"message", std::move(message)},
                            {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
                            {"status", status}};
  return {status, boost::json::serialize(error)};
}

reply injected_error(int status) {
  if (status == 429) return error_reply(status, 20429, "Too Many Requests");
  return error_reply(status, 20500, "Internal Server Error (injected)");
}

// What a request's path names.
struct route {
  enum class kind { calls, call, unknown } what = kind::unknown;
  std::string account_sid;
  std::string call_sid;
};

route parse_route(std::string_view path) {
  if (path.substr(0, api_prefix.size()) != api_prefix) return {};
  path.remove_prefix(api_prefix.size());
  const auto slash = path.find('/');
  if (slash == std::string_view::npos) return {};
  route r;
  r.account_sid = std::string(path.substr(0, slash));
  const auto rest = path.substr(slash);
  if (rest == "/Calls.json") {
    r.what = route::kind::calls;
    return r;
  }
  constexpr std::string_view calls = "/Calls/";
  constexpr std::string_view json = ".json";
  if (rest.size() > calls.size() + json.size() && rest.substr(0, calls.size()) == calls &&
      rest.substr(rest.size() - json.size()) == json) {
    r.call_sid = std::string(rest.substr(calls.size(), rest.size() - calls.size() - json.size()));
    r.what = route::kind::call;
  }
  return r;
}

}  // namespace

const call_record* rest_sim_state::call(std::string_view sid) const {
  const auto it = std::find_if(calls.begin(), calls.end(), [&](const call_record& c) { return c.sid == sid; });
  return it == calls.end() ? nullptr : &*it;
}

std::size_t rest_sim_state::count(std::string_view method, std::string_view path) const {
  return static_cast<std::size_t>(std::count_if(requests.begin(), requests.end(), [&](const request_record& r) {
    return r.method == method && (path == "*" || r.path == path);
  }));
}

struct rest_simulator::impl {
  explicit impl(rest_sim_options o) : options(std::move(o)) {
    if (options.account_sid.empty()) options.account_sid = fallback_account_sid;
    sid_prefix = std::random_device{}();
  }

  rest_sim_options options;
  std::uint64_t sid_prefix = 0;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  rest_sim_state state;
  std::map<std::string, call_script> scripts;
  std::deque<fault> faults;
  std::uint64_t calls_created = 0;

  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>(1);
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::string authority;

  // ---- state (under the lock) ----

  void notify() { changed.notify_all(); }

  call_record* find_call(std::string_view sid) {
    const auto it = std::find_if(state.calls.begin(), state.calls.end(), [&](const call_record& c) { return c.sid == sid; });
    return it == state.calls.end() ? nullptr : &*it;
  }

  call_record& new_call(std::string sid) {
    if (state.calls.size() >= options.max_records) state.calls.erase(state.calls.begin());
    auto& call = state.calls.emplace_back();
    call.sid = std::move(sid);
    return call;
  }

  std::string next_call_sid() {
    char text[35];
    std::snprintf(text, sizeof text, "CA%016llx%016llx", static_cast<unsigned long long>(sid_prefix),
                  static_cast<unsigned long long>(++calls_created));
    return text;
  }

  std::string resource_json(const call_record& call) const {
    boost::json::object resource{{"sid", call.sid},
                                 {"account_sid", options.account_sid},
                                 {"to", call.to},
                                 {"from", call.from},
                                 {"status", call.status},
                                 {"direction", call.created_here ? "outbound-api" : "inbound"},
                                 {"api_version", "2010-04-01"},
                                 {"uri", protocol::call_path(options.account_sid, call.sid)}};
    return boost::json::serialize(resource);
  }

  bool authorised(const std::optional<std::pair<std::string, std::string>>& credentials) const {
    if (!credentials) return false;
    const auto& [user, password] = *credentials;
    if (user == options.account_sid) return !options.auth_token.empty() && password == options.auth_token;
    return !options.api_key_sid.empty() && user == options.api_key_sid && !options.api_key_secret.empty() &&
           password == options.api_key_secret;
  }

  std::optional<fault> take_fault(std::string_view path) {
    const auto it = std::find_if(faults.begin(), faults.end(),
                                 [&](const fault& f) { return f.count > 0 && (f.path == "*" || f.path == path); });
    if (it == faults.end()) return std::nullopt;
    fault taken = *it;
    if (--it->count <= 0) faults.erase(it);
    return taken;
  }

  // The normal answer; `acted` says whether it changed a call, `placed` names a call to script.
  reply serve(const std::string& method, const route& r, const protocol::form_fields& form, bool& acted,
              std::string& placed) {
    if (r.what == route::kind::unknown || r.account_sid != options.account_sid ||
        (r.what == route::kind::call && !protocol::valid_call_sid(r.call_sid)))
      return error_reply(404, 20404, "The requested resource was not found");
    if (r.what == route::kind::calls) {
      if (method != "POST") return error_reply(405, 20004, "Method not allowed");
      return create(form, acted, placed);
    }
    auto* call = find_call(r.call_sid);
    if (!call) {
      if (method != "POST" || !options.adopt_unknown_calls)
        return error_reply(404, 20404, "The requested resource was not found");
      call = &new_call(r.call_sid);
      call->status = "in-progress";
    }
    if (method == "GET") return {200, resource_json(*call)};
    if (method != "POST") return error_reply(405, 20004, "Method not allowed");
    return update(*call, form, acted);
  }

  reply create(const protocol::form_fields& form, bool& acted, std::string& placed) {
    const auto to = protocol::form_value(form, "To");
    const auto from = protocol::form_value(form, "From");
    const auto url = protocol::form_value(form, "Url");
    if (to.empty()) return error_reply(400, 21201, "No 'To' number is specified");
    if (from.empty()) return error_reply(400, 21213, "No 'From' number is specified");
    if (url.empty() && protocol::form_value(form, "Twiml").empty())
      return error_reply(400, 21205, "Url parameter is required");
    auto& call = new_call(next_call_sid());
    call.to = to;
    call.from = from;
    call.url = url;
    call.status_callback = protocol::form_value(form, "StatusCallback");
    for (const auto& [name, value] : form)
      if (name == "StatusCallbackEvent") call.callback_events.push_back(value);
    call.created_here = true;
    call.status = "queued";
    acted = true;
    placed = call.sid;
    return {201, resource_json(call)};
  }

  reply update(call_record& call, const protocol::form_fields& form, bool& acted) {
    const auto status = protocol::form_value(form, "Status");
    const auto twiml = protocol::form_value(form, "Twiml");
    if (!twiml.empty() && !protocol::form_value(form, "Url").empty())
      return error_reply(400, 21203, "Url and Twiml are mutually exclusive");
    if (status == "completed" || status == "canceled") {
      const bool may_cancel = call.status == "queued" || call.status == "ringing";
      if (!terminal(call.status) && (status == "completed" || may_cancel)) {
        call.status = status;
        if (call.status == "completed") ++call.completions;
        acted = true;
      }
      return {200, resource_json(call)};
    }
    if (!status.empty()) return error_reply(400, 21218, "Invalid Status");
    if (twiml.empty()) return error_reply(400, 21205, "Url or Twiml is required");
    if (terminal(call.status)) return error_reply(400, 21220, "Call is not in-progress. Cannot redirect.");
    call.redirects.emplace_back(twiml);
    acted = true;
    return {200, resource_json(call)};
  }

  reply handle(const std::string& method, const std::string& target, const std::string& body,
               std::string_view authorization, std::string& placed, std::string& ended_by_api) {
    std::lock_guard lock(mutex);
    request_record record;
    record.at = sim_clock::now();
    record.method = method;
    record.path = target.substr(0, target.find('?'));
    if (auto form = protocol::parse_form(body)) record.form = std::move(*form);
    const auto credentials = protocol::parse_basic_authorization(authorization);
    if (credentials) record.auth_user = credentials->first;
    record.authorised = authorised(credentials);

    reply answer;
    if (!record.authorised) {
      ++state.auth_failures;
      answer = error_reply(401, 20003, "Authenticate");
    } else {
      const auto injected = take_fault(record.path);
      if (!injected || injected->act) {
        const route r = parse_route(record.path);
        const auto* before = r.what == route::kind::call ? find_call(r.call_sid) : nullptr;
        const std::string status_before = before ? before->status : std::string();
        answer = serve(method, r, record.form, record.acted, placed);
        if (const auto* after = r.what == route::kind::call ? find_call(r.call_sid) : nullptr;
            after && record.acted && terminal(after->status) && !terminal(status_before))
          ended_by_api = after->sid;
      }
      if (injected) {
        answer.delay_ms = injected->delay_ms;
        if (injected->status != 0) {
          answer = injected_error(injected->status);
          answer.delay_ms = injected->delay_ms;
        }
        else if (!injected->act)
          answer.answer = false;
      }
    }
    record.status = answer.answer ? answer.status : 0;
    if (options.log_requests)
      spdlog::info("twilio-rest-sim: {} {} user={} -> {}{}", method, log::escape_for_log(record.path, log::name_bytes),
                   log::escape_for_log(record.auth_user, log::name_bytes), record.status,
                   record.acted ? " (acted)" : "");
    if (state.requests.size() >= options.max_records) state.requests.erase(state.requests.begin());
    state.requests.push_back(std::move(record));
    notify();
    return answer;
  }

  // ---- I/O (on the server thread) ----

  net::awaitable<void> serve_connection(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(max_request_body_bytes);
      stream.expires_after(std::chrono::milliseconds(request_read_timeout_ms));
      auto [rec, n] = co_await http::async_read(stream, buffer, parser, net::as_tuple_awaitable);
      if (rec) co_return;
      auto request = parser.release();
      std::string placed, ended_by_api;
      const auto answer = handle(std::string(request.method_string()), std::string(request.target()), request.body(),
                                 request[http::field::authorization], placed, ended_by_api);
      if (!placed.empty()) asio::co_spawn(*ioc, play_script(placed), asio::detached);
      if (!ended_by_api.empty()) asio::co_spawn(*ioc, report_status(ended_by_api), asio::detached);
      stream.expires_never();
      if (answer.delay_ms > 0) {
        asio::steady_timer timer(*ioc, std::chrono::milliseconds(answer.delay_ms));
        co_await timer.async_wait(net::as_tuple_awaitable);
      }
      if (!answer.answer) co_return;
      http::response<http::string_body> response(static_cast<http::status>(answer.status), request.version());
      response.set(http::field::content_type, "application/json");
      response.keep_alive(request.keep_alive());
      response.body() = answer.body;
      response.prepare_payload();
      stream.expires_after(std::chrono::milliseconds(request_read_timeout_ms));
      auto [wec, written] = co_await http::async_write(stream, response, net::as_tuple_awaitable);
      if (wec || !response.keep_alive()) co_return;
    }
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(net::as_tuple_awaitable);
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(*ioc, serve_connection(std::move(socket)), asio::detached);
    }
  }

  net::awaitable<void> wait_ms(int ms) {
    asio::steady_timer timer(*ioc, std::chrono::milliseconds(std::max(ms, 0)));
    co_await timer.async_wait(net::as_tuple_awaitable);
  }

  // Moves a placed call to `status` unless the API ended it first; false when it was ended.
  bool advance(const std::string& sid, std::string_view status) {
    std::lock_guard lock(mutex);
    auto* call = find_call(sid);
    if (!call || terminal(call->status)) return false;
    call->status = status;
    notify();
    return true;
  }

  // POSTs the status callback reporting `call_status` when the call asked for that event.
  net::awaitable<void> send_callback(std::string sid, std::string call_status) {
    protocol::form_fields fields;
    std::string url;
    {
      std::lock_guard lock(mutex);
      const auto* call = find_call(sid);
      if (!call || call->status_callback.empty()) co_return;
      const auto event = event_of(call_status);
      const bool wanted = call->callback_events.empty()
                              ? event == "completed"
                              : std::find(call->callback_events.begin(), call->callback_events.end(), event) !=
                                    call->callback_events.end();
      if (!wanted) co_return;
      url = call->status_callback;
      fields = {{"AccountSid", options.account_sid},
                {"ApiVersion", "2010-04-01"},
                {"CallSid", sid},
                {"CallStatus", call_status},
                {"CallbackSource", "call-progress-events"},
                {"Direction", "outbound-api"},
                {"From", call->from},
                {"SequenceNumber", std::to_string(call->callbacks.size())},
                {"Timestamp", rfc1123_now()},
                {"To", call->to}};
      if (event == "completed") fields.emplace_back("CallDuration", "0");
    }
    auto response = co_await post_signed(url, fields);
    spdlog::info("twilio-rest-sim: status callback {} {} to {} -> {}{}", sid, call_status,
                 log::escape_for_log(url, log::name_bytes), response.status,
                 response.failure.empty() ? "" : " (" + response.failure + ")");
    std::lock_guard lock(mutex);
    if (auto* call = find_call(sid))
      call->callbacks.push_back({sim_clock::now(), call_status, response.status, std::move(response.failure)});
    notify();
  }

  net::awaitable<net::http_response> post_signed(std::string url, protocol::form_fields fields) {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!options.auth_token.empty())
      headers.emplace_back("X-Twilio-Signature", protocol::twilio_signature(options.auth_token, url, fields));
    co_return co_await net::http_request("POST", url, std::move(headers), protocol::encode_form(fields), nullptr,
                                         options.callback_timeout_ms);
  }

  net::awaitable<void> fetch_voice_url(std::string sid) {
    protocol::form_fields fields;
    std::string url;
    {
      std::lock_guard lock(mutex);
      const auto* call = find_call(sid);
      if (!call || call->url.empty()) co_return;
      url = call->url;
      fields = {{"AccountSid", options.account_sid}, {"ApiVersion", "2010-04-01"}, {"CallSid", sid},
                {"CallStatus", "in-progress"},       {"Direction", "outbound-api"}, {"From", call->from},
                {"To", call->to}};
    }
    auto response = co_await post_signed(url, fields);
    std::lock_guard lock(mutex);
    if (auto* call = find_call(sid)) {
      call->voice_status = response.status;
      call->voice_twiml = response.body.substr(0, max_voice_twiml_bytes);
      call->voice_failure = std::move(response.failure);
    }
    notify();
  }

  // A call placed through Calls.json: initiated, ringing, then answered or its scripted end.
  net::awaitable<void> play_script(std::string sid) {
    call_script script;
    {
      std::lock_guard lock(mutex);
      const auto* call = find_call(sid);
      if (!call) co_return;
      const auto it = scripts.find(call->to);
      script = it == scripts.end() ? options.default_script : it->second;
    }
    co_await send_callback(sid, "initiated");
    co_await wait_ms(script.ringing_after_ms);
    if (!advance(sid, "ringing")) co_return;
    co_await send_callback(sid, "ringing");
    co_await wait_ms(script.answer_after_ms);
    if (script.outcome != call_script::end::completed) {
      if (!advance(sid, to_status(script.outcome))) co_return;
      co_await send_callback(sid, std::string(to_status(script.outcome)));
      co_return;
    }
    if (!advance(sid, "in-progress")) co_return;
    co_await send_callback(sid, "in-progress");
    if (script.fetch_voice_url) co_await fetch_voice_url(sid);
    if (script.complete_after_ms < 0) co_return;
    co_await wait_ms(script.complete_after_ms);
    if (!advance(sid, "completed")) co_return;
    co_await send_callback(sid, "completed");
  }

  // A placed call ended through the API still reports its end, as Twilio does.
  net::awaitable<void> report_status(std::string sid) {
    std::string status;
    {
      std::lock_guard lock(mutex);
      const auto* call = find_call(sid);
      if (!call || !call->created_here) co_return;
      status = call->status;
    }
    co_await send_callback(std::move(sid), std::move(status));
  }
};

rest_simulator::rest_simulator(rest_sim_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

rest_simulator::~rest_simulator() { stop(); }

std::uint16_t rest_simulator::start(const std::string& host, std::uint16_t port) {
  if (impl_->acceptor) throw std::logic_error("twilio REST simulator: start() twice");
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host);
  if (!address.is_loopback()) throw std::invalid_argument("twilio REST simulator: listens on loopback only, not " + host);
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->ioc);
  const tcp::endpoint endpoint(address, port);
  impl_->acceptor->open(endpoint.protocol());
  impl_->acceptor->set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor->bind(endpoint);
  impl_->acceptor->listen(asio::socket_base::max_listen_connections);
  const auto bound = impl_->acceptor->local_endpoint().port();
  impl_->authority = address.to_string() + ":" + std::to_string(bound);
  asio::co_spawn(*impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([ioc = impl_->ioc.get()] { ioc->run(); });
  return bound;
}

void rest_simulator::stop() {
  if (!impl_->thread.joinable()) return;
  impl_->ioc->stop();
  impl_->thread.join();
  // Destroys the abandoned coroutines (sockets, timers) while the state they point to still exists.
  impl_->acceptor.reset();
  impl_->ioc.reset();
}

std::string rest_simulator::base_url() const {
  if (impl_->authority.empty()) throw std::logic_error("twilio REST simulator: base_url() before start()");
  return "http://" + impl_->authority;
}

const std::string& rest_simulator::account_sid() const noexcept { return impl_->options.account_sid; }

void rest_simulator::script_number(const std::string& to, call_script script) {
  std::lock_guard lock(impl_->mutex);
  impl_->scripts[to] = script;
}

void rest_simulator::add_fault(fault f) {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.push_back(std::move(f));
}

void rest_simulator::add_call(const std::string& call_sid, const std::string& status) {
  std::lock_guard lock(impl_->mutex);
  auto* call = impl_->find_call(call_sid);
  if (!call) call = &impl_->new_call(call_sid);
  call->status = status;
  impl_->notify();
}

rest_sim_state rest_simulator::snapshot() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->state;
}

std::optional<call_record> rest_simulator::call(std::string_view sid) const {
  std::lock_guard lock(impl_->mutex);
  const auto* found = impl_->state.call(sid);
  if (!found) return std::nullopt;
  return *found;
}

bool rest_simulator::wait_until(const std::function<bool(const rest_sim_state&)>& done,
                                std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return done(impl_->state); });
}

}  // namespace mb::tools::twilio_rest
