#pragma once
// A loopback stand-in for Twilio's call REST API (docs/protocols.md H), for integration tests, demos
// and the `mediabridge-twilio-rest-sim` tool. It serves
//   POST /2010-04-01/Accounts/{AccountSid}/Calls.json            place a call (201, status "queued")
//   POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json  Status=completed|canceled, or Twiml=…
//   GET  /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json  the call resource
// behind HTTP Basic auth (the account SID with the auth token, or an API key SID with its secret; 401
// with Twilio's error 20003 otherwise), records every request, keeps a state per call and, for the
// calls it places, plays a per-number script: status callbacks (initiated, ringing, answered,
// completed, or a busy / no-answer / failed end) POSTed to StatusCallback and signed with
// X-Twilio-Signature, and optionally the voice webhook (Url) fetched on answer, as Twilio does.
// Faults can be scripted per path: the next N requests answer a status (500, 503, 429) or are held past
// the client's timeout, acting first or not, to check that retries never act twice.
//
// Usage (tests):
//     rest_simulator sim({.account_sid = "AC…", .auth_token = "secret"});
//     sim.start();                            // 127.0.0.1, an ephemeral port, its own thread
//     ... point the client at sim.base_url() ...
//     sim.wait_until([&](const rest_sim_state& s) { return s.requests.size() == 2; }, 5s);
//     auto call = sim.call("CA…");
// Callbacks and voice webhooks are sent over plain http (receivers on loopback); an https URL is
// recorded as a failed callback. Faults match a request's exact path. Records are bounded (max_records);
// the simulator is for tests and demos, never for production traffic.
//
// @par Thread Safety
// Every public method may be called from any thread; the server runs on its own thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/form.hpp"

namespace mb::tools::twilio_rest {

using sim_clock = std::chrono::steady_clock;

// How a call the simulator places goes on (per To number, or the default).
struct call_script {
  enum class end { completed, busy, no_answer, failed };
  end outcome = end::completed;
  int ringing_after_ms = 10;   // initiated -> ringing
  int answer_after_ms = 30;    // ringing -> in-progress (or -> the busy / no-answer / failed end)
  int complete_after_ms = 100; // in-progress -> completed; negative: until hung up through the API
  bool fetch_voice_url = false;  // on answer, POST the Url voice webhook (signed) and record its TwiML
};

// The next `count` requests whose path equals `path` ("*": any path) answer `status` (0: the normal
// answer) after `delay_ms`. With act = true the request takes effect first (Twilio acted, then the
// answer was lost or failed); with act = false it does not. A delayed fault with status 0 and act =
// false closes the connection without answering.
struct fault {
  std::string path = "*";
  int count = 1;
  int status = 0;
  int delay_ms = 0;
  bool act = false;
};

struct request_record {
  sim_clock::time_point at;
  std::string method;
  std::string path;
  protocol::form_fields form;
  std::string auth_user;  // the Basic auth username given (never the password)
  bool authorised = false;
  bool acted = false;     // it changed a call (created, completed, canceled or redirected it)
  int status = 0;         // what was answered; 0: the connection was closed without an answer
};

struct callback_record {
  sim_clock::time_point at;
  std::string call_status;  // CallStatus sent
  int http_status = 0;      // the receiver's answer; 0: none (failure says why)
  std::string failure;
};

struct call_record {
  std::string sid;
  std::string to, from, url, status_callback;
  std::vector<std::string> callback_events;  // StatusCallbackEvent values asked for
  bool created_here = false;  // placed through Calls.json (others were updated first or added)
  std::string status;         // queued, ringing, in-progress, completed, busy, no-answer, failed, canceled
  int completions = 0;        // updates that moved it to completed (a second one would be a double act)
  std::vector<std::string> redirects;  // the Twiml of each redirect applied
  std::vector<callback_record> callbacks;
  int voice_status = 0;       // the voice webhook's answer (fetch_voice_url); 0: not fetched or failed
  std::string voice_twiml;    // its body (bounded)
  std::string voice_failure;
};

struct rest_sim_state {
  std::vector<request_record> requests;
  std::vector<call_record> calls;
  int auth_failures = 0;
  [[nodiscard]] const call_record* call(std::string_view sid) const;
  [[nodiscard]] std::size_t count(std::string_view method, std::string_view path) const;
};

struct rest_sim_options {
  std::string account_sid;     // AC…: the only account served (empty: a fixed test SID)
  std::string auth_token;      // Basic password with the account SID; signs callbacks and webhooks
  std::string api_key_sid;     // SK…: optional second username
  std::string api_key_secret;
  // POST updates of a call SID it never saw register the call as in-progress (inbound calls placed by
  // tools/twilio_sim); false: 404 with Twilio's error 20404.
  bool adopt_unknown_calls = true;
  call_script default_script;
  std::size_t max_records = 10000;  // requests and calls kept; older ones are dropped
  int callback_timeout_ms = 5000;
  bool log_requests = false;   // one spdlog line per request
};

class rest_simulator {
 public:
  explicit rest_simulator(rest_sim_options options);
  ~rest_simulator();
  rest_simulator(const rest_simulator&) = delete;
  rest_simulator& operator=(const rest_simulator&) = delete;

  // Listens on `host` (loopback only: throws otherwise) and starts the server thread. Returns the port.
  std::uint16_t start(const std::string& host = "127.0.0.1", std::uint16_t port = 0);
  // Stops the thread; pending callbacks are abandoned. Idempotent; the destructor calls it.
  void stop();
  // "http://127.0.0.1:<port>", for TWILIO_API_BASE_URL.
  [[nodiscard]] std::string base_url() const;
  [[nodiscard]] const std::string& account_sid() const noexcept;

  void script_number(const std::string& to, call_script script);
  void add_fault(fault f);
  void add_call(const std::string& call_sid, const std::string& status = "in-progress");

  [[nodiscard]] rest_sim_state snapshot() const;
  [[nodiscard]] std::optional<call_record> call(std::string_view sid) const;
  // Waits until `done(state)` holds (checked under the lock on every change) or `timeout` passes.
  bool wait_until(const std::function<bool(const rest_sim_state&)>& done, std::chrono::milliseconds timeout) const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mb::tools::twilio_rest
