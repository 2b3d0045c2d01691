#include "bridge/call_session.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "admission/pre_start.hpp"
#include "bridge/call_metrics.hpp"
#include "bridge/call_summary.hpp"
#include "bridge/peer_log.hpp"
#include "bridge/prewarm_pool.hpp"
#include "bridge/read_end.hpp"
#include "bridge/stream_admission.hpp"
#include "bridge/supervised_upstream.hpp"
#include "bridge/tool_webhook.hpp"
#include "bridge/upstream_socket.hpp"
#include "call/call_supervisor.hpp"
#include "call/event_json.hpp"
#include "call/wire_tap.hpp"
#include "telephony/twilio_client.hpp"

namespace mb::bridge {
namespace {

using namespace asio::experimental::awaitable_operators;
using call::end_reason;
using steady = std::chrono::steady_clock;
using record::direction;

class call_session final : public supervised_upstream, public std::enable_shared_from_this<call_session> {
 public:
  call_session(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx, std::string remote,
               call_registry::pending_slot pending)
      : supervised_upstream(ctx, ctx.lifecycle, twilio->get_executor(), "[" + remote + "]", end_reason::twilio_closed),
        twilio_(std::move(twilio)),
        twilio_out_(*twilio_, ctx.writer_queue_messages),
        state_(ctx.session, ctx.call, upstream::make_adapter(ctx.provider)),
        wire_(ctx.wire_events),
        tools_running_(std::make_shared<asio::steady_timer>(twilio_->get_executor(), steady::time_point::max())),
        log_lines_(ctx.peer_lines),
        admission_(ctx, m_, std::move(remote), std::move(pending), log_lines_, twilio_out_) {
    state_.set_tools(ctx.tools);
    supervisor_.set_provider_lifecycle(state_.upstream().caps().lifecycle);
    actions_.reserve(8);  // an action is ~180 bytes; the vector keeps what the busiest step needed
    twilio_out_.observe_writes(
        [this](steady::time_point since, steady::time_point written) { on_twilio_written(since, written); });
  }

  net::awaitable<void> run() {
    started_at_ = step_at_ = steady::now();
    supervisor_.on_stream_opened(step_at_, supervisor_actions_);
    execute();
    co_await run_until_closed(twilio_reader() && twilio_out_.run() && upstream_task());
    finish();
  }

 private:
  // --- the branches -----------------------------------------------------------------------------

  net::awaitable<void> twilio_reader() {
    for (;;) {
      const auto r = co_await twilio_->read(twilio_buf_, simdjson::SIMDJSON_PADDING);
      const bool binary = r.status == net::read_status::binary_message;
      if (!admission_.admitted() && (binary || r.status == net::read_status::message)) {
        before_admission(binary);
        continue;
      }
      if (r.status == net::read_status::message || binary) {
        step_at_ = steady::now();
        capture(direction::twilio_in, twilio_buf_);
      }
      if (r.status == net::read_status::message) {
        if (auto err = twilio_parser_.parse(twilio_buf_, twilio_buf_.capacity(), twilio_msg_)) {
          bad_input("Twilio", err->what);
          continue;
        }
        if (twilio_msg_.event == protocol::twilio_event::media) {
          supervisor_.on_caller_media(step_at_);
          call_metrics_.on_caller_audio(twilio_msg_.media.payload, step_at_);
        } else {
          tap("twilio_in", twilio_msg_.event_name, twilio_buf_.size());
        }
        state_.on_twilio(twilio_msg_, ms_of(step_at_), actions_);
        execute();
        if (twilio_msg_.event == protocol::twilio_event::mark) publish_turn(call_metrics_.on_mark_echo(step_at_));
        continue;
      }
      if (binary) {
        bad_input("Twilio", "binary frame (Media Streams sends text frames only)");
        continue;
      }
      on_twilio_read_end(r);
      co_return;
    }
  }

  [[nodiscard]] net::connect_request upstream_request() const override {
    const bool resolved = !upstream_url_.empty();
    return {resolved ? upstream_url_ : ctx_.upstream_url, resolved ? upstream_headers_ : ctx_.upstream_headers,
            ctx_.upstream_limits, static_cast<int>(ctx_.upstream_connect_timeout.count())};
  }
  [[nodiscard]] net::ws_writer::write_observer upstream_write_observer() override {
    return call_metrics_.upstream_relay_observer();
  }

