#pragma once
// The lifecycle of one call: every deadline, the upstream session's connects, restarts, reconnects
// with backoff and rollover before the provider's cap, and the close. Events in, actions out; no I/O
// and no clock of its own: every event carries the shell's steady-clock time.
//
// call_state decides what happens to the media and transcripts inside a session; the supervisor
// decides when sessions begin and end and when the call ends. The I/O shell feeds both and carries
// out what they ask. Where they meet, the shell relays:
//   - call_state's open_upstream        -> on_stream_started (the stream is authorised)
//   - call_state's restart_upstream     -> on_restart_requested
//   - call_state's renew_upstream       -> on_renewal_requested
//   - call_state's end_call, a peer's close, shutdown -> on_end_requested
//   - call_state::upstream_ready() turning true -> on_upstream_ready
//   - call_state::quiet()               -> the `assistant_quiet` argument of on_timer
//   - configure_upstream / pause_relay  -> call_state::on_upstream_connected / on_upstream_lost
//
// Thread safety: none. A supervisor belongs to one call and is used on that call's executor only.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "call/actions.hpp"
#include "upstream/capabilities.hpp"

namespace mb::call {

// The provider's session cap is a capability of its adapter (upstream/capabilities.hpp).
using upstream::azure_realtime_lifecycle;
using upstream::openai_realtime_lifecycle;
using upstream::provider_lifecycle;

struct supervisor_options {
  std::chrono::milliseconds start_timeout{5000};  // the stream must be started (admitted) this soon after the upgrade
  // Twilio streams media continuously, silence included: none for this long means the stream is gone.
  std::chrono::milliseconds media_timeout{10000};
  // An upstream session not ready (configuration confirmed) this soon after connecting is aborted.
  std::chrono::milliseconds session_ready_timeout{10000};
  std::chrono::seconds max_duration{std::chrono::hours(4)};  // from the upgrade
  std::chrono::milliseconds close_grace{3000};  // after asking both sides to close, abort what is left
  // Per loss: after this many failed reconnects in a row the call ends; 0: a lost upstream ends the call.
  // A session that reaches ready resets the count.
  int reconnect_attempts = 3;
  // The n-th failure in a row waits backoff_base * 2^(n-1), at most backoff_cap, shortened by a random
  // part of up to backoff_jitter (0..1) of itself, so that calls cut by one outage do not reconnect
  // in step. The cap stays a true maximum.
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_cap{5000};
  double backoff_jitter = 0.5;
  // A rollover falls due while the assistant speaks: look again this much later.
  std::chrono::milliseconds rollover_retry{250};
  provider_lifecycle provider = openai_realtime_lifecycle;
  // The operator's session age for a rollover (UPSTREAM_ROLLOVER_S), counted from the connect like the
  // cap. Used when shorter than the provider's cap (or when there is none); otherwise, and when
  // nullopt, the session rolls over at the cap less the provider's margin.
  std::optional<std::chrono::seconds> rollover_after;
};

// --- actions ----------------------------------------------------------------------------------
// The shell carries out one event's actions in order, at once.

// Open a new upstream socket; report on_upstream_connected or on_upstream_connect_failed.
struct connect_upstream {};
// The new session is open: send its configuration and replay the conversation so far
// (call_state::on_upstream_connected does both).
struct configure_upstream {};
enum class close_mode {
  graceful,  // close handshake (1000): the session did nothing wrong (rollover, a provider's request)
  abort,     // drop the socket: the session is lost or stuck
};
// End the current upstream session; report on_upstream_closed once its reader and writer have finished.
struct close_upstream { close_mode mode; };
// The session is gone or going: stop relaying to it and buffer caller audio until the next one is
// ready (call_state::on_upstream_lost). Writes to the upstream are dropped from now on (upstream_open()).
struct pause_relay {};
// Arm the supervisor's timer, replacing any earlier expiry; call on_timer when it expires.
// time_point::max(): nothing to wait for. A timer of its own: call_state's pacing wake-ups
// (call_state::next_wakeup) move with every paced chunk and would re-arm it for nothing.
struct arm_timer { std::chrono::steady_clock::time_point at; };
// End the call: close Twilio with `twilio_close_code` and the reason's name, close the upstream if one
// is open (1000), and give up a pending connect. Report on_sockets_closed when both are finished.
struct close_call {
  end_reason reason;
  std::uint16_t twilio_close_code;
  std::string detail;
};
// The closing grace expired: abort both sockets without a close handshake.
struct abort_sockets {};

using supervisor_action = std::variant<connect_upstream, configure_upstream, close_upstream, pause_relay, arm_timer,
                                       close_call, abort_sockets, log_line>;

// The WebSocket close code Twilio gets for a call that ended for `reason` (RFC 6455 section 7.4.1).
std::uint16_t close_code_for(end_reason reason) noexcept;

// One call's lifecycle, stepped by events. Each event appends its actions to `out` (never clears
// it); events that do not apply in the current phase (a late connect result after the end, a second
// end) append nothing or only what undoes them. on_caller_media, the per-frame event, only stores a
// time: the media deadline is armed lazily and moved forward when the timer finds it stale.
class call_supervisor {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  // `jitter_seed`: the backoff jitter's random source; fixed in tests, per call in the shell.
  call_supervisor(supervisor_options options, std::uint64_t jitter_seed);

