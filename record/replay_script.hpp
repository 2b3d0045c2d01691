#pragma once
// What mediabridge-replay (tools/replay/) plays back from a recorded call's event log
// (docs/recording.md "Replay"): the caller's side as Twilio sent it, and the provider's side as a
// script per upstream connection, each provider message tied to what triggered it.
//
// - The caller: the audio of every twilio_in media message placed at its media timestamp (gaps are
//   silence), the DTMF digits at their times and the hang-up (stop) time. Twilio's connected, start
//   and mark echoes are not replayed: the simulated Twilio sends its own start and echoes the marks
//   the bridge sends as their audio plays.
// - The provider: upstream_open and upstream_closed split the entries into connections. Each
//   upstream_in message becomes a step triggered by the last thing the provider saw before it on
//   that connection: the n-th upstream_out message of a type (the type counted, not the position,
//   so an extra message of another type does not shift every trigger), or the connection's opening.
//   The step is due its recorded delay after the trigger arrives, and steps go out in their recorded
//   order. A connection the provider dropped (one the bridge reconnected after, or the last one when
//   the call ended for an upstream reason) ends with a close step.
// - What cannot be replayed is skipped and listed: masked messages (their content was never
//   written), Twilio messages that were not JSON, and gaps the recorder lost.
//
// provider_playback runs one connection's steps against a clock the caller passes in (ms since any
// origin), so the order and the timing are unit-tested with a fake clock.
//
// @par Thread Safety
// Pure functions; a provider_playback is a plain value used by one connection.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record/log_format.hpp"

namespace mb::record {

// The type of a message as triggers count it: a JSON object's "type" string (Realtime, GPT-Live),
// else its first key (Gemini: "setup", "realtimeInput", …); a masked entry's payload is its type
// already. "" when the text is no JSON object.
[[nodiscard]] std::string message_type(std::string_view json);

struct caller_dtmf {
  double t_ms = 0;
  char digit = '0';
};

struct caller_script {
  std::string ulaw;                // μ-law 8 kHz from t = 0: each media payload at its timestamp
  std::vector<caller_dtmf> dtmf;   // in time order
  std::optional<double> stop_ms;   // when the caller hung up (Twilio's stop); none: the bridge ended it
  double last_entry_ms = 0;        // the log's last entry
};

struct provider_step {
  enum class action : std::uint8_t { send, close };
  action what = action::send;
  std::string trigger_type;          // empty: the connection's opening
  std::uint64_t trigger_count = 0;   // the n-th (1-based) upstream_out of trigger_type
  double delay_ms = 0;               // after the trigger arrived
  double recorded_ms = 0;            // the entry's t, for reports
  bool raw = false;                  // the message was not JSON: send its text as it is
  std::string message;               // send: the message verbatim
  // close: the close frame's code and reason, as the recording's detail gave them; code 0: a drop
  // (the connection aborted, no close frame).
  std::uint16_t close_code = 0;
  std::string close_reason;
};

struct provider_connection_script {
  std::uint64_t connection = 0;  // 1-based, as upstream_open numbers it
  std::vector<provider_step> steps;
};

struct replay_script {
  caller_script caller;
  std::vector<provider_connection_script> connections;  // in order; connection n is connections[n-1]
  std::vector<std::string> skipped;  // one readable line per entry (or kind of entry) not replayed
};

struct replay_script_limits {
  double max_call_ms = 4.0 * 3600 * 1000;  // caller audio beyond this is not replayed (4 h, 115 MB)
};

// `entries` in log order (the header excluded).
[[nodiscard]] replay_script build_replay_script(const std::vector<log_entry>& entries,
                                                const replay_script_limits& limits = {});

// Plays one connection's steps: the I/O reports the opening and every message the bridge sends, and
// asks which step is due. Times are ms on any monotonic clock.
class provider_playback {
 public:
  explicit provider_playback(const provider_connection_script& script);

  void opened(double now_ms);
  void received(std::string_view type, double now_ms);

  // When the next step is due; nullopt when none is left or its trigger has not arrived yet.
  [[nodiscard]] std::optional<double> next_due() const;
  // The next step when it is due at `now_ms` (then it counts as done), else null.
  [[nodiscard]] const provider_step* take_due(double now_ms);

  [[nodiscard]] bool finished() const noexcept { return next_ >= script_->steps.size(); }
  [[nodiscard]] std::size_t steps_left() const noexcept { return script_->steps.size() - next_; }
  // What the next step waits for, for a report ("the 3rd conversation.item.create"); empty when none.
  [[nodiscard]] std::string waiting_for() const;

 private:
  // Counts one type's messages; only the arrivals some step waits for are kept (bounded memory
  // however long the call).
  struct type_counter {
    std::string type;
    std::uint64_t count = 0;
    std::vector<std::size_t> waiting_steps;  // in step order, hence in trigger_count order
    std::size_t next_waiting = 0;
  };

  const provider_connection_script* script_;
  std::size_t next_ = 0;
  std::vector<std::optional<double>> trigger_at_;  // per step: when its trigger arrived
  std::vector<type_counter> counters_;
  std::optional<double> previous_due_;  // a step is never due before the one before it
};

}  // namespace mb::record