  // The first session is the one the webhook pre-warmed, when the call claimed one; a pre-warm that
  // failed to connect costs the call a second try, as if it had not been made.
  net::awaitable<net::connect_result> dial(const net::connect_request& request) override {
    if (auto session = std::exchange(prewarmed_, nullptr)) {
      auto taken = co_await session->take();
      if (taken.socket || supervisor_.ending()) co_return taken;
    }
    auto dialed = co_await net::connect_websocket(request, ctx_.tls);
    co_return dialed;
  }

  net::awaitable<void> upstream_reader() override {
    for (;;) {
      const auto r = co_await upstream_.socket().read(upstream_buf_, simdjson::SIMDJSON_PADDING);
      if (r.status == net::read_status::message || r.status == net::read_status::binary_message) {
        step_at_ = steady::now();
        capture(direction::upstream_in, upstream_buf_);
      }
      if (r.status == net::read_status::message) {
        upstream_events_.clear();
        if (auto err = state_.upstream().translate(upstream_buf_, upstream_buf_.capacity(), ms_of(step_at_),
                                                   upstream_events_)) {
          bad_input("upstream", err->what);
          continue;
        }
        tap_upstream_in();
        for (const auto& ev : upstream_events_) on_upstream_event(ev);
        continue;
      }
      if (r.status == net::read_status::binary_message) {
        bad_input("upstream", "binary frame");
        continue;
      }
      const bool lost = supervisor_.upstream_open();  // else closed on purpose: a restart, a rollover or the end
      if (!lost && !recording_) co_return;
      step_at_ = steady::now();
      auto what = describe_read_end("upstream", r, upstream_.socket());
      if (recording_)
        recording_->add_connection(direction::upstream_closed, recording_t_us(), upstream_connections_, what);
      if (!lost) co_return;
      m_.errors(metrics::error_kind::upstream_lost).inc();
      supervisor_.on_upstream_lost(std::move(what), step_at_, supervisor_actions_);
      execute();
      co_return;
    }
  }

  // One neutral event: call_state decides, the supervisor learns when the session became ready.
  void on_upstream_event(const upstream::event& ev) {
    if (upstream_.answered(ev)) return;
    const bool was_ready = state_.upstream_ready();
    state_.on_upstream(ev, ms_of(step_at_), actions_);
    if (!was_ready && state_.upstream_ready()) {
      spdlog::debug("call {}: session ready {} ms after connect", label_, call_metrics_.on_session_ready(step_at_).count());
      supervisor_.on_upstream_ready(step_at_, supervisor_actions_);
    }
    execute();
    const bool delta = ev.kind == upstream::event_kind::assistant_audio ||
                       ev.kind == upstream::event_kind::assistant_transcript_delta;
    publish_turn(call_metrics_.on_upstream_event(ev, delta && state_.is_cut(ev.response_id), step_at_));
  }

  // Every timed write to Twilio (relayed media): its relay latency, and perhaps a turn's first audio.
  void on_twilio_written(steady::time_point since, steady::time_point written) {
    publish_turn(call_metrics_.on_twilio_written(since, written));
  }
  void publish_turn(const std::optional<call_metrics::turn>& turn) {
    auto* sink = events();
    if (!turn || !sink) return;
    sink->publish(identity_, call::waterfall_event(*turn, steady::now(), unix_ms_now()));
  }

  // One timer for the supervisor's deadlines and call_state's pacing, armed at the earlier of the two.
  [[nodiscard]] std::optional<std::int64_t> core_wakeup() const override { return state_.next_wakeup(); }
  void on_timer_expired(bool supervisor_due) override {
    if (supervisor_due) supervisor_.on_timer(step_at_, state_.quiet(ms_of(step_at_)), supervisor_actions_);
    if (!supervisor_.ending()) state_.on_tick(ms_of(step_at_), actions_);
  }

  // --- actions --------------------------------------------------------------------------------

  // Carries out call_state's actions, then the supervisor's, which may give call_state more to do
  // (configure_upstream, pause_relay), until neither has any left. call_state's actions may point
  // into its buffers, so it is stepped again only once they are done.
  void execute() override {
    do {
      // By index: a perform may append to actions_, which can reallocate.
      for (std::size_t i = 0; i < actions_.size(); ++i) std::visit([this](auto& act) { perform(act); }, actions_[i]);
      actions_.clear();
      for (auto& a : supervisor_actions_) perform_supervised(a, [this](auto& act) { perform(act); });
      supervisor_actions_.clear();
    } while (!actions_.empty());
    rearm_timer();
    call_metrics_.count_progress(state_.stats());
  }

