#include "bridge/sip_session.hpp"

// Skeleton: the sideband task implements it.
namespace mb::bridge {

sip_admission start_sip_call(sip_call_setup, const bridge_context&, asio::any_io_executor) {
  return sip_admission::full;
}

}  // namespace mb::bridge
