#include "bridge/call_session.hpp"

#include <chrono>
#include <optional>
#include <variant>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "call/call_supervisor.hpp"

namespace mb::bridge {
namespace {

using namespace asio::experimental::awaitable_operators;
using call::end_reason;
using steady = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now().time_since_epoch()).count();
}
steady::time_point to_time_point(std::int64_t ms) { return steady::time_point(std::chrono::milliseconds(ms)); }

// Bad input is logged, but a peer that floods us with it must not flood the log.
constexpr int max_bad_input_lines = 5;

class call_session : public std::enable_shared_from_this<call_session> {
 public:
  call_session(std::unique_ptr<net::message_socket> twilio, const bridge_context& ctx, std::string remote)
      : ctx_(ctx),
        m_(ctx.metrics ? *ctx.metrics : metrics::bridge_metrics::discard()),
        twilio_(std::move(twilio)),
        twilio_out_(*twilio_, ctx.writer_queue_messages),
        state_(ctx.session, ctx.call),
        timer_(twilio_->get_executor()),
        open_signal_(twilio_->get_executor()),
        end_signal_(twilio_->get_executor()),
        watchdog_(twilio_->get_executor()),
        backoff_(twilio_->get_executor()),
        label_("[" + remote + "]") {
    for (auto* t : {&open_signal_, &end_signal_}) t->expires_at(steady::time_point::max());
    actions_.reserve(64);
    twilio_out_.observe_writes(
        [h = &m_.relay(metrics::direction::upstream_to_caller)](steady::duration d) { h->observe(d); });
  }

  net::awaitable<void> run() {
    started_ms_ = now_ms();
    start_deadline_ms_ = started_ms_ + ctx_.start_timeout_ms;
    m_.calls_started.inc();
    if (ctx_.registry) {
      std::weak_ptr<call_session> weak = weak_from_this();
      registry_id_ = ctx_.registry->add(twilio_->get_executor(), [weak] {
        if (auto self = weak.lock()) self->end(end_reason::shutdown, "server is shutting down");
      });
    }
    try {
      co_await ((twilio_reader() && twilio_out_.run() && upstream_task() && timers()) || watchdog());
    } catch (const std::exception& e) {
      spdlog::error("call {}: unexpected failure: {}", label_, e.what());
      m_.errors(metrics::error_kind::unexpected_exception).inc();
      if (!ending_) reason_ = end_reason::upstream_error, detail_ = e.what();
    }
    finish();
  }

 private:
  // --- the four branches -------------------------------------------------------------------

  net::awaitable<void> twilio_reader() {
    for (;;) {
      const auto r = co_await twilio_->read(twilio_buf_, simdjson::SIMDJSON_PADDING);
      if (r.status == net::read_status::message) {
        step_at_ = steady::now();
        if (auto err = twilio_parser_.parse(twilio_buf_, twilio_buf_.capacity(), twilio_msg_)) {
          bad_input("Twilio", err->what);
          continue;
        }
        const auto now = now_ms();
        if (twilio_msg_.event == protocol::twilio_event::media) last_media_ms_ = now;
        const bool was_started = state_.started();
        if (!was_started && twilio_msg_.event == protocol::twilio_event::start) set_up(*twilio_msg_.start);
        state_.on_twilio(twilio_msg_, now, actions_);
        if (!was_started && state_.started()) on_started(*state_.start_info());
        execute();
        if (twilio_msg_.event == protocol::twilio_event::mark && turn_ == turn_phase::awaiting_echo) {
          m_.turn_first_audio.observe(step_at_ - turn_stopped_at_);
          turn_ = turn_phase::idle;
        }
        continue;
      }
      if (r.status == net::read_status::binary_message) {
        bad_input("Twilio", "binary frame (Media Streams sends text frames only)");
        continue;
      }
      on_read_end("Twilio", r, *twilio_, end_reason::twilio_closed);
      co_return;
    }
  }

