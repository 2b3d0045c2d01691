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

#include "bridge/peer_log.hpp"
#include "call/call_supervisor.hpp"

namespace mb::bridge {
namespace {

using namespace asio::experimental::awaitable_operators;
using call::end_reason;
using steady = std::chrono::steady_clock;

// call_state counts time in whole ms of the steady clock.
std::int64_t ms_of(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
steady::time_point to_time_point(std::int64_t ms) { return steady::time_point(std::chrono::milliseconds(ms)); }
std::int64_t ms_between(steady::time_point from, steady::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

// Calls cut by one outage must not reconnect in step: each draws its own backoff jitter.
std::uint64_t jitter_seed(const void* session) {
  return static_cast<std::uint64_t>(steady::now().time_since_epoch().count()) ^
         static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(session));
}

spdlog::level::level_enum to_spdlog(call::log_level level) {
  switch (level) {
    case call::log_level::debug: return spdlog::level::debug;
    case call::log_level::info: return spdlog::level::info;
    case call::log_level::warn: return spdlog::level::warn;
    case call::log_level::error: return spdlog::level::err;
  }
  return spdlog::level::warn;
}

std::uint16_t close_code_for(metrics::stream_refusal r) {
  // "Try again later" when only capacity stood in the way; every other refusal is a policy violation.
  return r == metrics::stream_refusal::full ? 1013 : 1008;
}

// Only our own names: an unknown event's name is the peer's text, which a refusal line must not echo.
const char* event_name(protocol::twilio_event e) {
  switch (e) {
    case protocol::twilio_event::connected: return "connected";
    case protocol::twilio_event::start: return "start";
    case protocol::twilio_event::media: return "media";
    case protocol::twilio_event::mark: return "mark";
    case protocol::twilio_event::dtmf: return "dtmf";
    case protocol::twilio_event::stop: return "stop";
    case protocol::twilio_event::unknown: break;
  }
  return "an unknown event";
}

class call_session : public std::enable_shared_from_this<call_session> {
 public:
  call_session(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx, std::string remote,
               call_registry::pending_slot pending)
      : ctx_(ctx),
        m_(ctx.metrics ? *ctx.metrics : metrics::bridge_metrics::discard()),
        twilio_(std::move(twilio)),
        twilio_out_(*twilio_, ctx.writer_queue_messages),
        state_(ctx.session, ctx.call, upstream::make_adapter(ctx.provider)),
        supervisor_(ctx.lifecycle, jitter_seed(this)),
        timer_(twilio_->get_executor()),
        upstream_wake_(twilio_->get_executor()),
        label_("[" + remote + "]"),
        remote_(std::move(remote)),
        pending_(std::move(pending)),
        log_lines_(ctx.peer_lines) {
    upstream_wake_.expires_at(steady::time_point::max());
    supervisor_.set_provider_lifecycle(state_.upstream().caps().lifecycle);
    actions_.reserve(64);
    supervisor_actions_.reserve(8);
    twilio_out_.observe_writes(
        [h = &m_.relay(metrics::direction::upstream_to_caller)](steady::duration d) { h->observe(d); });
  }

  net::awaitable<void> run() {
    started_at_ = step_at_ = steady::now();
    supervisor_.on_stream_opened(step_at_, supervisor_actions_);
    execute();
    co_await (sockets() || timers());
    supervisor_.on_sockets_closed(steady::now(), supervisor_actions_);
    supervisor_actions_.clear();  // it disarms the timer, which went with the `||`
    finish();
  }

 private:
  // --- the branches -----------------------------------------------------------------------------

  // Both sockets, until both are finished. An unexpected failure ends them here: were it to escape,
  // `||` would wait for timers() to succeed, that is, for the maximum call duration.
  net::awaitable<void> sockets() {
    try {
      co_await (twilio_reader() && twilio_out_.run() && upstream_task());
    } catch (const std::exception& e) {
      if (sockets_aborted_) co_return;  // cancelled by the `||` after the abort: expected
      spdlog::error("call {}: unexpected failure: {}", label_, e.what());
      m_.errors(metrics::error_kind::unexpected_exception).inc();
      if (!supervisor_.ending()) reason_ = end_reason::upstream_error, detail_ = e.what();
    }
  }

  net::awaitable<void> twilio_reader() {
    for (;;) {
      const auto r = co_await twilio_->read(twilio_buf_, simdjson::SIMDJSON_PADDING);
      const bool binary = r.status == net::read_status::binary_message;
      if (!admitted_ && (binary || r.status == net::read_status::message)) {
        // Until a start is authorised nothing is published, stored, counted or logged per message.
        if (!supervisor_.ending()) {
          step_at_ = steady::now();
          before_admission(binary);
          execute();
        }
        continue;
      }
      if (r.status == net::read_status::message) {
        step_at_ = steady::now();
        if (auto err = twilio_parser_.parse(twilio_buf_, twilio_buf_.capacity(), twilio_msg_)) {
          bad_input("Twilio", err->what);
          continue;
        }
        if (twilio_msg_.event == protocol::twilio_event::media) supervisor_.on_caller_media(step_at_);
        state_.on_twilio(twilio_msg_, ms_of(step_at_), actions_);
        execute();
        if (twilio_msg_.event == protocol::twilio_event::mark && turn_ == turn_phase::awaiting_echo) {
          m_.turn_first_audio.observe(step_at_ - turn_stopped_at_);
          turn_ = turn_phase::idle;
        }
        continue;
      }
      if (binary) {
        bad_input("Twilio", "binary frame (Media Streams sends text frames only)");
        continue;
      }
      on_read_end("Twilio", r, *twilio_, end_reason::twilio_closed);
      co_return;
    }
  }

  // Opens an upstream socket each time the supervisor asks for one, and runs it until it is finished.
  net::awaitable<void> upstream_task() {
    for (;;) {
      if (!connect_wanted_ && !supervisor_.ending()) co_await upstream_wake_.async_wait(net::as_tuple_awaitable);
      if (supervisor_.ending()) co_return;
      if (!connect_wanted_) continue;
      connect_wanted_ = false;
      const auto connect_started_at = steady::now();
      net::connect_request request{upstream_url_.empty() ? ctx_.upstream_url : upstream_url_, ctx_.upstream_headers,
                                   ctx_.upstream_limits, static_cast<int>(ctx_.upstream_connect_timeout.count())};
      auto outcome = co_await (net::connect_websocket(request, ctx_.tls) || wait_for_end());
      if (outcome.index() != 0 || supervisor_.ending()) co_return;  // a socket that opened anyway is dropped
      auto& result = std::get<0>(outcome);
      step_at_ = steady::now();
      if (!result.socket) {
        m_.errors(metrics::error_kind::upstream_connect_failed).inc();
        supervisor_.on_upstream_connect_failed(result.failure, step_at_, supervisor_actions_);
        execute();
        continue;
      }
      upstream_ = std::move(result.socket);
      upstream_out_.emplace(*upstream_, ctx_.writer_queue_messages);
      upstream_out_->observe_writes(
          [h = &m_.relay(metrics::direction::caller_to_upstream)](steady::duration d) { h->observe(d); });
      connected_at_ = step_at_;
      m_.upstream_connect.observe(connected_at_ - connect_started_at);
      spdlog::debug("call {}: upstream connected in {} ms", label_, ms_between(connect_started_at, connected_at_));
      supervisor_.on_upstream_connected(step_at_, supervisor_actions_);
      execute();
      co_await (upstream_reader() && upstream_out_->run());
      upstream_out_.reset();
      upstream_.reset();
      step_at_ = steady::now();
      supervisor_.on_upstream_closed(step_at_, supervisor_actions_);
      execute();
    }
  }

  net::awaitable<void> upstream_reader() {
    for (;;) {
      const auto r = co_await upstream_->read(upstream_buf_, simdjson::SIMDJSON_PADDING);
      if (r.status == net::read_status::message) {
        step_at_ = steady::now();
        upstream_events_.clear();
        if (auto err = state_.upstream().translate(upstream_buf_, upstream_buf_.capacity(), ms_of(step_at_),
                                                   upstream_events_)) {
          bad_input("upstream", err->what);
          continue;
        }
        for (const auto& ev : upstream_events_) on_upstream_event(ev);
        continue;
      }
      if (r.status == net::read_status::binary_message) {
        bad_input("upstream", "binary frame");
        continue;
      }
      if (!supervisor_.upstream_open()) co_return;  // closed on purpose: a restart, a rollover or the end
      step_at_ = steady::now();
      m_.errors(metrics::error_kind::upstream_lost).inc();
      supervisor_.on_upstream_lost(describe_read_end("upstream", r, *upstream_), step_at_, supervisor_actions_);
      execute();
      co_return;
    }
  }

  // One timer for the supervisor's deadlines and call_state's pacing, armed at the earlier of the two.
  // Returns once the sockets are aborted (the closing grace ran out): `||` then cancels what is left.
  // One neutral event: call_state decides, the supervisor learns when the session became ready.
  void on_upstream_event(const upstream::event& ev) {
    if (ev.kind == upstream::event_kind::session_ended && awaiting_session_close_) {
      // The provider acknowledged our close request: the session is over, the socket may close.
      awaiting_session_close_ = false;
      if (upstream_out_) upstream_out_->close({1000, "call ended"});
      return;
    }
    const bool was_ready = state_.upstream_ready();
    const auto dropped_before = state_.stats().late_deltas_dropped;
    state_.on_upstream(ev, ms_of(step_at_), actions_);
    if (!was_ready && state_.upstream_ready()) {
      spdlog::debug("call {}: session ready {} ms after connect", label_, ms_between(connected_at_, step_at_));
      m_.session_update.observe(step_at_ - connected_at_);
      supervisor_.on_upstream_ready(step_at_, supervisor_actions_);
    }
    execute();
    observe_upstream_event(ev, state_.stats().late_deltas_dropped != dropped_before);
  }

  net::awaitable<void> timers() {
    for (;;) {
      armed_at_ = timer_target();
      timer_.expires_at(armed_at_);
      auto [ec] = co_await timer_.async_wait(net::as_tuple_awaitable);
      const auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) co_return;  // the sockets are finished
      if (ec) continue;  // re-armed
      step_at_ = steady::now();
      if (step_at_ >= supervisor_wakeup_) supervisor_.on_timer(step_at_, state_.quiet(), supervisor_actions_);
      if (!supervisor_.ending()) state_.on_tick(ms_of(step_at_), actions_);
      execute();
      if (sockets_aborted_) co_return;
    }
  }

  [[nodiscard]] steady::time_point timer_target() const {
    const auto pacing = supervisor_.ending() ? std::nullopt : state_.next_wakeup();
    return pacing ? std::min(to_time_point(*pacing), supervisor_wakeup_) : supervisor_wakeup_;
  }

  net::awaitable<void> wait_for_end() {
    if (!supervisor_.ending()) co_await upstream_wake_.async_wait(net::as_tuple_awaitable);
  }

  // --- actions --------------------------------------------------------------------------------

  // Carries out call_state's actions, then the supervisor's, which may give call_state more to do
  // (configure_upstream, pause_relay), until neither has any left. call_state's actions may point
  // into its buffers, so it is stepped again only once they are done.
  void execute() {
    do {
      for (auto& a : actions_) std::visit([this](auto& act) { perform(act); }, a);
      actions_.clear();
      for (auto& a : supervisor_actions_) std::visit([this](auto& act) { perform_supervised(act); }, a);
      supervisor_actions_.clear();
    } while (!actions_.empty());
    if (timer_target() != armed_at_) timer_.cancel();
    count_progress();
  }

  // `since`: when the relayed audio reached us, for the relay latency histogram; {} for other messages.
  // Once the call is ending nothing more is sent: the closes are queued behind what was.
  template <class Fill>
  void to_twilio(Fill&& fill, steady::time_point since = {}) {
    if (supervisor_.ending()) return;
    if (!twilio_out_.emplace_timed(since, std::forward<Fill>(fill)))
      end(end_reason::slow_peer, "Twilio is not reading fast enough (writer queue full)");
  }
  template <class Fill>
  void to_upstream(Fill&& fill, steady::time_point since = {}) {
    // Between a loss and pause_relay, call_state may still send a frame: it is dropped.
    if (!upstream_out_ || !supervisor_.upstream_open()) return;
    if (!upstream_out_->emplace_timed(since, std::forward<Fill>(fill)))
      end(end_reason::slow_peer, "the upstream is not reading fast enough (writer queue full)");
  }

  void perform(const call::send_twilio_media& a) {
    to_twilio([&](std::string& s) { protocol::build_twilio_media(s, stream_sid(), a.payload_b64); }, step_at_);
  }
  void perform(const call::send_twilio_mark& a) {
    to_twilio([&](std::string& s) { protocol::build_twilio_mark(s, stream_sid(), a.name); });
  }
  void perform(const call::send_twilio_clear&) {
    to_twilio([&](std::string& s) { protocol::build_twilio_clear(s, stream_sid()); });
  }
  void perform(const call::send_upstream_audio& a) {
    to_upstream([&](std::string& s) { state_.upstream().append_caller_audio(s, a.payload_b64); }, step_at_);
  }
  void perform(const call::send_upstream_event& a) {
    to_upstream([&](std::string& s) { s.assign(a.json); });
  }
  void perform(const call::open_upstream&) { supervisor_.on_stream_started(step_at_, supervisor_actions_); }
  void perform(const call::publish& a) {
    if (ctx_.events) ctx_.events->publish(identity_, a.event);
  }
  // What call_state logs is about the peers' messages: the peer budget applies.
  void perform(const call::log_line& a) { log_peer_line(log_lines_, to_spdlog(a.level), "call {}: {}", label_, a.text); }
  void perform(const call::end_call& a) { end(a.reason, a.detail); }
  void perform(const call::restart_upstream& a) {
    supervisor_.on_restart_requested(a.reason, step_at_, supervisor_actions_);
  }

  // The supervisor's actions. Its log lines are the bridge's own decisions (a loss, a reconnect, a
  // rollover), a few per upstream session whatever the peers send: no peer budget silences them.
  template <class Action>
  void perform_supervised(const Action& a) {
    if constexpr (std::is_same_v<Action, call::log_line>)
      spdlog::log(to_spdlog(a.level), "call {}: {}", label_, a.text);
    else
      perform(a);
  }
  void perform(const call::connect_upstream&) {
    connect_wanted_ = true;
    upstream_wake_.cancel();
  }
  void perform(const call::configure_upstream&) { state_.on_upstream_connected(actions_); }
  void perform(const call::close_upstream& a) {
    if (!upstream_out_) return;
    if (a.mode == call::close_mode::graceful)
      upstream_out_->close({1000, "session rollover"});
    else
      upstream_out_->abort_now();
  }
  void perform(const call::pause_relay&) { state_.on_upstream_lost(ms_of(step_at_), actions_); }
  void perform(const call::arm_timer& a) { supervisor_wakeup_ = a.at; }  // execute() re-arms the timer
  void perform(const call::close_call& a) {
    // The start deadline ran out before admission: not a call that timed out, a refused stream.
    if (!admitted_ && !refused_ && a.reason == end_reason::timeout)
      count_refusal(metrics::stream_refusal::no_start, a.detail);
    reason_ = a.reason;
    detail_ = a.detail;
    if (a.reason == end_reason::slow_peer) m_.errors(metrics::error_kind::slow_peer).inc();
    twilio_out_.close({a.twilio_close_code, call::to_string(a.reason)});  // a refusal's close came first
    if (upstream_out_) close_upstream_for_end();
    upstream_wake_.cancel();  // gives up a connect in progress
  }
  // A provider that acknowledges a close request is asked first and answers before the socket closes
  // (docs/protocols.md D7), within the closing grace; otherwise the socket closes at once.
  void close_upstream_for_end() {
    if (state_.upstream().caps().acknowledges_close && state_.upstream_ready()) {
      close_messages_.clear();
      state_.close_upstream_session(close_messages_);
      for (auto& a : close_messages_)
        if (auto* e = std::get_if<call::send_upstream_event>(&a))
          upstream_out_->emplace_timed({}, [&](std::string& s) { s.assign(e->json); });
      awaiting_session_close_ = true;
      return;
    }
    upstream_out_->close({1000, "call ended"});
  }

  void perform(const call::abort_sockets&) {
    twilio_out_.abort_now();
    if (upstream_out_) upstream_out_->abort_now();
    sockets_aborted_ = true;
  }

  // --- metrics: plain counter adds, no locks ---------------------------------------------------

  // Adds what call_state counted since the last step (frames, bytes, barge-ins, truncates).
  void count_progress() {
    using metrics::direction;
    const auto& st = state_.stats();
    if (st.caller_frames != counted_.caller_frames) {
      m_.frames(direction::caller_to_upstream).inc(st.caller_frames - counted_.caller_frames);
      m_.audio_bytes(direction::caller_to_upstream).inc(st.caller_bytes - counted_.caller_bytes);
    }
    if (st.assistant_chunks != counted_.assistant_chunks) {
      m_.frames(direction::upstream_to_caller).inc(st.assistant_chunks - counted_.assistant_chunks);
      m_.audio_bytes(direction::upstream_to_caller).inc(st.assistant_bytes - counted_.assistant_bytes);
    }
    if (st.barge_ins != counted_.barge_ins) m_.barge_ins.inc(st.barge_ins - counted_.barge_ins);
    if (st.truncates_sent != counted_.truncates_sent) m_.truncates_sent.inc(st.truncates_sent - counted_.truncates_sent);
    if (st.late_deltas_dropped != counted_.late_deltas_dropped)
      m_.late_deltas_dropped.inc(st.late_deltas_dropped - counted_.late_deltas_dropped);
    if (st.dtmf_dropped != counted_.dtmf_dropped) m_.dtmf_dropped.inc(st.dtmf_dropped - counted_.dtmf_dropped);
    counted_ = st;
  }

  // Truncate outcomes, upstream errors and the turn latency (speech_stopped → first delta; the mark
  // echo that completes the turn is seen in twilio_reader).
  void observe_upstream_event(const upstream::event& ev, bool delta_dropped) {
    using kind = upstream::event_kind;
    switch (ev.kind) {
      case kind::error:
        if (ev.error.scope == upstream::error_scope::heard_report)
          m_.truncates_rejected.inc();
        else
          m_.errors(metrics::error_kind::upstream_error_event).inc();
        return;
      case kind::heard_report_accepted: m_.truncates_accepted.inc(); return;
      case kind::caller_speech_started: turn_ = turn_phase::idle; return;
      case kind::caller_speech_stopped:
        turn_ = turn_phase::awaiting_delta;
        turn_stopped_at_ = step_at_;
        return;
      case kind::assistant_audio:
        if (turn_ != turn_phase::awaiting_delta || delta_dropped) return;
        m_.turn_first_delta.observe(step_at_ - turn_stopped_at_);
        turn_ = turn_phase::awaiting_echo;
        return;
      default: return;
    }
  }

  // --- lifecycle --------------------------------------------------------------------------------

  // Before the stream is admitted, only Twilio's connected and start may come.
  void before_admission(bool binary) {
    using metrics::stream_refusal;
    if (binary) return refuse(stream_refusal::bad_message, "a binary frame before start");
    if (auto err = twilio_parser_.parse(twilio_buf_, twilio_buf_.capacity(), twilio_msg_))
      return refuse(stream_refusal::bad_message, "an unreadable message before start: " + err->what);
    switch (twilio_msg_.event) {
      case protocol::twilio_event::connected: return;
      case protocol::twilio_event::start: return admit(*twilio_msg_.start);
      default:
        return refuse(stream_refusal::bad_message, std::string("'") + event_name(twilio_msg_.event) + "' before start");
    }
  }

  // Authorises the stream (its token, by ctx_.authorize_start) and then admits it (one live stream per
  // CallSid, within MAX_CONCURRENT_CALLS). Only an admitted stream becomes a call: counted, registered,
  // and published by call_state, whose open_upstream starts the call in the supervisor's terms (its
  // start deadline, disarmed, and its media deadline, armed).
  void admit(const protocol::twilio_start& start) {
    using metrics::stream_refusal;
    if (!protocol::is_safe_sid(start.call_sid) || !protocol::is_safe_sid(start.stream_sid))
      return refuse(stream_refusal::bad_message, "start carries a malformed callSid or streamSid");
    start_call_sid_ = start.call_sid;
    if (ctx_.authorize_start)
      if (auto refusal = ctx_.authorize_start(start); !refusal.empty())
        return refuse(stream_refusal::unauthorized, std::move(refusal));
    std::weak_ptr<call_session> weak = weak_from_this();
    const auto outcome = ctx_.registry->admit(start.call_sid, twilio_->get_executor(), [weak] {
      if (auto self = weak.lock()) self->end_now(end_reason::shutdown, "server is shutting down");
    });
    switch (outcome.result) {
      case admission::admit_result::already_live:
        return refuse(stream_refusal::already_live, "a stream for this call is already running");
      case admission::admit_result::full:
        return refuse(stream_refusal::full, "no free call slot (MAX_CONCURRENT_CALLS) and none reserved");
      case admission::admit_result::admitted: break;
    }
    admitted_ = true;
    registry_id_ = outcome.id;
    pending_.release();
    m_.calls_started.inc();
    identify(start);
    set_up(start);
    state_.on_twilio(twilio_msg_, ms_of(step_at_), actions_);
  }

  // Closes Twilio with the refusal's own code (1013 when full, else 1008), then lets the supervisor end
  // the stream (the closing grace); the writer keeps the first close. A refused stream reads on only
  // to finish the close handshake.
  void refuse(metrics::stream_refusal why, std::string detail) {
    if (supervisor_.ending()) return;
    count_refusal(why, detail);
    end(end_reason::bad_input, std::move(detail));
  }

  // One metric and one line per refused stream.
  void count_refusal(metrics::stream_refusal why, const std::string& detail) {
    m_.streams_refused(why).inc();
    // One line per connection, but connections are many: the process-wide budget decides.
    if (const auto admitted = log_lines_.admit_closing(log_clock_ms())) {
      const auto note = log::suppression_note(*admitted);
      const auto text = log::escape_for_log(detail, log::reason_bytes);
      if (start_call_sid_.empty())
        spdlog::warn("call {}: stream refused ({}): {}{}", label_, metrics::to_string(why), text, note);
      else
        spdlog::warn("call {}: stream from {} refused ({}): {}{}", start_call_sid_, remote_, metrics::to_string(why),
                     text, note);
    }
    refused_ = true;
    twilio_out_.close({close_code_for(why), std::string("stream refused: ") + metrics::to_string(why)});
  }

  // Before call_state sees start, so that call.started names the agent and the upstream gets its session.
  void set_up(const protocol::twilio_start& start) {
    // Ending: a start the peer repeats while its refusal is under way gets no more work or log lines.
    if (!ctx_.resolve || supervisor_.ending()) return;
    auto setup = ctx_.resolve(start);
    if (!setup) {
      end(end_reason::bad_input, "no agent profile for this stream");
      return;
    }
    upstream_url_ = std::move(setup->upstream_url);
    state_.configure(std::move(setup->session), std::move(setup->greeting), std::move(setup->agent),
                     setup->provider == ctx_.provider ? nullptr : upstream::make_adapter(setup->provider));
    supervisor_.set_provider_lifecycle(state_.upstream().caps().lifecycle);
  }

  void identify(const protocol::twilio_start& start) {
    identity_.call_sid = start.call_sid;
    identity_.stream_sid = start.stream_sid;
    for (const auto& [k, v] : start.custom_parameters) {
      if (k == "From") identity_.from = v;
      if (k == "To") identity_.to = v;
    }
    label_ = start.call_sid;
    spdlog::info("call {}: stream {} started", label_, start.stream_sid);
  }

  [[nodiscard]] std::string_view stream_sid() const { return identity_.stream_sid; }

  void bad_input(const char* side, const std::string& what) {
    m_.errors(std::string_view(side) == "Twilio" ? metrics::error_kind::twilio_bad_message
                                                 : metrics::error_kind::upstream_bad_message)
        .inc();
    log_peer_line(log_lines_, spdlog::level::warn, "call {}: ignoring bad message from {}: {}", label_, side, what);
  }

  static std::string describe_read_end(const char* side, const net::read_result& r, net::message_socket& socket) {
    switch (r.status) {
      case net::read_status::closed: {
        const auto peer = socket.peer_close_reason();
        return std::string(side) + " closed the socket (code " + std::to_string(peer.code) +
               (peer.reason.empty() ? "" : ", reason '" + log::escape_for_log(peer.reason, log::name_bytes) + "'") +
               ")";
      }
      case net::read_status::too_big: return std::string(side) + " sent a message larger than the limit";
      case net::read_status::timeout: return std::string(side) + " went silent (idle timeout)";
      default: return std::string(side) + " connection failed: " + r.ec.message();
    }
  }

  void on_read_end(const char* side, const net::read_result& r, net::message_socket& socket, end_reason closed_reason) {
    if (supervisor_.ending()) return;
    step_at_ = steady::now();
    if (!admitted_ && r.status == net::read_status::too_big) {
      refuse(metrics::stream_refusal::bad_message, describe_read_end(side, r, socket) + " before start");
      execute();
      return;
    }
    const auto reason = r.status == net::read_status::too_big   ? end_reason::bad_input
                        : r.status == net::read_status::timeout ? end_reason::timeout
                                                                : closed_reason;
    end_now(reason, describe_read_end(side, r, socket));
  }

  // Asks the supervisor to end the call; the next execute() carries out its close_call.
  void end(end_reason reason, std::string detail) {
    supervisor_.on_end_requested(reason, std::move(detail), step_at_, supervisor_actions_);
  }
  // The same, outside any step.
  void end_now(end_reason reason, std::string detail) {
    step_at_ = steady::now();
    end(reason, std::move(detail));
    execute();
  }

  void finish() {
    pending_.release();
    if (!admitted_) {
      // Never a call: no summary, no event, no metric but the refusal's (already counted and logged).
      if (!refused_) spdlog::debug("call {}: stream ended before its start: {}", label_, detail_);
      return;
    }
    state_.finish(actions_);
    for (auto& a : actions_)
      if (auto* p = std::get_if<call::publish>(&a); p && ctx_.events) ctx_.events->publish(identity_, p->event);
    actions_.clear();
    const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started_at_);
    const auto& st = state_.stats();
    const auto level = (reason_ == end_reason::caller_hung_up || reason_ == end_reason::shutdown) ? spdlog::level::info
                                                                                                   : spdlog::level::warn;
    // An admitted call's summary is always written: its peer passed authorisation.
    spdlog::log(level,
                "call {}: ended reason={} duration_ms={} caller_frames={} assistant_chunks={} barge_ins={} "
                "truncates={} late_deltas_dropped={} invalid_frames={} dtmf_dropped={} log_lines_suppressed={} "
                "detail=\"{}\"",
                label_, call::to_string(reason_), duration.count(), st.caller_frames, st.assistant_chunks,
                st.barge_ins, st.truncates_sent, st.late_deltas_dropped, st.invalid_frames, st.dtmf_dropped,
                log_lines_.suppressed(), log::escape_for_log(detail_, log::reason_bytes));
    if (ctx_.events)
      ctx_.events->call_ended(identity_, call_summary{reason_, detail_, duration, st.usage});
    m_.calls_ended(call::to_string(reason_)).inc();
    ctx_.registry->remove(registry_id_);
  }

