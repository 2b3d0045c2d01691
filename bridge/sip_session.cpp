#include "bridge/sip_session.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <type_traits>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "bridge/call_metrics.hpp"
#include "bridge/call_summary.hpp"
#include "bridge/peer_log.hpp"
#include "bridge/read_end.hpp"
#include "bridge/supervised_upstream.hpp"
#include "bridge/tool_webhook.hpp"
#include "bridge/upstream_socket.hpp"
#include "call/call_supervisor.hpp"
#include "log/escape.hpp"
#include "sip/sideband_state.hpp"

namespace mb::bridge {
namespace {

using namespace asio::experimental::awaitable_operators;
using call::end_reason;
using steady = std::chrono::steady_clock;

// The supervisor runs a SIP call as a Media Streams call without media: the sideband is its upstream
// session, and the call has started once it is accepted. No media flows through the bridge, so only
// the maximum duration bounds the call, and a sideband connection is never rolled over (the session
// at OpenAI is one, however often its sideband reconnects).
call::supervisor_options sideband_lifecycle(call::supervisor_options options) {
  options.media_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.max_duration);
  options.rollover_after.reset();
  options.provider = upstream::provider_lifecycle{};
  return options;
}

sip::sideband_setup sideband_setup_of(const sip_call_setup& setup) {
  return {setup.identity.call_sid, setup.identity.stream_sid, setup.agent, setup.parameters, setup.greeting,
          setup.tools};
}

class sip_session final : public supervised_upstream, public std::enable_shared_from_this<sip_session> {
 public:
  sip_session(sip_call_setup setup, const bridge_context& ctx, asio::any_io_executor ex)
      : supervised_upstream(ctx, sideband_lifecycle(ctx.lifecycle), ex, setup.identity.call_sid,
                            end_reason::upstream_closed),
        ex_(std::move(ex)),
        state_(sideband_setup_of(setup), upstream::make_adapter(setup.provider)),
        closing_wake_(ex_, steady::time_point::max()),
        tools_running_(std::make_shared<asio::steady_timer>(ex_, steady::time_point::max())),
        log_lines_(ctx.peer_lines),
        setup_(std::move(setup)) {}
  sip_session(const sip_session&) = delete;
  sip_session& operator=(const sip_session&) = delete;
  // The slot is given back when the session goes, also when its io_context is destroyed with the call
  // still running (a test that fails midway, a shutdown past the drain): the registry's entry holds
  // the call's strand, which must not outlive the io_context.
  ~sip_session() {
    if (admitted_) ctx_.registry->remove(registry_id_);
  }

  // Takes the call's slot; on `admitted` the registry reaches the call (stop, operator commands).
  admission::admit_result admit() {
    std::weak_ptr<sip_session> weak = weak_from_this();
    auto stop = [weak] {
      if (auto self = weak.lock()) self->on_stop();
    };
    auto command = [weak](call::operator_command c) {
      if (auto self = weak.lock()) self->on_operator(c);
    };
    const auto outcome = ctx_.registry->admit(setup_.identity.call_sid, ex_, std::move(stop), std::move(command));
    registry_id_ = outcome.id;
    admitted_ = outcome.result == admission::admit_result::admitted;
    return outcome.result;
  }

  // Never throws: it runs detached.
  net::awaitable<void> run() {
    try {
      if (co_await accept()) co_await run_call();
    } catch (const std::exception& e) {
      spdlog::error("call {}: unexpected failure: {}", label_, e.what());
      m_.errors(metrics::error_kind::unexpected_exception).inc();
    }
  }

 private:
  // --- the accept --------------------------------------------------------------------------------

  // Nothing is published before OpenAI has the call: a failed accept leaves one log line and a metric.
  net::awaitable<bool> accept() {
    const auto result = co_await ctx_.openai_calls->accept(setup_.control, std::move(setup_.accept_body));
    m_.sip_accept.observe(std::chrono::milliseconds(result.elapsed_ms));
    if (!result.ok) {
      m_.sip_accept_failed.inc();
      spdlog::warn("call {}: OpenAI call {} not accepted after {} attempt(s) in {} ms: {}", label_,
                   setup_.control.call_id, result.attempts, result.elapsed_ms,
                   log::escape_for_log(result.detail, log::reason_bytes));
      co_return false;
    }
    m_.calls_started.inc();
    spdlog::info("call {}: OpenAI call {} accepted in {} ms ({} attempt(s)), agent {}", label_,
                 setup_.control.call_id, result.elapsed_ms, result.attempts, setup_.agent);
    co_return true;
  }

