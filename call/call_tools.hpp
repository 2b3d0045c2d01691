#pragma once
// What an agent profile lets the model do beyond talking (docs/tools.md): its webhook tools, the
// built-in call-control tools (end_call, transfer_call and the transfer allowlist) and how DTMF keys
// reach the model. Plain data, read from AGENTS_FILE (agents/agent_profile) and carried by each call.

#include <string>
#include <vector>

#include "protocol/session_config.hpp"

namespace mb::call {

// A tool answered by an HTTPS webhook: mediabridge POSTs the call to `url`, signed, and hands the
// JSON result to the model.
struct webhook_tool {
  protocol::tool_declaration declaration;
  std::string url;          // https:// (http:// only to a loopback address: tests, demo)
  int timeout_ms = 5000;    // then the model gets an error result
  bool keep_talking = true; // the model may go on speaking while the webhook runs
};

// A destination transfer_call may dial: the model names it, never a number.
struct transfer_destination {
  std::string name;          // what the model and the operator say, e.g. "sales"
  std::string target;        // +E.164 number or sip: URI
  std::string announcement;  // optional <Say> before dialling
};

struct dtmf_options {
  int gap_ms = 2000;        // keys this far apart end a digit string ('#' ends it at once)
  int max_digits = 32;      // a longer string is handed over at that length
  bool mask = false;        // keys never shown: logs, events and history get one '•' per key
  bool respond = true;      // the model answers a completed digit string at once
};

struct call_tools_config {
  std::vector<webhook_tool> tools;
  int max_tool_calls_in_flight = 4;  // per call; more get an error result at once
  bool end_call = true;              // declare the built-in end_call tool
  int end_call_grace_ms = 10000;     // the goodbye may play this long before the hang-up goes ahead anyway
  std::vector<transfer_destination> transfers;  // non-empty: declare the built-in transfer_call tool
  std::string transfer_caller_id;    // <Dial callerId=...>; empty: the caller's number is kept
  dtmf_options dtmf;
};

// What a tool's webhook answered, as the shell got it.
struct webhook_response {
  int status = 0;       // 0: no response (see failure)
  std::string body;     // bounded by the shell
  std::string failure;  // the transport's failure (connect, TLS, timeout); empty when a response came
};

// What Twilio's REST API made of an update_twilio_call, after the client's own retries.
struct call_update_outcome {
  bool ok = false;
  std::string detail;  // the failure, safe to log and publish (no credentials)
};

}  // namespace mb::call
