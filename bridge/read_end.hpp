#pragma once
// A socket's read loop has ended: why, in words for the call's log line and end detail, and what that
// means for the call when the socket is Twilio's.

#include <string>

#include "call/actions.hpp"
#include "net/message_socket.hpp"

namespace mb::bridge {

// `side` names the peer ("Twilio", "upstream"). A close reason the peer sent is escaped and truncated.
std::string describe_read_end(const char* side, const net::read_result& r, net::message_socket& socket);

// Why the call ends when Twilio's read loop ends without a stop.
call::end_reason twilio_read_end_reason(const net::read_result& r) noexcept;

}  // namespace mb::bridge
