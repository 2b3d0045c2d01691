#pragma once
// The simulated OpenAI SIP control plane's I/O (sip_control.hpp has the wire choices): the plain
// HTTP endpoints (accept/reject/refer/hangup of both runtimes, POST /sim/sip/invite), the signed
// incoming-call webhooks, and the sideband sessions with their scripted conversation. Internal to
// the simulator: upstream_simulator.cpp routes requests here.
//
// @par Thread Safety
// The call records live in upstream_simulator::state under its mutex; a sideband session runs on its
// strand like every sim_session.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/websocket.hpp"
#include "simulator/sim_session.hpp"
#include "simulator/sip_control.hpp"

namespace mb::simulator {

using state_ptr = std::shared_ptr<upstream_simulator::state>;


// A plain HTTP request for which is_sip_http_target() holds.
net::awaitable<net::plain_http_response> answer_sip_http(state_ptr state, net::plain_http_request request);

// 0 when a sideband upgrade for `target` may proceed; 401 without a bearer token, 404 for a call that
// is unknown, not accepted by `target`'s runtime, or ended.
[[nodiscard]] unsigned sideband_refusal(upstream_simulator::state& state, const sip_sideband_target& target,
                                        std::string_view authorization);
[[nodiscard]] std::shared_ptr<sim_session> make_sideband_session(state_ptr state, asio::any_io_executor strand,
                                                                 std::uint64_t number, sip_sideband_target target);

// Waits `delay` on the current executor; stop() cuts it short (upstream_simulator.cpp).
net::awaitable<void> delay_reply(const state_ptr& state, std::chrono::milliseconds delay);

}  // namespace mb::simulator
