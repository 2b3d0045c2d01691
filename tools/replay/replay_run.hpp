#pragma once
// One replay of a recorded call against a running bridge (docs/recording.md "Replay"): the replay
// is both ends of the call.
//  - Twilio: tools/twilio_sim places the call (signed webhook, the TwiML's stream URL and its
//    parameters, stream token included) and sends the recorded caller's audio and DTMF at their
//    recorded times, plays the bridge's audio like Twilio and echoes its marks, and hangs up when the
//    recorded caller did;
//  - the provider: replay_provider, which the bridge must be pointed at (bridge_settings_for);
//  - a listener on the bridge's /v1/events, for the call's events.
// What it sees is the observed log; record/replay_diff compares it with the recording.
//
// @par Thread Safety
// A replay_session runs on the thread that calls run(); create and use it on one thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "record/log_format.hpp"
#include "record/replay_script.hpp"
#include "tools/twilio_sim/call_report.hpp"

namespace mb::tools::replay {

struct recorded_log {
  record::log_header header;
  std::vector<record::log_entry> entries;
};

// Reads a recording's event log (record/log_format.hpp); nullopt with `error` (naming the line) when
// the file cannot be read or a line is not of the format.
[[nodiscard]] std::optional<recorded_log> read_log(const std::string& path, std::string& error);

// The observed log as a file of the same format; false with `error` when it cannot be written.
bool write_log(const std::string& path, const record::log_header& header, const std::vector<record::log_entry>& entries,
               std::string& error);

struct replay_options {
  std::string webhook_url;        // the bridge's voice webhook, e.g. http://127.0.0.1:8080/voice
  std::string twilio_auth_token;  // empty: unsigned requests (a bridge without TWILIO_AUTH_TOKEN)
  std::string api_token;          // the bridge's API_TOKEN for /v1/events; empty: none sent
  bool listen_events = true;      // false: no listener (the replay then sees no events)
  std::string provider_host = "127.0.0.1";
  std::uint16_t provider_port = 0;  // 0: any free port (provider_port() says which)
  int timeout_ms = 0;               // the whole call; 0: the recorded call's length + 30 s
  int settle_ms = 5000;             // after the caller's side ends: waiting for call.ended and the upstream's close
};

struct replay_result {
  std::string setup_failure;  // non-empty: the replay could not take place (exit code 2)
  record::log_header header;  // of the observed log
  std::vector<record::log_entry> observed;
  std::vector<std::string> notes;  // what was not replayed, or not as recorded
  twilio::call_report call;
};

class replay_session {
 public:
  // Binds the provider's listener at once (throws std::runtime_error when it cannot), so that the
  // bridge can be pointed at it before run().
  replay_session(record::log_header recorded_header, const std::vector<record::log_entry>& recorded,
                 replay_options options);
  ~replay_session();
  replay_session(const replay_session&) = delete;
  replay_session& operator=(const replay_session&) = delete;

  [[nodiscard]] std::uint16_t provider_port() const noexcept;
  [[nodiscard]] const record::replay_script& script() const noexcept;

  // Blocks for the call's length.
  replay_result run();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

// The bridge settings (environment variables) that send `provider`'s calls (the log header's provider
// name) to a replay provider at host:port; empty for an unknown provider. The credentials are
// placeholders: the replay provider checks none, but without one the bridge would use its built-in
// simulator.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> bridge_settings_for(std::string_view provider,
                                                                                   std::string_view host_port);

}  // namespace mb::tools::replay