  // Connects, configures and runs the upstream; after a loss, reconnects with backoff and replays
  // the conversation, while the phone leg stays up.
  net::awaitable<void> upstream_task() {
    if (!open_requested_ && !ending_) co_await open_signal_.async_wait(net::as_tuple_awaitable);
    int failures = 0;
    bool ever_ready = false;
    while (!ending_) {
      if (failures > 0) {
        if (failures > ctx_.upstream_reconnect_attempts) {
          end(ever_ready ? end_reason::upstream_error : end_reason::upstream_connect_failed,
              "upstream lost and " + std::to_string(ctx_.upstream_reconnect_attempts) +
                  " reconnect attempt(s) failed; last: " + last_upstream_failure_);
          co_return;
        }
        const auto backoff = std::min(5000, ctx_.upstream_reconnect_backoff_ms << std::min(failures - 1, 5));
        backoff_.expires_after(std::chrono::milliseconds(backoff));
        co_await (backoff_.async_wait(net::as_tuple_awaitable) || wait_for_end());
        if (ending_) co_return;
        spdlog::info("call {}: reconnecting to the upstream (attempt {} of {})", label_, failures,
                     ctx_.upstream_reconnect_attempts);
      }
      connect_started_ms_ = now_ms();
      const auto connect_started_at = steady::now();
      net::connect_request request{upstream_url_.empty() ? ctx_.upstream_url : upstream_url_, ctx_.upstream_headers,
                                   ctx_.upstream_limits, ctx_.upstream_connect_timeout_ms};
      auto outcome = co_await (net::connect_websocket(request, ctx_.tls) || wait_for_end());
      if (ending_ || outcome.index() != 0) co_return;
      auto& result = std::get<0>(outcome);
      if (!result.socket) {
        last_upstream_failure_ = result.failure;
        spdlog::warn("call {}: upstream connect failed: {}", label_, result.failure);
        m_.errors(metrics::error_kind::upstream_connect_failed).inc();
        ++failures;
        continue;
      }
      upstream_ = std::move(result.socket);
      upstream_out_.emplace(*upstream_, ctx_.writer_queue_messages);
      upstream_out_->observe_writes(
          [h = &m_.relay(metrics::direction::caller_to_upstream)](steady::duration d) { h->observe(d); });
      connected_at_ = steady::now();
      m_.upstream_connect.observe(connected_at_ - connect_started_at);
      connected_ms_ = now_ms();
      session_deadline_ms_ = connected_ms_ + ctx_.session_update_timeout_ms;
      rollover_at_ms_ = connected_ms_ + std::int64_t{ctx_.upstream_rollover_s} * 1000;
      spdlog::debug("call {}: upstream connected in {} ms", label_, connected_ms_ - connect_started_ms_);
      state_.on_upstream_connected(actions_);
      execute();
      timer_.cancel();  // new deadlines: session.updated, rollover
      session_ready_ = false;
      co_await (upstream_reader() && upstream_out_->run());
      const bool was_ready = session_ready_;
      ever_ready = ever_ready || was_ready;
      if (ending_) co_return;
      upstream_down();
      upstream_out_.reset();
      upstream_.reset();
      restarting_ = false;
      upstream_down_ = false;
      // A session that worked resets the count: each loss gets the full number of attempts.
      failures = was_ready ? 1 : failures + 1;
    }
  }

  // Ends the current upstream session so that upstream_task opens a new one.
  void restart_upstream(std::string reason, bool graceful) {
    if (ending_ || !upstream_out_ || restarting_) return;
    restarting_ = true;
    last_upstream_failure_ = reason;
    spdlog::warn("call {}: restarting the upstream session: {}", label_, reason);
    if (graceful)
      upstream_out_->close({1000, "session rollover"});
    else
      upstream_out_->abort_now();
    // Possibly called from inside execute(): tell call_state once the current step is done.
    asio::post(twilio_->get_executor(), [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->upstream_down();
    });
  }

  // The upstream session is gone or going: caller audio must be buffered from now on, not written.
  void upstream_down() {
    if (upstream_down_ || ending_) return;
    upstream_down_ = true;
    state_.on_upstream_lost(now_ms(), actions_);
    execute();
  }

  net::awaitable<void> upstream_reader() {
    for (;;) {
      const auto r = co_await upstream_->read(upstream_buf_, simdjson::SIMDJSON_PADDING);
      if (r.status == net::read_status::message) {
        step_at_ = steady::now();
        if (auto err = realtime_parser_.parse(upstream_buf_, upstream_buf_.capacity(), realtime_ev_)) {
          bad_input("upstream", err->what);
          continue;
        }
        const bool was_ready = state_.upstream_ready();
        const auto dropped_before = state_.stats().late_deltas_dropped;
        state_.on_realtime(realtime_ev_, now_ms(), actions_);
        session_ready_ = session_ready_ || state_.upstream_ready();
        if (!was_ready && state_.upstream_ready()) {
          spdlog::debug("call {}: session ready {} ms after connect", label_, now_ms() - connected_ms_);
          m_.session_update.observe(step_at_ - connected_at_);
        }
        execute();
        observe_upstream_event(state_.stats().late_deltas_dropped != dropped_before);
        continue;
      }
      if (r.status == net::read_status::binary_message) {
        bad_input("upstream", "binary frame");
        continue;
      }
      if (ending_ || restarting_) co_return;
      // Not the end of the call: upstream_task reconnects (or gives up and ends the call).
      last_upstream_failure_ = describe_read_end("upstream", r, *upstream_);
      spdlog::warn("call {}: upstream lost: {}", label_, last_upstream_failure_);
      m_.errors(metrics::error_kind::upstream_lost).inc();
      upstream_out_->abort_now();
      upstream_down();
      co_return;
    }
  }

