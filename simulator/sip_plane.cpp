// The simulated OpenAI SIP control plane's I/O (sip_control.hpp): to be filled in.
#include <stdexcept>

#include "simulator/sim_state.hpp"

namespace mb::simulator {

std::string upstream_simulator::place_sip_call(sip_call_request) {
  throw std::logic_error("upstream simulator: SIP mode not implemented yet");
}

std::vector<sip_call_snapshot> upstream_simulator::sip_calls() const { return {}; }

bool upstream_simulator::wait_for_sip(const std::function<bool(const std::vector<sip_call_snapshot>&)>&,
                                      std::chrono::milliseconds) const {
  return false;
}

void upstream_simulator::drop_sideband(std::string_view) {}
void upstream_simulator::end_sip_call(std::string_view) {}

std::string upstream_simulator::sip_uri() const {
  return "sip:proj@" + endpoint().substr(std::string_view("http://").size()) + ";transport=tls";
}

}  // namespace mb::simulator
