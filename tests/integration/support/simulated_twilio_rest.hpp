#pragma once
// Twilio's REST API for a test: the simulator (tools/twilio_rest_sim) on loopback and a client of it,
// handed to the bridge from a harness tweak so that hang-ups and transfers reach the simulator.

#include <memory>
#include <string>

#include "bridge/call_session.hpp"
#include "telephony/twilio_client.hpp"
#include "tools/twilio_rest_sim/rest_simulator.hpp"

namespace mb::test {

struct simulated_twilio_rest {
  std::string account_sid = "AC00112233445566778899aabbccddeeff";
  std::string auth_token = "rest-test-token";
  tools::twilio_rest::rest_simulator sim{{.account_sid = account_sid, .auth_token = auth_token}};
  std::unique_ptr<telephony::twilio_client> client;

  simulated_twilio_rest() { sim.start(); }
  // Call from the harness's tweak: the bridge's calls update their Twilio calls through the simulator.
  void attach(bridge::bridge_context& b) {
    telephony::twilio_client_options o;
    o.base_url = sim.base_url();
    o.credentials = {account_sid, account_sid, auth_token};
    o.timeout_ms = 2000;
    client = std::make_unique<telephony::twilio_client>(o, b.tls);
    b.twilio_rest = client.get();
  }
};

}  // namespace mb::test