  // Pacing wake-ups and the start / session.updated deadlines.
  net::awaitable<void> timers() {
    for (;;) {
      if (ending_) co_return;
      armed_wakeup_ = state_.next_wakeup();
      std::int64_t deadline = armed_wakeup_.value_or(std::numeric_limits<std::int64_t>::max());
      if (!state_.started()) deadline = std::min(deadline, start_deadline_ms_);
      else deadline = std::min(deadline, last_media_ms_ + ctx_.twilio_media_timeout_ms);
      if (upstream_ && !restarting_) {
        if (!state_.upstream_ready()) deadline = std::min(deadline, session_deadline_ms_);
        else deadline = std::min(deadline, rollover_at_ms_);
      }
      timer_.expires_at(deadline == std::numeric_limits<std::int64_t>::max() ? steady::time_point::max()
                                                                               : to_time_point(deadline));
      auto [ec] = co_await timer_.async_wait(net::as_tuple_awaitable);
      if (ending_) co_return;
      if (ec) continue;  // re-armed
      const auto t = now_ms();
      if (!state_.started() && t >= start_deadline_ms_) {
        end(end_reason::timeout, "Twilio sent no start within " + std::to_string(ctx_.start_timeout_ms) + " ms");
        co_return;
      }
      if (state_.started() && t >= last_media_ms_ + ctx_.twilio_media_timeout_ms) {
        end(end_reason::timeout, "Twilio sent no media for " + std::to_string(ctx_.twilio_media_timeout_ms) + " ms");
        co_return;
      }
      if (upstream_ && !restarting_ && !state_.upstream_ready() && t >= session_deadline_ms_)
        restart_upstream("no session.updated within " + std::to_string(ctx_.session_update_timeout_ms) + " ms", false);
      if (upstream_ && !restarting_ && state_.upstream_ready() && t >= rollover_at_ms_) {
        if (state_.quiet())
          restart_upstream("rolling over before the upstream session cap", true);
        else
          rollover_at_ms_ = t + 250;  // wait for a pause in the assistant's speech
      }
      step_at_ = steady::now();
      state_.on_tick(t, actions_);
      execute();
    }
  }

