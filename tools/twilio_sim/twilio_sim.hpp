#pragma once
// A simulated Twilio for one call (or many) against a running mediabridge:
//  1. POSTs the voice webhook (form fields as Twilio sends them; X-Twilio-Signature when given the auth
//     token) and reads the TwiML's <Connect><Stream url> and <Parameter>s;
//  2. opens the Media Streams WebSocket (signed like Twilio: the stream URL with no params), sends
//     `connected` and `start`, then one 20 ms `media` frame per 20 ms of wall time (absolute deadlines,
//     no drift) from a scripted or recorded caller, optional `dtmf`, and finally `stop` and a close;
//  3. plays the bridge's audio like Twilio (tools/twilio_sim/playout.hpp): echoes each mark when the
//     audio queued before it has played, flushes marks on `clear`, and records what it heard.
// Protocol facts: docs/protocols.md sections B and C.
//
// Efficiency (a load generator runs thousands of calls on two cores): no logging at all; message
// buffers are reused; a frame is base64-encoded only when it differs from the previous one (scripted
// audio repeats); received payloads are only validated and measured unless played audio is recorded;
// simdjson (DOM) with one parser per thread. Per-frame and per-mark records can be switched off.
// Measured (Release, loopback, a fake bridge sending 50 media + 10 marks/s per call): ~1.1 ms of CPU
// per call-second, mostly kernel TCP and Asio's per-operation cost.
//
// @par Thread Safety
// run_call runs on the caller's executor. Give each call its own strand (co_spawn(make_strand(ioc),
// run_call(...), ...)); nothing is shared between calls.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/asio.hpp"
#include "net/message_socket.hpp"
#include "tools/twilio_sim/call_report.hpp"
#include "tools/twilio_sim/caller_audio.hpp"
#include "tools/twilio_sim/playout.hpp"
#include "tools/twilio_sim/twiml_reader.hpp"

namespace mb::net {
class tls_client_context;
}

namespace mb::tools::twilio {

struct dtmf_press {
  int at_ms = 0;     // since the stream start; sent just before the first media frame due at or after it
  char digit = '1';  // 0-9, *, #, A-D
};

struct call_options {
  std::string webhook_url;  // http:// or https://, signed exactly as written
  std::string auth_token;   // empty: send no X-Twilio-Signature (webhook and WebSocket)
  std::string account_sid;  // empty: a random "AC…"
  std::string call_sid;     // empty: a random "CA…"
  std::string from = "+15005550006";
  std::string to = "+15005550001";

  // The caller's audio: `ulaw_audio` when set (raw μ-law 8 kHz, shared between calls), else `script`,
  // e.g. {{audio_kind::silence, 1000}, {audio_kind::speech, 800}, {audio_kind::silence, 1500}}.
  // After it ends the caller sends silence frames, as a phone line does, until hang-up.
  std::vector<audio_segment> script;
  std::shared_ptr<const std::string> ulaw_audio;

  // Hang-up (stop, then close 1000) happens at whichever comes first:
  bool hangup_when_audio_ends = true;  // right after the last frame of the caller's audio (if it has any)
  int hangup_after_ms = 0;             // > 0: this long after the stream start
  std::vector<dtmf_press> dtmf;        // sorted by at_ms

  // Between the webhook's answer and the stream's connect, as Twilio takes its time (it fetches the
  // TwiML, plays any <Say>, opens its own TLS connection): `before_stream` runs first (on the call's
  // strand, with the webhook's outcome in the report; tests observe what the webhook did), then the
  // call waits stream_delay_ms.
  std::function<void(const call_report&)> before_stream;
  int stream_delay_ms = 0;

  // Hard bound on the whole call, webhook to close; on expiry the socket is aborted (outcome timed_out).
  int timeout_ms = 60000;
  int webhook_timeout_ms = 10000;
  net::socket_limits limits;      // WebSocket read limit and timeouts
  std::size_t send_queue = 64;    // messages; frames that find it full are dropped and counted
  // > 0: caller frames leave on this grid (send_time_on_grid) instead of each at its own time.
  std::chrono::microseconds send_grid{0};

  bool record_sent_audio = true;      // call_report::sent_audio
  bool record_played_audio = true;    // call_report::played_audio
  bool record_media_arrivals = true;  // call_report::media_arrivals
  bool record_marks = true;           // call_report::marks (the counters are always kept)

  std::shared_ptr<net::tls_client_context> tls;  // required for https:// and wss://

  // Load-test instrumentation (tools/load_gen), called on the call's strand; null: none.
  // May overwrite the bytes of caller frame `chunk` (1-based) just before it is encoded and sent.
  std::function<void(std::uint64_t chunk, std::span<std::uint8_t> frame)> stamp_frame;
  // A media message from the bridge was read at `at`; its audio starts at playout position
  // `position` (bytes since the stream start, cleared audio excluded: playout.hpp).
  std::function<void(std::string_view payload_b64, clock::time_point at, std::uint64_t position)> on_media;
  // A clear was read at `at`, when playback had reached position `played`.
  std::function<void(clock::time_point at, std::uint64_t played)> on_clear;
  // Every Media Streams message as it is queued for the bridge (from_bridge false) or read from it
  // (true), at `at`, on the call's strand: mediabridge-replay logs both ways (tools/replay).
  std::function<void(bool from_bridge, std::string_view message, clock::time_point at)> on_message;
};

// One simulated call. Never throws for network or protocol failures (they end up in the report) and
// always finishes within about options.timeout_ms (name resolution excepted).
net::awaitable<call_report> run_call(call_options options);

// Blocking helper for tests and tools: runs all calls at once, each on its own strand of a private
// io_context with `threads` threads, for at most `run_timeout_ms`. A call still running then reports
// timed_out. Reports are in the order of `calls`.
std::vector<call_report> run_calls(std::vector<call_options> calls, int run_timeout_ms, int threads = 1);

}  // namespace mb::tools::twilio
