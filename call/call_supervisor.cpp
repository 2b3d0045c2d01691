#include "call/call_supervisor.hpp"

#include <algorithm>

namespace mb::call {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// splitmix64: a small, well-mixed generator; any seed, including 0, gives a good sequence.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string ms_text(milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

std::uint16_t close_code_for(end_reason reason) noexcept {
  switch (reason) {
    case end_reason::shutdown: return 1001;  // going away
    case end_reason::bad_input:
    case end_reason::bad_media_format: return 1008;  // policy violation
    case end_reason::upstream_error:
    case end_reason::upstream_connect_failed:
    case end_reason::format_mismatch:
    case end_reason::slow_peer:
    case end_reason::timeout: return 1011;  // internal error
    case end_reason::caller_hung_up:
    case end_reason::hung_up:
    case end_reason::twilio_closed:
    case end_reason::upstream_closed: return 1000;
  }
  return 1000;
}

call_supervisor::call_supervisor(supervisor_options options, std::uint64_t jitter_seed)
    : options_(options), jitter_state_(jitter_seed) {
  options_.backoff_jitter = std::clamp(options_.backoff_jitter, 0.0, 1.0);
  disarm_all();
}

// --- the phone side ---------------------------------------------------------------------------

void call_supervisor::on_stream_opened(time_point now, std::vector<supervisor_action>& out) {
  if (phase_ != call_phase::created) return;
  phase_ = call_phase::awaiting_start;
  deadlines_[start] = now + options_.start_timeout;
  deadlines_[max_duration] = now + options_.max_duration;
  rearm(out);
}

void call_supervisor::on_stream_started(time_point now, std::vector<supervisor_action>& out) {
  if (phase_ != call_phase::awaiting_start) return;
  phase_ = call_phase::running;
  deadlines_[start] = time_point::max();
  last_media_ = now;
  deadlines_[media] = now + options_.media_timeout;
  connect(out);
  rearm(out);
}

// --- the upstream session ----------------------------------------------------------------------

void call_supervisor::connect(std::vector<supervisor_action>& out) {
  upstream_ = upstream_phase::connecting;
  out.emplace_back(connect_upstream{});
}

void call_supervisor::on_upstream_connected(time_point now, std::vector<supervisor_action>& out) {
  if (ending()) {
    // The connect finished after the call ended: this socket has no call to serve.
    out.emplace_back(close_upstream{close_mode::abort});
    return;
  }
  if (upstream_ != upstream_phase::connecting) return;
  upstream_ = upstream_phase::configuring;
  connected_at_ = now;
  deadlines_[session_ready] = now + options_.session_ready_timeout;
  out.emplace_back(configure_upstream{});
  rearm(out);
}

void call_supervisor::on_upstream_connect_failed(std::string_view reason, time_point now,
                                                 std::vector<supervisor_action>& out) {
  if (ending() || upstream_ != upstream_phase::connecting) return;
  last_failure_ = reason;
  out.emplace_back(log_line{log_level::warn, "upstream connect failed: " + last_failure_});
  if (++failures_ > options_.reconnect_attempts) {
    give_up(now, out);
    return;
  }
  back_off(now);
  rearm(out);
}

void call_supervisor::on_upstream_ready(time_point, std::vector<supervisor_action>& out) {
  if (ending() || upstream_ != upstream_phase::configuring) return;
  upstream_ = upstream_phase::ready;
  failures_ = 0;
  ever_ready_ = true;
  deadlines_[session_ready] = time_point::max();
  if (const auto age = rollover_age()) deadlines_[rollover] = connected_at_ + *age;
  rearm(out);
}

std::optional<std::chrono::seconds> call_supervisor::rollover_age() const noexcept {
  const auto& cap = options_.provider.session_cap;
  if (options_.rollover_after && (!cap || *options_.rollover_after < *cap)) return options_.rollover_after;
  if (cap) return *cap - options_.provider.rollover_margin;
  return std::nullopt;
}

void call_supervisor::on_upstream_lost(std::string_view reason, time_point now, std::vector<supervisor_action>& out) {
  if (!upstream_open()) return;
  last_failure_ = reason;
  out.emplace_back(log_line{log_level::warn, "upstream lost: " + last_failure_});
  end_session(close_mode::abort, session_end::failure, now, out);
}

void call_supervisor::on_restart_requested(std::string_view reason, time_point now,
                                           std::vector<supervisor_action>& out) {
  if (!upstream_open()) return;
  last_failure_ = reason;
  out.emplace_back(log_line{log_level::warn, "restarting the upstream session: " + last_failure_});
  end_session(close_mode::graceful, session_end::failure, now, out);
}

void call_supervisor::on_renewal_requested(std::string_view reason, time_point now,
                                           std::vector<supervisor_action>& out) {
  if (ending() || upstream_ != upstream_phase::ready) return;
  renewal_reason_ = reason;
  deadlines_[rollover] = std::min(deadlines_[rollover], now);
  rearm(out);
}

void call_supervisor::end_session(close_mode mode, session_end why, time_point now,
                                  std::vector<supervisor_action>& out) {
  deadlines_[session_ready] = time_point::max();
  deadlines_[rollover] = time_point::max();
  renewal_reason_.clear();
  out.emplace_back(close_upstream{mode});
  if (why == session_end::failure && ++failures_ > options_.reconnect_attempts) {
    give_up(now, out);
    return;
  }
  upstream_ = upstream_phase::closing;
  closing_for_ = why;
  out.emplace_back(pause_relay{});
  rearm(out);
}

void call_supervisor::on_upstream_closed(time_point now, std::vector<supervisor_action>& out) {
  if (ending() || upstream_ != upstream_phase::closing) return;
  if (closing_for_ == session_end::rollover)
    connect(out);
  else
    back_off(now);
  rearm(out);
}

void call_supervisor::back_off(time_point now) {
  upstream_ = upstream_phase::backing_off;
  deadlines_[backoff] = now + backoff_delay();
}

milliseconds call_supervisor::backoff_delay() {
  milliseconds delay = options_.backoff_base;
  for (int i = 1; i < failures_ && delay < options_.backoff_cap; ++i) delay *= 2;
  delay = std::min(delay, options_.backoff_cap);
  const auto spread = duration_cast<milliseconds>(delay * options_.backoff_jitter);
  if (spread <= milliseconds::zero()) return delay;
  const auto range = static_cast<std::uint64_t>(spread.count()) + 1;
  return delay - milliseconds(static_cast<milliseconds::rep>(next_random(jitter_state_) % range));
}

// --- time and the end --------------------------------------------------------------------------

void call_supervisor::on_timer(time_point now, bool assistant_quiet, std::vector<supervisor_action>& out) {
  if (phase_ == call_phase::closing && due(close_grace, now)) {
    deadlines_[close_grace] = time_point::max();
    out.emplace_back(log_line{log_level::warn, "peers did not finish closing within " + ms_text(options_.close_grace) +
                                                   "; aborting"});
    out.emplace_back(abort_sockets{});
  }
  if (ending()) {
    rearm(out);
    return;
  }
  if (due(max_duration, now)) {
    end(end_reason::timeout, "maximum call duration of " + std::to_string(options_.max_duration.count()) + " s", now,
        out);
    return;
  }
  if (due(start, now)) {
    end(end_reason::timeout, "no start within " + ms_text(options_.start_timeout), now, out);
    return;
  }
  if (due(media, now)) {
    const auto silent_until = last_media_ + options_.media_timeout;
    if (silent_until <= now) {
      end(end_reason::timeout, "Twilio sent no media for " + ms_text(options_.media_timeout), now, out);
      return;
    }
    deadlines_[media] = silent_until;  // media came since the deadline was armed
  }
  if (due(session_ready, now)) {
    last_failure_ = "upstream session not ready within " + ms_text(options_.session_ready_timeout);
    out.emplace_back(log_line{log_level::warn, "restarting the upstream session: " + last_failure_});
    end_session(close_mode::abort, session_end::failure, now, out);
    return;
  }
  if (due(rollover, now)) {
    if (!assistant_quiet) {
      deadlines_[rollover] = now + options_.rollover_retry;  // cutting the assistant off would be heard
    } else {
      const auto& cap = options_.provider.session_cap;
      out.emplace_back(log_line{
          log_level::info,
          !renewal_reason_.empty() ? "rolling over the upstream session: " + renewal_reason_
          : cap ? "rolling over the upstream session before its " +
                    std::to_string(duration_cast<std::chrono::minutes>(*cap).count()) + "-minute cap"
              : "rolling over the upstream session after " + std::to_string(rollover_age()->count()) + " s"});
      end_session(close_mode::graceful, session_end::rollover, now, out);
      return;
    }
  }
  if (due(backoff, now)) {
    deadlines_[backoff] = time_point::max();
    out.emplace_back(log_line{log_level::info, "reconnecting to the upstream (attempt " + std::to_string(failures_) +
                                                   " of " + std::to_string(options_.reconnect_attempts) + ")"});
    connect(out);
  }
  rearm(out);
}

void call_supervisor::on_end_requested(end_reason reason, std::string detail, time_point now,
                                       std::vector<supervisor_action>& out) {
  if (ending()) return;
  end(reason, std::move(detail), now, out);
}

void call_supervisor::give_up(time_point now, std::vector<supervisor_action>& out) {
  if (ever_ready_)
    end(end_reason::upstream_error,
        "upstream lost and " + std::to_string(options_.reconnect_attempts) +
            " reconnect attempt(s) failed; last: " + last_failure_,
        now, out);
  else
    end(end_reason::upstream_connect_failed,
        "no upstream session became ready in " + std::to_string(options_.reconnect_attempts + 1) +
            " attempt(s); last: " + last_failure_,
        now, out);
}

void call_supervisor::end(end_reason reason, std::string detail, time_point now, std::vector<supervisor_action>& out) {
  phase_ = call_phase::closing;
  upstream_ = upstream_phase::none;
  disarm_all();
  deadlines_[close_grace] = now + options_.close_grace;
  out.emplace_back(close_call{reason, close_code_for(reason), std::move(detail)});
  rearm(out);
}

void call_supervisor::on_sockets_closed(time_point, std::vector<supervisor_action>& out) {
  phase_ = call_phase::closed;
  upstream_ = upstream_phase::none;
  disarm_all();
  rearm(out);
}

void call_supervisor::disarm_all() noexcept { deadlines_.fill(time_point::max()); }

void call_supervisor::rearm(std::vector<supervisor_action>& out) {
  const auto next = *std::min_element(deadlines_.begin(), deadlines_.end());
  if (next == armed_) return;
  armed_ = next;
  out.emplace_back(arm_timer{next});
}

}  // namespace mb::call