  // `since`: when the relayed audio reached us, for the relay latency histogram; {} for other messages.
  // Once the call is ending nothing more is sent: the closes are queued behind what was.
  template <class Fill>
  void to_twilio(Fill&& fill, steady::time_point since = {}) {
    if (supervisor_.ending()) return;
    if (!twilio_out_.emplace_timed(since, recorded(direction::twilio_out, std::forward<Fill>(fill))))
      end(end_reason::slow_peer, "Twilio is not reading fast enough (writer queue full)");
  }
  template <class Fill>
  void to_upstream(Fill&& fill, steady::time_point since = {}) {
    // Between a loss and pause_relay, call_state may still send a frame: it is dropped.
    if (!upstream_.open() || !supervisor_.upstream_open()) return;
    if (!upstream_.writer().emplace_timed(since, recorded(direction::upstream_out, std::forward<Fill>(fill))))
      end(end_reason::slow_peer, "the upstream is not reading fast enough (writer queue full)");
  }

  // `fill`, which writes a message, then the message into the recording. A fill that returns false
  // wrote nothing to send.
  template <class Fill>
  auto recorded(direction dir, Fill&& fill) {
    return [this, dir, &fill](std::string& s) {
      if constexpr (std::is_same_v<std::invoke_result_t<Fill&, std::string&>, bool>) {
        const bool send = fill(s);
        if (send) capture(dir, s);
        return send;
      } else {
        fill(s);
        capture(dir, s);
      }
    };
  }

  void perform(const call::send_twilio_media& a) {
    to_twilio([&](std::string& s) { protocol::build_twilio_media(s, identity_.stream_sid, a.payload_b64); }, step_at_);
  }
  void perform(const call::send_twilio_mark& a) {
    to_twilio([&](std::string& s) {
      protocol::build_twilio_mark(s, identity_.stream_sid, a.name);
      tap("twilio_out", "mark", s.size());
    });
  }
  void perform(const call::send_twilio_clear&) {
    to_twilio([&](std::string& s) {
      protocol::build_twilio_clear(s, identity_.stream_sid);
      tap("twilio_out", "clear", s.size());
    });
  }
  void perform(const call::send_upstream_audio& a) {
    to_upstream(
        [&](std::string& s) {
          state_.upstream().append_caller_audio(s, a.payload_b64);
          return !s.empty();  // a transcoder gathering its block has nothing to send yet
        },
        step_at_);
  }
  void perform(const call::send_upstream_event& a) {
    to_upstream([&](std::string& s) { s.assign(a.json); });
    tap("upstream_out", call::wire_type_of(a.json), a.json.size());
  }
  void perform(const call::open_upstream&) { supervisor_.on_stream_started(step_at_, supervisor_actions_); }
  void perform(const call::publish& a) {
    if (auto* sink = events()) sink->publish(identity_, a.event);
  }
  // What call_state logs is about the peers' messages: the peer budget applies.
  void perform(const call::log_line& a) { log_peer_line(log_lines_, to_spdlog(a.level), "call {}: {}", label_, a.text); }
  void perform(const call::end_call& a) { end(a.reason, a.detail); }
  void perform(const call::restart_upstream& a) {
    supervisor_.on_restart_requested(a.reason, step_at_, supervisor_actions_);
  }
  void perform(const call::renew_upstream& a) {
    supervisor_.on_renewal_requested(a.reason, step_at_, supervisor_actions_);
  }
  // Posts the webhook beside the call, which goes on meanwhile; the answer is a step of its own, if the
  // call still runs. A webhook never ends the call: at the call's end its request is abandoned.
  void perform(const call::invoke_tool& a) {
    std::weak_ptr<call_session> weak = weak_from_this();
    post_tool_webhook(twilio_->get_executor(), state_.tools().tools.at(a.tool_index), a.body, ctx_.tool_webhook_secret,
                      ctx_.tls, tools_running_, [weak, id = a.request_id](const call::webhook_response& response) {
                        if (auto self = weak.lock()) self->on_tool_response(id, response);
                      });
  }