  // --- the call ----------------------------------------------------------------------------------

  net::awaitable<void> run_call() {
    started_at_ = step_at_ = steady::now();
    running_ = true;
    supervisor_.on_stream_opened(step_at_, supervisor_actions_);
    supervisor_.on_stream_started(step_at_, supervisor_actions_);
    if (stop_requested_) end(end_reason::shutdown, "server is shutting down", true);
    execute();
    // The sideband, and the call's closing, until both are finished.
    co_await run_until_closed(upstream_task() && closing_task());
    finish();
  }

  [[nodiscard]] net::connect_request upstream_request() const override {
    return {setup_.sideband_url, setup_.sideband_headers, ctx_.upstream_limits,
            static_cast<int>(ctx_.upstream_connect_timeout.count())};
  }

  net::awaitable<void> upstream_reader() override {
    for (;;) {
      const auto r = co_await upstream_.socket().read(buffer_, simdjson::SIMDJSON_PADDING);
      if (r.status == net::read_status::message) {
        step_at_ = steady::now();
        ++messages_;
        events_.clear();
        if (auto err = state_.upstream().translate(buffer_, buffer_.capacity(), ms_of(step_at_), events_)) {
          bad_input(err->what);
          continue;
        }
        for (const auto& ev : events_) {
          if (ev.kind == upstream::event_kind::response_done) add_usage(ev.used);
          state_.on_upstream(ev, ms_of(step_at_), actions_);
        }
        execute();
        continue;
      }
      if (r.status == net::read_status::binary_message) {
        bad_input("binary frame");
        continue;
      }
      if (!supervisor_.upstream_open()) co_return;  // closed on purpose: the call's end or a stuck session
      step_at_ = steady::now();
      auto what = describe_read_end("sideband", r, upstream_.socket());
      // A normal close from OpenAI: the call is over there (the caller hung up, docs/protocols.md J3).
      if (r.status == net::read_status::closed && upstream_.socket().peer_close_reason().code == 1000) {
        upstream_.abort_now();  // the close handshake is done: nothing is left to write
        end(end_reason::caller_hung_up, std::move(what), false);
      } else {
        m_.errors(metrics::error_kind::upstream_lost).inc();
        supervisor_.on_upstream_lost(what, step_at_, supervisor_actions_);
      }
      execute();
      co_return;
    }
  }

  // Waits for the call's end, then hangs the call up at OpenAI when the bridge ended it (the caller
  // would otherwise stay connected to a call nobody watches), then closes the sideband. The closing
  // grace bounds it all: timers() then aborts, and the `||` cancels the hang-up.
  net::awaitable<void> closing_task() {
    if (!supervisor_.ending()) co_await closing_wake_.async_wait(net::as_tuple_awaitable);
    if (hang_up_at_end_) {
      const auto result = co_await ctx_.openai_calls->hang_up(setup_.control);
      if (result.ok)
        spdlog::info("call {}: hung up at OpenAI", label_);
      else
        spdlog::warn("call {}: hang-up at OpenAI failed: {}", label_,
                     log::escape_for_log(result.detail, log::reason_bytes));
    }
    upstream_.close({1000, "call ended"});
  }

  [[nodiscard]] std::optional<std::int64_t> core_wakeup() const override { return state_.next_wakeup(); }
  void on_timer_expired(bool supervisor_due) override {
    if (supervisor_due) supervisor_.on_timer(step_at_, true, supervisor_actions_);
    if (!supervisor_.ending()) state_.on_tick(ms_of(step_at_), actions_);
  }

  // --- actions -----------------------------------------------------------------------------------