  const bridge_context& ctx_;
  metrics::bridge_metrics& m_;
  std::unique_ptr<net::message_socket> twilio_;
  net::ws_writer twilio_out_;
  std::unique_ptr<net::message_socket> upstream_;
  std::optional<net::ws_writer> upstream_out_;
  call::call_state state_;
  protocol::twilio_parser twilio_parser_;
  protocol::twilio_message twilio_msg_;
  std::vector<upstream::event> upstream_events_;  // one provider message, translated
  std::vector<call::action> close_messages_;
  bool awaiting_session_close_ = false;  // asked the provider to close; its answer closes the socket
  std::string twilio_buf_;
  std::string upstream_buf_;
  std::vector<call::action> actions_;
  call::call_supervisor supervisor_;
  std::vector<call::supervisor_action> supervisor_actions_;

  asio::steady_timer timer_;  // timers(): the supervisor's deadlines and pacing
  steady::time_point armed_at_;
  steady::time_point supervisor_wakeup_ = steady::time_point::max();  // its last arm_timer
  asio::steady_timer upstream_wake_;  // cancelled when a connect is wanted or the call ends
  bool connect_wanted_ = false;
  bool sockets_aborted_ = false;

  call_identity identity_;
  std::string label_;
  std::string remote_;
  call_registry::pending_slot pending_;  // released once admitted
  bool admitted_ = false;                // an authorised start took a call slot: this stream is a call
  bool refused_ = false;
  std::string start_call_sid_;  // the callSid of the start being admitted, once checked well-formed
  std::uint64_t registry_id_ = 0;
  end_reason reason_ = end_reason::twilio_closed;  // from close_call
  std::string detail_;
  log::connection_lines log_lines_;  // the budget for lines this call's peers cause
  steady::time_point started_at_;
  // Metrics.
  steady::time_point step_at_;       // when the message being handled was read (or the pacer woke)
  steady::time_point connected_at_;  // the upstream socket opened; session.update goes out at once
  call::call_stats counted_;         // what count_progress() has added so far
  enum class turn_phase { idle, awaiting_delta, awaiting_echo };
  turn_phase turn_ = turn_phase::idle;
  steady::time_point turn_stopped_at_;
  std::string upstream_url_;  // from the agent profile; empty: ctx_.upstream_url
};

}  // namespace

net::awaitable<void> run_call(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx,
                              std::string remote_address, call_registry::pending_slot pending) {
  auto session = std::make_shared<call_session>(std::move(twilio), ctx, std::move(remote_address), std::move(pending));
  co_await session->run();
}

}  // namespace mb::bridge
