#include "bridge/read_end.hpp"

#include "log/escape.hpp"

namespace mb::bridge {

std::string describe_read_end(const char* side, const net::read_result& r, net::message_socket& socket) {
  switch (r.status) {
    case net::read_status::closed: {
      const auto peer = socket.peer_close_reason();
      return std::string(side) + " closed the socket (code " + std::to_string(peer.code) +
             (peer.reason.empty() ? "" : ", reason '" + log::escape_for_log(peer.reason, log::name_bytes) + "'") + ")";
    }
    case net::read_status::too_big: return std::string(side) + " sent a message larger than the limit";
    case net::read_status::timeout: return std::string(side) + " went silent (idle timeout)";
    default: return std::string(side) + " connection failed: " + r.ec.message();
  }
}

call::end_reason twilio_read_end_reason(const net::read_result& r) noexcept {
  switch (r.status) {
    case net::read_status::too_big: return call::end_reason::bad_input;
    case net::read_status::timeout: return call::end_reason::timeout;
    default: return call::end_reason::twilio_closed;
  }
}

}  // namespace mb::bridge