  // Carries out sideband_state's actions, then the supervisor's, which may give sideband_state more
  // (configure_upstream, pause_relay), until neither has any left. By index: an action may append.
  void execute() override {
    do {
      for (std::size_t i = 0; i < actions_.size(); ++i) {
        auto action = std::move(actions_[i]);
        std::visit([this](auto& act) { perform(act); }, action);
      }
      actions_.clear();
      for (std::size_t i = 0; i < supervisor_actions_.size(); ++i) {
        auto action = std::move(supervisor_actions_[i]);
        perform_supervised(action, [this](auto& act) { perform(act); });
      }
      supervisor_actions_.clear();
    } while (!actions_.empty() || !supervisor_actions_.empty());
    rearm_timer();
  }

  void perform(const call::publish& a) {
    if (ctx_.events) ctx_.events->publish(setup_.identity, a.event);
  }
  // What sideband_state logs is about the sideband's messages: the peer budget applies.
  void perform(const call::log_line& a) { log_peer_line(log_lines_, to_spdlog(a.level), "call {}: {}", label_, a.text); }
  void perform(const call::send_upstream_event& a) {
    if (!upstream_.open() || !supervisor_.upstream_open()) return;  // sideband_state keeps what must wait
    if (!upstream_.writer().push(a.json))
      supervisor_.on_upstream_lost("sideband: OpenAI is not reading (writer queue full)", step_at_,
                                   supervisor_actions_);
  }
  // Beside the call, which goes on meanwhile; the answer is a step of its own if the call still runs.
  void perform(const call::invoke_tool& a) {
    std::weak_ptr<sip_session> weak = weak_from_this();
    post_tool_webhook(ex_, setup_.tools.tools.at(a.tool_index), a.body, ctx_.tool_webhook_secret, ctx_.tls,
                      tools_running_, [weak, id = a.request_id](const call::webhook_response& response) {
                        if (auto self = weak.lock()) self->on_tool_response(id, response);
                      });
  }
  // sideband_state knows what the call has become: the bridge need not hang it up.
  void perform(const call::end_call& a) { end(a.reason, a.detail, false); }
  void perform(const sip::sip_control& a) {
    asio::co_spawn(ex_, control(*ctx_.openai_calls, setup_.control, a, weak_from_this()), asio::detached);
  }
  // Static: the session may be gone when OpenAI answers.
  static net::awaitable<void> control(const telephony::openai_calls& calls, telephony::openai_call_target target,
                                      sip::sip_control request, std::weak_ptr<sip_session> weak) {
    // Two statements, not a conditional with a co_await in each branch: g++ 12 destroys both
    // branches' results, one of them never constructed (a free() of a garbage pointer, seen in tests).
    telephony::rest_result result;
    if (request.what == sip::sip_control::kind::hang_up)
      result = co_await calls.hang_up(target);
    else
      result = co_await calls.refer(target, std::move(request.target_uri));
    if (auto self = weak.lock()) self->on_control_done(request.request_id, result);
  }

  using supervised_upstream::perform;
  // The session was configured by the accept: a sideband is ready as soon as sideband_state has
  // attached the adapter to it.
  void perform(const call::configure_upstream&) {
    ++attaches_;
    state_.on_attached(ms_of(step_at_), actions_);
    supervisor_.on_upstream_ready(step_at_, supervisor_actions_);
  }
  void perform(const call::pause_relay&) { state_.on_lost(ms_of(step_at_), actions_); }
  void perform(const call::close_call& a) {
    reason_ = a.reason;
    detail_ = a.detail;
    hang_up_at_end_ = hang_up_wanted_;
    wake_upstream_task();      // gives up a connect in progress
    closing_wake_.cancel();    // closing_task() hangs up if it should, then closes the sideband
  }
  void perform(const call::abort_sockets&) {
    upstream_.abort_now();
    sockets_aborted_ = true;
  }

  // --- inputs from outside the sideband ----------------------------------------------------------

  // Drain or shutdown (call_registry::stop_all). Before the accept completed the call has nothing to
  // close: it ends as soon as it starts.
  void on_stop() {
    stop_requested_ = true;
    if (!running_) return;
    step_at_ = steady::now();
    end(end_reason::shutdown, "server is shutting down", true);
    execute();
  }
  void on_operator(const call::operator_command& command) {
    if (running_) step_outside([&](std::int64_t now) { state_.on_operator(command, now, actions_); });
  }
  void on_tool_response(std::uint64_t request_id, const call::webhook_response& response) {
    step_outside([&](std::int64_t now) { state_.on_tool_response(request_id, response, now, actions_); });
  }
  void on_control_done(std::uint64_t request_id, const telephony::rest_result& result) {
    step_outside([&](std::int64_t now) { state_.on_control_done(request_id, result.ok, result.detail, now, actions_); });
  }

