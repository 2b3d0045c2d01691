#pragma once
// What one simulated call did (tools/twilio_sim/twilio_sim.hpp fills it in), and whether it completed
// as a call should: the verdict mediabridge-call's exit code and the load generator's success count
// rest on. Pure: no sockets, unit-tested.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tools/twilio_sim/caller_audio.hpp"
#include "tools/twilio_sim/playout.hpp"
#include "tools/twilio_sim/twiml_reader.hpp"

namespace mb::tools::twilio {

enum class call_outcome {
  completed,       // we hung up and the close handshake finished
  bridge_closed,   // the bridge closed the WebSocket first (cleanly)
  rejected,        // the webhook answered TwiML without <Connect><Stream> or <Dial><Sip> (e.g. admission
                   // control's <Hangup/>)
  webhook_failed,  // no response, a non-2xx status, or TwiML that is not well-formed
  connect_failed,  // the WebSocket connect or upgrade failed (e.g. 403 on a bad signature), or ringing
                   // the <Dial><Sip> URI's simulated endpoint failed
  sip_dialed,      // the webhook answered <Dial><Sip> and the simulated OpenAI SIP endpoint took the call
                   // (call_report::sip_call_id); the conversation runs between it and the bridge
  stream_failed,   // the WebSocket broke (reset, protocol error, write failure) before a clean close
  timed_out,       // call_options::timeout_ms expired
};

[[nodiscard]] const char* to_string(call_outcome outcome) noexcept;

enum class call_event_kind {
  webhook_answered,  // detail: HTTP status
  stream_connected,  // WebSocket open
  start_sent,
  first_media_received,
  clear_received,
  dtmf_sent,         // detail: the digit
  stop_sent,
  closed,            // detail: close code the bridge sent (0: none)
  sip_dialed,        // detail: the SIP call id
};

struct call_event {
  clock::time_point at;
  call_event_kind kind;
  std::string detail;
};

struct media_arrival {
  clock::time_point at;
  std::uint32_t bytes;  // decoded μ-law bytes (8 per ms)
};

struct mark_record {
  std::string name;
  clock::time_point received;
  clock::time_point echoed;
  bool cleared = false;  // echoed because of a clear rather than playback
};

struct clear_record {
  clock::time_point at;
  double played_ms = 0;  // audio actually played since the previous clear or the stream start
  double discarded_ms = 0;  // queued audio the clear threw away
  std::size_t marks_flushed = 0;
};

struct invalid_message {
  clock::time_point at;
  std::string reason;
  std::string text;  // the first 256 bytes of the message
};

struct call_report {
  call_outcome outcome = call_outcome::webhook_failed;
  // The call ended as a call should: whoever closed the stream first, the bridge's close frame said
  // 1000 (normal closure). Any other code is the bridge cutting the call (1011 upstream failure or
  // format mismatch, 1008 refused input, 1001 server shutting down, ...). Tests that expect one of
  // the two endings check `outcome`.
  // A call handed to SIP (sip_dialed) is ok too: its media never passes through Twilio's stream.
  [[nodiscard]] bool ok() const noexcept {
    return outcome == call_outcome::sip_dialed ||
           ((outcome == call_outcome::completed || outcome == call_outcome::bridge_closed) &&
            close_code == normal_close_code);
  }
  static constexpr int normal_close_code = 1000;
  std::string failure;  // human-readable, whenever !ok()

  std::string call_sid;
  std::string account_sid;
  std::string stream_sid;
  int webhook_status = 0;
  std::string twiml;
  std::string stream_url;
  std::vector<stream_parameter> parameters;
  std::string sip_uri;      // <Dial><Sip>'s URI
  std::string sip_call_id;  // the call id the simulated OpenAI SIP endpoint answered

  clock::time_point started;         // run_call began
  clock::time_point stream_started;  // `start` was queued: media timestamps count from here
  clock::time_point ended;

  std::string sent_audio;    // μ-law the caller sent, in order
  std::string played_audio;  // μ-law Twilio "played" to the caller, in order
  std::uint64_t media_frames_sent = 0;
  std::uint64_t media_frames_received = 0;
  std::uint64_t media_bytes_received = 0;  // decoded
  std::uint64_t played_bytes = 0;          // also counted when played_audio is not recorded
  std::uint64_t marks_received = 0;
  std::uint64_t marks_echoed = 0;
  std::vector<media_arrival> media_arrivals;
  std::vector<mark_record> marks;  // in echo order
  // Call milestones in order; per-frame and per-mark facts are in the fields above, so this stays short.
  std::vector<clear_record> clears;
  // Per time the caller began speaking over the assistant: the assistant audio still played after it
  // (until a clear, or until playback ran dry because the model stopped).
  std::vector<double> stale_audio_ms;
  std::vector<call_event> events;
  std::uint64_t invalid_count = 0;
  std::vector<invalid_message> invalid_messages;  // the first 32
  std::uint64_t send_queue_drops = 0;
  double max_send_lag_ms = 0;  // worst lateness of a media frame against its deadline (a load indicator)

  int close_code = 0;  // code of the close frame the bridge sent (its reply when we closed); 0: none
  std::string close_reason;

  // ms since stream_started, for readable assertions.
  [[nodiscard]] double ms_since_start(clock::time_point t) const {
    return std::chrono::duration<double, std::milli>(t - stream_started).count();
  }
};

// What mediabridge-call's user expects of every call, beyond ending as a call should.
struct call_expectations {
  std::string stream_url_prefix;  // non-empty: the TwiML's stream URL starts with it
  bool audio_both_ways = false;   // frames sent and received, and some of them played
  bool barge_in = false;          // the bridge cleared Twilio's playback at least once
  bool answer = false;            // the bridge sent some audio (see answer_expected)
};

// Why a call did not complete as a call should, or broke an expectation; empty when it did neither.
// Besides !ok(): invalid messages from the bridge (a real Twilio would have failed the stream).
[[nodiscard]] std::vector<std::string> call_problems(const call_report& r, const call_expectations& expect);

// Whether a caller following `script` (hanging up when it ends, or at hangup_after_ms when > 0 and
// earlier) stays on the line at least `answer_within_ms` after the end of its first speech: then it
// should hear an answer, and a bridge that sends no audio at all failed the call.
[[nodiscard]] bool answer_expected(std::span<const audio_segment> script, int hangup_after_ms, int answer_within_ms);

}  // namespace mb::tools::twilio
