#include "metrics/bridge_metrics.hpp"

namespace mb::metrics {
namespace {

constexpr const char* direction_names[direction_count] = {"caller_to_upstream", "upstream_to_caller"};

constexpr const char* error_names[error_kind_count] = {
    "twilio_bad_message", "upstream_bad_message", "upstream_error_event", "upstream_connect_failed",
    "upstream_lost",      "slow_peer",            "unexpected_exception",
};

constexpr const char* refusal_names[stream_refusal_count] = {
    "unauthorized", "already_live", "full", "too_many_pending", "no_start", "bad_message",
};

constexpr const char* sip_webhook_outcome_names[sip_webhook_outcome_count] = {
    "accepted", "rejected", "ignored", "duplicate", "unauthorized", "malformed",
};

constexpr std::string_view truncates_help = "conversation.item.truncate events, by what became of them.";

}  // namespace

const char* to_string(stream_refusal r) noexcept { return refusal_names[static_cast<std::size_t>(r)]; }
const char* to_string(sip_webhook_outcome o) noexcept {
  return sip_webhook_outcome_names[static_cast<std::size_t>(o)];
}

bridge_metrics::bridge_metrics(registry& r, std::span<const std::string_view> end_reasons)
    : calls_started(r.add_counter("mediabridge_calls_started_total", "Media streams admitted: authorised calls started.")),
      barge_ins(r.add_counter("mediabridge_barge_ins_total",
                              "Barge-ins: the caller spoke over unplayed assistant audio, which was cleared.")),
      truncates_sent(r.add_counter("mediabridge_truncates_total", truncates_help, {{"result", "sent"}})),
      truncates_accepted(r.add_counter("mediabridge_truncates_total", truncates_help, {{"result", "accepted"}})),
      truncates_rejected(r.add_counter("mediabridge_truncates_total", truncates_help, {{"result", "rejected"}})),
      late_deltas_dropped(r.add_counter("mediabridge_late_deltas_dropped_total",
                                        "Assistant audio deltas of a cut response, dropped after a barge-in.")),
      dtmf_dropped(r.add_counter("mediabridge_dtmf_dropped_total",
                                 "DTMF messages not published: over a call's rate limit, or not a key.")),
      upstream_connect(r.add_histogram("mediabridge_upstream_connect_seconds",
                                       "Time to open the upstream WebSocket (DNS, TCP, TLS, upgrade).",
                                       buckets::network())),
      session_update(r.add_histogram("mediabridge_session_update_seconds",
                                     "Time from session.update sent to session.updated received.",
                                     buckets::network())),
      turn_first_delta(r.add_histogram("mediabridge_turn_first_delta_seconds",
                                       "Per turn: caller speech_stopped to the first assistant audio delta.",
                                       buckets::turn())),
      turn_first_audio(r.add_histogram(
          "mediabridge_turn_first_audio_seconds",
          "Per turn: caller speech_stopped to the first mark echo of the answer (its first chunk was heard).",
          buckets::turn())),
      sip_accept(r.add_histogram("mediabridge_sip_accept_seconds",
                                 "SIP calls: OpenAI's accept, from the first request to its success or last failure "
                                 "(retries included).",
                                 buckets::turn())),
      sip_accept_failed(r.add_counter("mediabridge_sip_accept_failures_total",
                                      "SIP calls dropped because OpenAI's accept failed after its retries.")) {
  for (const auto reason : end_reasons)
    ended_.emplace_back(reason, &r.add_counter("mediabridge_calls_ended_total", "Calls ended, by reason.",
                                               {{"reason", std::string(reason)}}));
  ended_other_ = &r.add_counter("mediabridge_calls_ended_total", "Calls ended, by reason.", {{"reason", "other"}});
  for (std::size_t d = 0; d < direction_count; ++d) {
    frames_[d] = &r.add_counter("mediabridge_frames_relayed_total",
                                "Audio messages relayed: caller media frames sent upstream, assistant chunks sent "
                                "to Twilio.",
                                {{"direction", direction_names[d]}});
    bytes_[d] = &r.add_counter("mediabridge_audio_relayed_bytes_total", "Audio relayed, in decoded mu-law bytes.",
                               {{"direction", direction_names[d]}});
    relay_[d] = &r.add_histogram("mediabridge_relay_seconds",
                                 "Time an audio message spends in the bridge: from reading its source (or its "
                                 "release by the pacer) to the completed write of the relayed message.",
                                 buckets::relay(), {{"direction", direction_names[d]}});
  }
  for (std::size_t k = 0; k < error_kind_count; ++k)
    errors_[k] = &r.add_counter("mediabridge_errors_total", "Errors on the call path, by kind.",
                                {{"kind", error_names[k]}});
  for (std::size_t i = 0; i < stream_refusal_count; ++i)
    refused_[i] = &r.add_counter("mediabridge_streams_refused_total",
                                 "Media streams refused before they became calls, by reason.",
                                 {{"reason", refusal_names[i]}});
  for (std::size_t i = 0; i < sip_webhook_outcome_count; ++i)
    sip_webhooks_[i] = &r.add_counter("mediabridge_sip_webhooks_total",
                                      "Requests to POST /openai/webhook (OpenAI SIP mode), by outcome.",
                                      {{"outcome", sip_webhook_outcome_names[i]}});
}

bridge_metrics& bridge_metrics::discard() {
  static registry unexported;
  static bridge_metrics instance(unexported, {});
  return instance;
}

counter& bridge_metrics::calls_ended(std::string_view reason) noexcept {
  for (const auto& [name, c] : ended_)
    if (name == reason) return *c;
  return *ended_other_;
}

}  // namespace mb::metrics