  // --- the end -----------------------------------------------------------------------------------

  // Asks the supervisor to end the call; the next execute() carries out its close_call. `hang_up`:
  // the call is still up at OpenAI and the bridge is the one ending it. Only the first end counts.
  void end(end_reason reason, std::string detail, bool hang_up) {
    if (!supervisor_.ending()) hang_up_wanted_ = hang_up;
    supervisor_.on_end_requested(reason, std::move(detail), step_at_, supervisor_actions_);
  }

  void bad_input(const std::string& what) {
    m_.errors(metrics::error_kind::upstream_bad_message).inc();
    log_peer_line(log_lines_, spdlog::level::warn, "call {}: ignoring bad message from the sideband: {}", label_,
                  what);
  }

  void add_usage(const upstream::usage& used) {
    usage_.input_tokens += used.input_tokens;
    usage_.output_tokens += used.output_tokens;
    usage_.total_tokens += used.total_tokens;
  }

  // A call whose sideband never attached published no call.started: its end is a log line and a
  // metric only, so that listeners and the history see no call without a beginning.
  void finish() {
    tools_running_->cancel();  // webhooks still running are abandoned
    auto* events = attaches_ > 0 ? ctx_.events : nullptr;
    actions_.clear();
    state_.finish(actions_);
    for (auto& a : actions_)
      if (auto* p = std::get_if<call::publish>(&a); p && events) events->publish(setup_.identity, p->event);
    actions_.clear();
    const auto counts = fmt::format("sideband_attaches={} sideband_messages={}", attaches_, messages_);
    report_call_end(setup_.identity, label_, {reason_, detail_, started_at_, log_lines_.suppressed()}, counts, usage_,
                    events, m_);
  }

  asio::any_io_executor ex_;
  sip::sideband_state state_;
  std::string buffer_;
  std::vector<upstream::event> events_;  // one sideband message, translated
  std::vector<sip::sideband_action> actions_;
  asio::steady_timer closing_wake_;  // cancelled when the call ends
  // Never expires: cancelled at the call's end, which ends the webhook requests waiting on it.
  std::shared_ptr<asio::steady_timer> tools_running_;
  bool running_ = false;  // accepted: the call runs until finish()
  bool stop_requested_ = false;
  bool hang_up_wanted_ = false;  // of the first end asked for
  bool hang_up_at_end_ = false;  // the end that came: closing_task() hangs up first

  log::connection_lines log_lines_;  // the budget for lines the sideband causes
  sip_call_setup setup_;
  std::uint64_t registry_id_ = 0;
  bool admitted_ = false;  // holds a slot in the registry until destroyed
  protocol::token_usage usage_;
  std::uint64_t attaches_ = 0;
  std::uint64_t messages_ = 0;
  steady::time_point started_at_;  // the accept's success: the call's start
};

net::awaitable<void> run_session(std::shared_ptr<sip_session> session) { co_await session->run(); }

}  // namespace

sip_admission start_sip_call(sip_call_setup setup, const bridge_context& ctx, asio::any_io_executor ex) {
  if (!ctx.registry || !ctx.openai_calls) {
    spdlog::error("call {}: SIP calls need the call registry and OpenAI's control plane client",
                  setup.identity.call_sid);
    return sip_admission::full;
  }
  const auto call_sid = setup.identity.call_sid;
  try {
    auto strand = asio::make_strand(std::move(ex));
    auto session = std::make_shared<sip_session>(std::move(setup), ctx, strand);
    switch (session->admit()) {
      case admission::admit_result::full: return sip_admission::full;
      case admission::admit_result::already_live: return sip_admission::already_live;
      case admission::admit_result::admitted: break;
    }
    asio::co_spawn(strand, run_session(std::move(session)), asio::detached);
    return sip_admission::admitted;
  } catch (const std::exception& e) {
    spdlog::error("call {}: SIP call not started: {}", call_sid, e.what());
    return sip_admission::full;
  }
}

}  // namespace mb::bridge