  // The hard limits: the maximum call length, and a grace period for closing handshakes.
  net::awaitable<void> watchdog() {
    watchdog_.expires_after(std::chrono::seconds(ctx_.max_call_duration_s));
    for (;;) {
      auto [ec] = co_await watchdog_.async_wait(net::as_tuple_awaitable);
      const auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) co_return;  // the call finished
      if (ec) continue;  // end() re-armed us with the grace period
      if (!ending_) {
        end(end_reason::timeout, "maximum call duration of " + std::to_string(ctx_.max_call_duration_s) + " s");
        continue;
      }
      spdlog::warn("call {}: peers did not finish closing within {} ms; aborting", label_, ctx_.close_grace_ms);
      twilio_out_.abort_now();
      if (upstream_out_) upstream_out_->abort_now();
      co_return;
    }
  }

  net::awaitable<void> wait_for_end() {
    if (!ending_) co_await end_signal_.async_wait(net::as_tuple_awaitable);
  }

  // --- actions --------------------------------------------------------------------------------

  void execute() {
    // end() may run in the middle; the remaining actions then meet closed writers, which is fine.
    for (auto& a : actions_) std::visit([this](auto& act) { perform(act); }, a);
    actions_.clear();
    if (!ending_ && state_.next_wakeup() != armed_wakeup_) timer_.cancel();
    count_progress();
  }

  // `since`: when the relayed audio reached us, for the relay latency histogram; {} for other messages.
  template <class Fill>
  void to_twilio(Fill&& fill, steady::time_point since = {}) {
    if (!twilio_out_.emplace_timed(since, std::forward<Fill>(fill)) && !ending_)
      end(end_reason::slow_peer, "Twilio is not reading fast enough (writer queue full)");
  }
  template <class Fill>
  void to_upstream(Fill&& fill, steady::time_point since = {}) {
    // call_state only sends once connected; between a loss and on_upstream_lost a frame may still come.
    if (!upstream_out_ || upstream_down_ || restarting_) return;
    if (!upstream_out_->emplace_timed(since, std::forward<Fill>(fill)) && !ending_)
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
    to_upstream([&](std::string& s) { protocol::build_input_audio_append(s, a.payload_b64); }, step_at_);
  }
  void perform(const call::send_upstream_event& a) {
    to_upstream([&](std::string& s) { s.assign(a.json); });
  }
  void perform(const call::open_upstream&) {
    open_requested_ = true;
    open_signal_.cancel();
  }
  void perform(const call::publish& a) {
    if (ctx_.events) ctx_.events->publish(identity_, a.event);
  }
  void perform(const call::log_line& a) {
    switch (a.level) {
      case call::log_level::debug: spdlog::debug("call {}: {}", label_, a.text); break;
      case call::log_level::info: spdlog::info("call {}: {}", label_, a.text); break;
      case call::log_level::warn: spdlog::warn("call {}: {}", label_, a.text); break;
      case call::log_level::error: spdlog::error("call {}: {}", label_, a.text); break;
    }
  }
  void perform(const call::end_call& a) { end(a.reason, a.detail); }
  void perform(const call::restart_upstream& a) { restart_upstream(a.reason, true); }

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
    counted_ = st;
  }

  // Truncate outcomes, upstream errors and the turn latency (speech_stopped → first delta; the mark
  // echo that completes the turn is seen in twilio_reader).
  void observe_upstream_event(bool delta_dropped) {
    using type = protocol::realtime_event_type;
    switch (realtime_ev_.type) {
      case type::error:
        if (realtime_ev_.error.event_id == protocol::truncate_event_id)
          m_.truncates_rejected.inc();
        else
          m_.errors(metrics::error_kind::upstream_error_event).inc();
        return;
      case type::item_truncated: m_.truncates_accepted.inc(); return;
      case type::speech_started: turn_ = turn_phase::idle; return;
      case type::speech_stopped:
        turn_ = turn_phase::awaiting_delta;
        turn_stopped_at_ = step_at_;
        return;
      case type::output_audio_delta:
        if (turn_ != turn_phase::awaiting_delta || delta_dropped) return;
        m_.turn_first_delta.observe(step_at_ - turn_stopped_at_);
        turn_ = turn_phase::awaiting_echo;
        return;
      default: return;
    }
  }

  // --- lifecycle --------------------------------------------------------------------------------

  void on_started(const protocol::twilio_start& start) {
    identify(start);
    last_media_ms_ = now_ms();
    if (!ctx_.authorize_start) return;
    if (auto refusal = ctx_.authorize_start(start); !refusal.empty()) end(end_reason::bad_input, "stream refused: " + refusal);
  }

  // Before call_state sees start, so that call.started names the agent and the upstream gets its session.
  void set_up(const protocol::twilio_start& start) {
    if (!ctx_.resolve) return;
    auto setup = ctx_.resolve(start);
    if (!setup) {
      end(end_reason::bad_input, "no agent profile for this stream");
      return;
    }
    upstream_url_ = std::move(setup->upstream_url);
    state_.configure(std::move(setup->session), std::move(setup->greeting), std::move(setup->agent));
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
    if (++bad_input_lines_ <= max_bad_input_lines)
      spdlog::warn("call {}: ignoring bad message from {}: {}", label_, side, what);
    else if (bad_input_lines_ == max_bad_input_lines + 1)
      spdlog::warn("call {}: more bad messages; no longer logging them", label_);
  }

  static std::string describe_read_end(const char* side, const net::read_result& r, net::message_socket& socket) {
    switch (r.status) {
      case net::read_status::closed: {
        const auto peer = socket.peer_close_reason();
        return std::string(side) + " closed the socket (code " + std::to_string(peer.code) +
               (peer.reason.empty() ? "" : ", reason '" + peer.reason + "'") + ")";
      }
      case net::read_status::too_big: return std::string(side) + " sent a message larger than the limit";
      case net::read_status::timeout: return std::string(side) + " went silent (idle timeout)";
      default: return std::string(side) + " connection failed: " + r.ec.message();
    }
  }

  void on_read_end(const char* side, const net::read_result& r, net::message_socket& socket, end_reason closed_reason) {
    if (ending_) return;
    auto detail = describe_read_end(side, r, socket);
    switch (r.status) {
      case net::read_status::closed: end(closed_reason, std::move(detail)); return;
      case net::read_status::too_big: end(end_reason::bad_input, std::move(detail)); return;
      case net::read_status::timeout: end(end_reason::timeout, std::move(detail)); return;
      default: end(closed_reason, std::move(detail)); return;
    }
  }

  void end(end_reason reason, std::string detail) {
    if (ending_) return;
    ending_ = true;
    reason_ = reason;
    detail_ = std::move(detail);
    if (reason == end_reason::slow_peer) m_.errors(metrics::error_kind::slow_peer).inc();
    twilio_out_.close({call::close_code_for(reason), call::to_string(reason)});
    if (upstream_out_) upstream_out_->close({1000, "call ended"});
    open_signal_.cancel();
    end_signal_.cancel();
    timer_.cancel();
    watchdog_.expires_after(std::chrono::milliseconds(ctx_.close_grace_ms));
  }

  void finish() {
    state_.finish(actions_);
    for (auto& a : actions_)
      if (auto* p = std::get_if<call::publish>(&a); p && ctx_.events) ctx_.events->publish(identity_, p->event);
    actions_.clear();
    const auto duration = std::chrono::milliseconds(now_ms() - started_ms_);
    const auto& st = state_.stats();
    const auto level = (reason_ == end_reason::caller_hung_up || reason_ == end_reason::shutdown) ? spdlog::level::info
                                                                                                   : spdlog::level::warn;
    spdlog::log(level,
                "call {}: ended reason={} duration_ms={} caller_frames={} assistant_chunks={} barge_ins={} "
                "truncates={} late_deltas_dropped={} invalid_frames={} detail=\"{}\"",
                label_, call::to_string(reason_), duration.count(), st.caller_frames, st.assistant_chunks,
                st.barge_ins, st.truncates_sent, st.late_deltas_dropped, st.invalid_frames, detail_);
    if (ctx_.events && state_.started())
      ctx_.events->call_ended(identity_, call_summary{reason_, detail_, duration, st.usage});
    m_.calls_ended(reason_).inc();
    if (ctx_.registry) ctx_.registry->remove(registry_id_);
  }

  const bridge_context& ctx_;
  metrics::bridge_metrics& m_;
  std::unique_ptr<net::message_socket> twilio_;
  net::ws_writer twilio_out_;
  std::unique_ptr<net::message_socket> upstream_;
  std::optional<net::ws_writer> upstream_out_;
  call::call_state state_;
  protocol::twilio_parser twilio_parser_;
  protocol::realtime_parser realtime_parser_;
  protocol::twilio_message twilio_msg_;
  protocol::realtime_event realtime_ev_;
  std::string twilio_buf_;
  std::string upstream_buf_;
  std::vector<call::action> actions_;

  asio::steady_timer timer_;        // pacing and protocol deadlines
  asio::steady_timer open_signal_;  // cancelled when the upstream should be opened (or the call ends)
  asio::steady_timer end_signal_;   // cancelled when the call ends
  asio::steady_timer watchdog_;
  asio::steady_timer backoff_;
  std::optional<std::int64_t> armed_wakeup_;

  call_identity identity_;
  std::string label_;
  std::uint64_t registry_id_ = 0;
  bool open_requested_ = false;
  bool ending_ = false;
  end_reason reason_ = end_reason::twilio_closed;
  std::string detail_;
  int bad_input_lines_ = 0;
  std::int64_t started_ms_ = 0;
  std::int64_t start_deadline_ms_ = 0;
  std::int64_t connect_started_ms_ = 0;
  std::int64_t connected_ms_ = 0;
  std::int64_t session_deadline_ms_ = 0;
  std::int64_t rollover_at_ms_ = 0;
  std::int64_t last_media_ms_ = 0;
  bool restarting_ = false;
  bool upstream_down_ = false;  // on_upstream_lost done for the current session
  bool session_ready_ = false;  // the current upstream session reached session.updated
  std::string last_upstream_failure_;
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
                              std::string remote_address) {
  auto session = std::make_shared<call_session>(std::move(twilio), ctx, std::move(remote_address));
  co_await session->run();
}

}  // namespace mb::bridge