  // Through Twilio's REST API on this call's executor; the outcome comes back only while the call
  // runs. Without REST credentials call_state hears of the failure (a hang-up then closes the stream).
  void perform(const call::update_twilio_call& a) {
    const auto* rest = ctx_.twilio_rest;
    std::weak_ptr<call_session> weak = weak_from_this();
    if (!rest || !rest->configured()) {
      spdlog::warn("call {}: {} not possible through Twilio's REST API: it is not configured "
                   "(TWILIO_ACCOUNT_SID and the auth token or an API key)",
                   label_, a.what == call::update_twilio_call::kind::hang_up ? "hang-up" : "transfer");
      asio::post(twilio_->get_executor(), [weak, id = a.request_id] {
        if (auto self = weak.lock())
          self->on_call_update_done(id, {false, "TWILIO_ACCOUNT_SID/credentials not set"});
      });
      return;
    }
    protocol::call_update_request request{
        identity_.call_sid,
        a.what == call::update_twilio_call::kind::hang_up ? protocol::call_update_request::kind::hang_up
                                                           : protocol::call_update_request::kind::redirect,
        a.twiml};
    asio::co_spawn(twilio_->get_executor(), update_call(*rest, std::move(request), a.request_id, std::move(weak)),
                   asio::detached);
  }
  // Static: the session may be gone when Twilio answers.
  static net::awaitable<void> update_call(const telephony::twilio_client& rest, protocol::call_update_request request,
                                          std::uint64_t request_id, std::weak_ptr<call_session> weak) {
    const auto result = co_await rest.update_call(std::move(request));
    if (auto self = weak.lock()) self->on_call_update_done(request_id, {result.ok, result.detail});
  }
  void on_call_update_done(std::uint64_t request_id, const call::call_update_outcome& outcome) {
    step_outside([&](std::int64_t now) { state_.on_call_update_done(request_id, outcome, now, actions_); });
  }

  // WIRE_EVENTS: a message's type and size, never its payload, within the tap's rate.
  void tap(std::string_view direction, std::string_view type, std::size_t bytes) {
    auto* sink = events();
    if (!wire_.enabled() || !sink) return;
    if (auto event = wire_.on_message(direction, type, bytes, ms_of(step_at_))) sink->publish(identity_, std::move(*event));
  }
  // One provider message: its audio deltas are media, left out like Twilio's.
  void tap_upstream_in() {
    if (!wire_.enabled() || upstream_events_.empty()) return;
    const auto& first = upstream_events_.front();
    if (first.kind == upstream::event_kind::assistant_audio) return;
    tap("upstream_in", first.type_name, upstream_buf_.size());
  }

  using supervised_upstream::perform;
  void perform(const call::configure_upstream&) {
    ++upstream_connections_;
    if (recording_) recording_->add_connection(direction::upstream_open, recording_t_us(), upstream_connections_);
    state_.on_upstream_connected(actions_);
  }
  void perform(const call::pause_relay&) { state_.on_upstream_lost(ms_of(step_at_), actions_); }
  void perform(const call::close_call& a) {
    // The start deadline ran out before admission: not a call that timed out, a refused stream.
    if (!admission_.admitted() && !admission_.refused() && a.reason == end_reason::timeout)
      admission_.refuse({metrics::stream_refusal::no_start, a.detail});
    reason_ = a.reason;
    detail_ = a.detail;
    if (a.reason == end_reason::slow_peer) m_.errors(metrics::error_kind::slow_peer).inc();
    twilio_out_.close({a.twilio_close_code, call::to_string(a.reason)});  // a refusal's close came first
    for (const auto& sent : upstream_.close_for_end(state_))
      if (const auto* e = std::get_if<call::send_upstream_event>(&sent)) capture(direction::upstream_out, e->json);
    wake_upstream_task();  // gives up a connect in progress
  }
  void perform(const call::abort_sockets&) {
    twilio_out_.abort_now();
    upstream_.abort_now();
    sockets_aborted_ = true;
  }

  // --- admission and the end --------------------------------------------------------------------

