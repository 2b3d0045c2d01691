#include "protocol/openai_sip.hpp"

// Skeleton: the sip-protocol task implements these (docs/protocols.md J).
namespace mb::protocol {

std::string_view to_string(sip_runtime r) noexcept { return r == sip_runtime::realtime ? "realtime" : "live"; }

std::optional<sip_webhook_event> parse_sip_webhook(std::string_view, std::string& error) {
  error = "not implemented";
  return std::nullopt;
}

bool valid_sip_call_id(std::string_view) noexcept { return false; }

std::string_view sip_header_value(const std::vector<sip_header>&, std::string_view) { return {}; }

std::string sip_user_of(std::string_view) { return {}; }

sip_control_request accept_request(sip_runtime, std::string_view, const session_config&, std::string_view) { return {}; }
sip_control_request reject_request(sip_runtime, std::string_view, int) { return {}; }
sip_control_request refer_request(sip_runtime, std::string_view, std::string_view) { return {}; }
sip_control_request hangup_request(sip_runtime, std::string_view) { return {}; }

std::optional<std::string> sip_control_base(std::string_view) { return std::nullopt; }
std::string sideband_url(sip_runtime, std::string_view, std::string_view) { return {}; }

bool accept_retryable(int, std::string_view) noexcept { return false; }

}  // namespace mb::protocol
