#pragma once
// The metrics of the call path (bridge/call_session.cpp), registered under their Prometheus names.
// Process-wide gauges that other components own (active calls, listeners, the store's queue) are
// registered by server/metrics_setup.cpp.
//
// @par Thread Safety
// As metrics.hpp: every member may be updated from any thread without locks.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/metrics.hpp"

namespace mb::metrics {

enum class direction : std::size_t {
  caller_to_upstream,  // Twilio media → input_audio_buffer.append
  upstream_to_caller,  // response.output_audio.delta → Twilio media
};
inline constexpr std::size_t direction_count = 2;

enum class error_kind : std::size_t {
  twilio_bad_message,       // unparsable or binary message from Twilio (ignored)
  upstream_bad_message,     // unparsable or binary message from the upstream (ignored)
  upstream_error_event,     // an upstream `error` event other than a rejected truncate
  upstream_connect_failed,  // one failed connect attempt (reconnects count each attempt)
  upstream_lost,            // an upstream session that ended while the call went on
  slow_peer,                // a writer queue overflowed and ended the call
  unexpected_exception,     // a call ended by an exception (a bug; logged)
};
inline constexpr std::size_t error_kind_count = 7;

// Why a media stream was refused before it became a call (nothing published, stored or counted as a call).
enum class stream_refusal : std::size_t {
  unauthorized,      // the upgrade's credential or signature, or the stream token in start
  already_live,      // a stream for this CallSid is running
  full,              // MAX_CONCURRENT_CALLS: no reservation and no free slot
  too_many_pending,  // MAX_PENDING_STREAMS: refused at the upgrade
  no_start,          // no start within STREAM_START_TIMEOUT_MS
  bad_message,       // anything but connected and start (or an unreadable message) before the start
};
inline constexpr std::size_t stream_refusal_count = 6;
[[nodiscard]] const char* to_string(stream_refusal r) noexcept;  // the metric's reason label

// What became of one request to POST /openai/webhook (docs/sip.md).
enum class sip_webhook_outcome : std::size_t {
  accepted,      // an incoming call this server accepts (the accept itself runs after the reply)
  rejected,      // an incoming call refused at OpenAI: unknown number or agent, bad token, full, draining
  ignored,       // another event type, the other runtime's event of a call, or a call already handled
  duplicate,     // a webhook-id seen before (a redelivery or a replay)
  unauthorized,  // a missing or wrong signature, or a timestamp out of tolerance
  malformed,     // headers or body that are not a webhook
};
inline constexpr std::size_t sip_webhook_outcome_count = 6;
[[nodiscard]] const char* to_string(sip_webhook_outcome o) noexcept;  // the metric's outcome label

class bridge_metrics {
 public:
  // `end_reasons`: the reason labels of mediabridge_calls_ended_total, every way a call can end (the
  // bridge passes call::end_reason's names; metrics/ knows nothing of calls). Each is exported from 0.
  bridge_metrics(registry& r, std::span<const std::string_view> end_reasons);

  // A set registered nowhere, for callers that export no metrics (tests, tools).
  static bridge_metrics& discard();

  counter& calls_started;
  counter& barge_ins;
  counter& truncates_sent;
  counter& truncates_accepted;
  counter& truncates_rejected;
  counter& late_deltas_dropped;
  counter& dtmf_dropped;
  histogram& upstream_connect;  // TCP + TLS + WebSocket handshake
  histogram& session_update;    // session.update sent → session.updated received
  histogram& turn_first_delta;  // caller speech_stopped → first assistant audio delta
  histogram& turn_first_audio;  // caller speech_stopped → first mark echo (first audio heard)
  // SIP calls (bridge/sip_session): OpenAI's accept, its retries included, and the accepts that
  // failed for good (the call is dropped).
  histogram& sip_accept;
  counter& sip_accept_failed;

  // The counter of `reason`, one of the end_reasons; any other counts as "other".
  [[nodiscard]] counter& calls_ended(std::string_view reason) noexcept;
  [[nodiscard]] counter& frames(direction d) noexcept { return *frames_[static_cast<std::size_t>(d)]; }
  [[nodiscard]] counter& audio_bytes(direction d) noexcept { return *bytes_[static_cast<std::size_t>(d)]; }
  [[nodiscard]] histogram& relay(direction d) noexcept { return *relay_[static_cast<std::size_t>(d)]; }
  [[nodiscard]] counter& errors(error_kind k) noexcept { return *errors_[static_cast<std::size_t>(k)]; }
  [[nodiscard]] counter& streams_refused(stream_refusal r) noexcept { return *refused_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] counter& sip_webhooks(sip_webhook_outcome o) noexcept {
    return *sip_webhooks_[static_cast<std::size_t>(o)];
  }

 private:
  std::vector<std::pair<std::string, counter*>> ended_;  // by reason; looked up once per call
  counter* ended_other_ = nullptr;
  std::array<counter*, direction_count> frames_{};
  std::array<counter*, direction_count> bytes_{};
  std::array<histogram*, direction_count> relay_{};
  std::array<counter*, error_kind_count> errors_{};
  std::array<counter*, stream_refusal_count> refused_{};
  std::array<counter*, sip_webhook_outcome_count> sip_webhooks_{};
};

}  // namespace mb::metrics
