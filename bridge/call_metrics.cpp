#include "bridge/call_metrics.hpp"

namespace mb::bridge {

void call_metrics::count_progress(const call::call_stats& stats) noexcept {
  using metrics::direction;
  const auto d = progress_.advance(stats);
  if (d.caller_frames != 0) {
    m_.frames(direction::caller_to_upstream).inc(d.caller_frames);
    m_.audio_bytes(direction::caller_to_upstream).inc(d.caller_bytes);
  }
  if (d.assistant_chunks != 0) {
    m_.frames(direction::upstream_to_caller).inc(d.assistant_chunks);
    m_.audio_bytes(direction::upstream_to_caller).inc(d.assistant_bytes);
  }
  if (d.barge_ins != 0) m_.barge_ins.inc(d.barge_ins);
  if (d.truncates_sent != 0) m_.truncates_sent.inc(d.truncates_sent);
  if (d.late_deltas_dropped != 0) m_.late_deltas_dropped.inc(d.late_deltas_dropped);
  if (d.dtmf_dropped != 0) m_.dtmf_dropped.inc(d.dtmf_dropped);
}

std::optional<call_metrics::turn> call_metrics::on_upstream_event(const upstream::event& ev, bool late,
                                                                   time_point now) {
  switch (ev.kind) {
    case upstream::event_kind::error:
      if (ev.error.scope == upstream::error_scope::heard_report)
        m_.truncates_rejected.inc();
      else
        m_.errors(metrics::error_kind::upstream_error_event).inc();
      return std::nullopt;
    case upstream::event_kind::heard_report_accepted: m_.truncates_accepted.inc(); return std::nullopt;
    default: {
      auto turn = turn_.on_upstream(ev, late, now);
      if (const auto waited = turn_.provider_turn_first_audio()) m_.turn_first_delta.observe(*waited);
      return observe(std::move(turn));
    }
  }
}

std::chrono::milliseconds call_metrics::on_upstream_connected(time_point started, time_point now) noexcept {
  connected_at_ = now;
  m_.upstream_connect.observe(now - started);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - started);
}

std::chrono::milliseconds call_metrics::on_session_ready(time_point now) noexcept {
  m_.session_update.observe(now - connected_at_);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - connected_at_);
}

std::optional<call_metrics::turn> call_metrics::on_mark_echo(time_point now) {
  return observe(turn_.on_mark_echo(now));
}

std::optional<call_metrics::turn> call_metrics::on_twilio_written(time_point since, time_point written) {
  m_.relay(metrics::direction::upstream_to_caller).observe(written - since);
  return observe(turn_.on_twilio_written(since, written));
}

net::ws_writer::write_observer call_metrics::upstream_relay_observer() const {
  return [h = &m_.relay(metrics::direction::caller_to_upstream)](time_point since, time_point written) {
    h->observe(written - since);
  };
}

std::optional<call_metrics::turn> call_metrics::observe(std::optional<turn> t) noexcept {
  if (t && t->stopped_by_provider && t->to_heard) m_.turn_first_audio.observe(*t->to_heard);
  return t;
}

}  // namespace mb::bridge