  // The provider's session cap, known once the call's provider is (its agent profile); before
  // on_stream_started.
  void set_provider_lifecycle(provider_lifecycle lifecycle) noexcept { options_.provider = lifecycle; }

  // --- the phone side ---
  // The Twilio WebSocket upgraded: arms the start deadline and the maximum duration. First event.
  void on_stream_opened(time_point now, std::vector<supervisor_action>& out);
  // Twilio's start arrived and the stream is authorised: nothing reaches the upstream before this.
  void on_stream_started(time_point now, std::vector<supervisor_action>& out);
  // A media frame from Twilio.
  void on_caller_media(time_point now) noexcept { last_media_ = now; }

  // --- the upstream session ---
  void on_upstream_connected(time_point now, std::vector<supervisor_action>& out);
  void on_upstream_connect_failed(std::string_view reason, time_point now, std::vector<supervisor_action>& out);
  // The provider confirmed the session's configuration: relay can begin; the session counts as working.
  void on_upstream_ready(time_point now, std::vector<supervisor_action>& out);
  // The upstream socket ended without being asked to (peer close, I/O failure, idle timeout).
  // Ignored while the supervisor is closing that session itself.
  void on_upstream_lost(std::string_view reason, time_point now, std::vector<supervisor_action>& out);
  // The provider asked for a fresh session (its cap reached, a server fault): close this one gracefully.
  void on_restart_requested(std::string_view reason, time_point now, std::vector<supervisor_action>& out);
  // The provider will drop the session soon (call_state's renew_upstream): roll over at the next
  // pause of the assistant, as at the cap.
  void on_renewal_requested(std::string_view reason, time_point now, std::vector<supervisor_action>& out);
  // The upstream socket's reader and writer have both finished, after a loss or a close_upstream.
  void on_upstream_closed(time_point now, std::vector<supervisor_action>& out);

  // --- time and the end ---
  // The timer armed by the last arm_timer expired. `assistant_quiet`: no assistant audio playing or
  // coming (call_state::quiet()), so that a rollover cuts nothing.
  void on_timer(time_point now, bool assistant_quiet, std::vector<supervisor_action>& out);
  // End the call (call_state's end_call, a peer's close, shutdown). Only the first request counts.
  void on_end_requested(end_reason reason, std::string detail, time_point now, std::vector<supervisor_action>& out);
  // Both sockets are finished: nothing is left to abort.
  void on_sockets_closed(time_point now, std::vector<supervisor_action>& out);

  // The call is closing or closed.
  [[nodiscard]] bool ending() const noexcept { return phase_ == call_phase::closing || phase_ == call_phase::closed; }
  // An upstream session is open and not being closed: the only time writes to it are allowed.
  [[nodiscard]] bool upstream_open() const noexcept {
    return phase_ == call_phase::running && (upstream_ == upstream_phase::configuring || upstream_ == upstream_phase::ready);
  }

 private:
  enum class call_phase { created, awaiting_start, running, closing, closed };
  enum class upstream_phase {
    none,         // not asked for yet, or the call is ending
    connecting,   // connect_upstream sent, no result yet
    configuring,  // connected, waiting for ready
    ready,
    closing,      // close_upstream sent, waiting for on_upstream_closed
    backing_off,  // waiting to reconnect
  };
  enum deadline : std::size_t { start, media, session_ready, rollover, backoff, max_duration, close_grace, deadline_count };

  void connect(std::vector<supervisor_action>& out);
  // The current session is over. A failure counts towards giving up and is followed by a backoff;
  // a rollover reconnects as soon as the old session is closed.
  enum class session_end { failure, rollover };
  void end_session(close_mode mode, session_end why, time_point now, std::vector<supervisor_action>& out);
  void back_off(time_point now);
  [[nodiscard]] std::chrono::milliseconds backoff_delay();
  // Too many failures in a row: the reason says whether a session ever worked.
  void give_up(time_point now, std::vector<supervisor_action>& out);
  void end(end_reason reason, std::string detail, time_point now, std::vector<supervisor_action>& out);
  void disarm_all() noexcept;
  // Appends arm_timer when the earliest deadline differs from what the shell's timer is set to.
  void rearm(std::vector<supervisor_action>& out);
  [[nodiscard]] bool due(deadline d, time_point now) const noexcept { return deadlines_[d] <= now; }
  // How long after its connect a session is rolled over; nullopt: never.
  [[nodiscard]] std::optional<std::chrono::seconds> rollover_age() const noexcept;

  supervisor_options options_;
  std::uint64_t jitter_state_;
  call_phase phase_ = call_phase::created;
  upstream_phase upstream_ = upstream_phase::none;
  session_end closing_for_ = session_end::failure;  // what on_upstream_closed does next
  int failures_ = 0;  // in a row, since the last session that reached ready
  bool ever_ready_ = false;
  std::string last_failure_;
  std::string renewal_reason_;  // why the pending rollover was asked for; empty: the session's age
  time_point connected_at_{};
  time_point last_media_{};
  std::array<time_point, deadline_count> deadlines_{};
  time_point armed_ = time_point::max();
};

}  // namespace mb::call