  // Until a start is authorised nothing is published, stored, counted or logged per message; a stream
  // being refused reads on only to finish the close handshake.
  void before_admission(bool binary) {
    if (supervisor_.ending()) return;
    step_at_ = steady::now();
    std::weak_ptr<call_session> weak = weak_from_this();
    auto stop = [weak] {
      if (auto self = weak.lock()) self->end_now(end_reason::shutdown, "server is shutting down");
    };
    auto command = [weak](call::operator_command c) {
      if (auto self = weak.lock()) self->on_operator(std::move(c));
    };
    if (auto refusal = admission_.on_message(binary, twilio_buf_, twilio_buf_.capacity(), twilio_parser_, twilio_msg_,
                                             twilio_->get_executor(), std::move(stop), std::move(command)))
      refuse(std::move(*refusal));
    else if (admission_.admitted())
      start_call(*twilio_msg_.start);
    execute();
  }

  // The agent profile first, so that call.started names the agent and the upstream gets its session;
  // then call_state, whose open_upstream starts the call in the supervisor's terms (its start deadline,
  // disarmed, and its media deadline, armed).
  void start_call(const protocol::twilio_start& start) {
    identity_ = identity_of(start);
    label_ = start.call_sid;
    bool wants_recording = ctx_.record;
    std::string agent = "default";
    auto provider = ctx_.provider;
    // Ending: a start the peer repeats while its refusal is under way gets no more work or log lines.
    if (ctx_.resolve && !supervisor_.ending()) {
      if (auto setup = ctx_.resolve(start)) {
        upstream_url_ = std::move(setup->upstream_url);
        upstream_headers_ = std::move(setup->upstream_headers);
        state_.configure(std::move(setup->session), std::move(setup->greeting), setup->agent,
                         setup->provider == ctx_.provider ? nullptr : upstream::make_adapter(setup->provider));
        state_.set_tools(std::move(setup->tools));
        supervisor_.set_provider_lifecycle(state_.upstream().caps().lifecycle);
        wants_recording = setup->record;
        agent = std::move(setup->agent);
        provider = setup->provider;
      } else {
        end(end_reason::bad_input, "no agent profile for this stream");
      }
    }
    // Authorised (its token redeemed for this CallSid) and admitted: the call may take its pre-warmed session.
    if (ctx_.prewarm && !supervisor_.ending())
      prewarmed_ = ctx_.prewarm->claim(start.call_sid, twilio_->get_executor(),
                                       prewarm_pool::claim_key_of(start.custom_parameters));
    if (wants_recording && ctx_.recorder && !supervisor_.ending()) start_recording(std::move(agent), provider);
    state_.on_twilio(twilio_msg_, ms_of(step_at_), actions_);
  }

  // t = 0 is now, as Twilio's start reached the bridge; the start is the first entry (the writer
  // redacts its stream token). One allocation for the call: its ring.
  void start_recording(std::string agent, upstream::provider_kind provider) {
    recording_t0_ = step_at_;
    recording_ = ctx_.recorder->start({.call_sid = identity_.call_sid,
                                       .stream_sid = identity_.stream_sid,
                                       .agent = std::move(agent),
                                       .provider = std::string(upstream::to_string(provider)),
                                       .started_at = unix_ms_now(),
                                       .dtmf_masked = state_.tools().dtmf.mask});
    if (!recording_) {
      spdlog::warn("call {}: not recorded: its recording is still being written (the same CallSid streamed again)",
                   label_);
      return;
    }
    recording_events_.emplace(*this);
    capture(direction::twilio_in, twilio_buf_);
  }

  [[nodiscard]] std::int64_t recording_t_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(step_at_ - recording_t0_).count();
  }
  void capture(direction dir, std::string_view message) {
    if (recording_) recording_->add(dir, recording_t_us(), message);
  }
  static std::int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A recorded call's events go into its recording as listeners get them, then on to ctx_.events.
  class recording_events final : public event_sink {
   public:
    explicit recording_events(call_session& call) : call_(call) {}
    void publish(const call_identity& who, const call::call_event& event) override {
      call_.capture(direction::event, json_.write(context(who), event));
      if (call_.ctx_.events) call_.ctx_.events->publish(who, event);
    }
    void call_ended(const call_identity& who, const call_summary& summary) override {
      const call::call_end end{summary.reason, summary.detail, summary.duration.count(), summary.usage};
      call_.capture(direction::event, json_.write(context(who), end));
      if (call_.ctx_.events) call_.ctx_.events->call_ended(who, summary);
    }

   private:
    static call::event_context context(const call_identity& who) {
      return {who.call_sid, who.stream_sid, who.from, who.to, unix_ms_now()};
    }
    call_session& call_;
    call::event_writer json_;  // no allocation per event once warm
  };
  [[nodiscard]] event_sink* events() { return recording_events_ ? &*recording_events_ : ctx_.events; }

  // Closes Twilio with the refusal's own code, then lets the supervisor end the stream (the closing
  // grace); the writer keeps the first close.
  void refuse(admission::refusal refusal) {
    if (supervisor_.ending()) return;
    admission_.refuse(refusal);
    end(end_reason::bad_input, std::move(refusal.detail));
  }

  void bad_input(const char* side, const std::string& what) {
    m_.errors(std::string_view(side) == "Twilio" ? metrics::error_kind::twilio_bad_message
                                                 : metrics::error_kind::upstream_bad_message)
        .inc();
    log_peer_line(log_lines_, spdlog::level::warn, "call {}: ignoring bad message from {}: {}", label_, side, what);
  }

  void on_twilio_read_end(const net::read_result& r) {
    if (supervisor_.ending()) return;
    step_at_ = steady::now();
    auto what = describe_read_end("Twilio", r, *twilio_);
    if (!admission_.admitted() && r.status == net::read_status::too_big)
      refuse({metrics::stream_refusal::bad_message, std::move(what) + " before start"});
    else
      end(twilio_read_end_reason(r), std::move(what));
    execute();
  }

  // Asks the supervisor to end the call; the next execute() carries out its close_call.
  void end(end_reason reason, std::string detail) {
    supervisor_.on_end_requested(reason, std::move(detail), step_at_, supervisor_actions_);
  }
  // An operator's command, posted to this call's executor by the registry.
  void on_operator(const call::operator_command& command) {
    step_outside([&](std::int64_t now) { state_.on_operator(command, now, actions_); });
  }

  void on_tool_response(std::uint64_t request_id, const call::webhook_response& response) {
    step_outside([&](std::int64_t now) { state_.on_tool_response(request_id, response, now, actions_); });
  }

  // The same, outside any step.
  void end_now(end_reason reason, std::string detail) {
    step_at_ = steady::now();
    end(reason, std::move(detail));
    execute();
  }

  // A stream that never became a call gets no summary, event or metric but its refusal's (already
  // counted and logged).
  void finish() {
    tools_running_->cancel();  // webhooks still running are abandoned
    if (prewarmed_) prewarmed_->discard();  // ended before its first connect
    if (admission_.admitted())
      report_call_end(state_, identity_, label_, {reason_, detail_, started_at_, log_lines_.suppressed()}, events(),
                      m_);
    else if (!admission_.refused())
      spdlog::debug("call {}: stream ended before its start: {}", label_, detail_);
    // After call.ended: the recording's last entry.
    if (recording_) {
      step_at_ = steady::now();
      recording_->finish(recording_t_us());
    }
    admission_.leave();
  }

  std::unique_ptr<net::message_socket> twilio_;
  net::ws_writer twilio_out_;
  call::call_state state_;
  call::wire_tap wire_;
  protocol::twilio_parser twilio_parser_;
  protocol::twilio_message twilio_msg_;
  std::vector<upstream::event> upstream_events_;  // one provider message, translated
  std::string twilio_buf_;
  std::string upstream_buf_;
  std::vector<call::action> actions_;

  // Never expires: cancelled at the call's end, which ends the webhook requests waiting on it.
  std::shared_ptr<asio::steady_timer> tools_running_;

  call_identity identity_;  // label_: "[remote address]", then the CallSid once admitted
  log::connection_lines log_lines_;  // the budget for lines this call's peers cause
  stream_admission admission_;
  steady::time_point started_at_;
  std::string upstream_url_;         // from the agent profile; empty: ctx_.upstream_url
  std::vector<std::pair<std::string, std::string>> upstream_headers_;  // likewise; never logged
  std::shared_ptr<prewarmed_session> prewarmed_;  // claimed at the start, taken by the first dial

  // Recorded calls only (docs/recording.md).
  std::shared_ptr<recorder::call_recording> recording_;
  std::optional<recording_events> recording_events_;
  steady::time_point recording_t0_;
  std::uint64_t upstream_connections_ = 0;  // provider sessions connected so far
};

}  // namespace

net::awaitable<void> run_call(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx,
                              std::string remote_address, call_registry::pending_slot pending) {
  auto session = std::make_shared<call_session>(std::move(twilio), ctx, std::move(remote_address), std::move(pending));
  co_await session->run();
}

}  // namespace mb::bridge
