#include "sip/sideband_state.hpp"

namespace mb::sip {

sideband_state::sideband_state(sideband_setup setup, std::unique_ptr<upstream::adapter> adapter)
    : setup_(std::move(setup)),
      adapter_(std::move(adapter)),
      dtmf_(setup_.tools.dtmf),
      dtmf_budget_({.burst = 20, .refill_interval_ms = 100}) {}

void sideband_state::on_attached(std::int64_t /*now_ms*/, std::vector<sideband_action>& /*out*/) { attached_ = true; }
void sideband_state::on_upstream(const upstream::event& /*ev*/, std::int64_t /*now_ms*/,
                                 std::vector<sideband_action>& /*out*/) {}
void sideband_state::on_lost(std::int64_t /*now_ms*/, std::vector<sideband_action>& /*out*/) { attached_ = false; }
void sideband_state::on_tool_response(std::uint64_t /*request_id*/, const call::webhook_response& /*response*/,
                                      std::int64_t /*now_ms*/, std::vector<sideband_action>& /*out*/) {}
void sideband_state::on_control_done(std::uint64_t /*request_id*/, bool /*ok*/, std::string_view /*detail*/,
                                     std::int64_t /*now_ms*/, std::vector<sideband_action>& /*out*/) {}
void sideband_state::on_operator(const call::operator_command& /*command*/, std::int64_t /*now_ms*/,
                                 std::vector<sideband_action>& /*out*/) {}
void sideband_state::on_tick(std::int64_t /*now_ms*/, std::vector<sideband_action>& /*out*/) {}
std::optional<std::int64_t> sideband_state::next_wakeup() const { return std::nullopt; }
void sideband_state::finish(std::vector<sideband_action>& /*out*/) {}

}  // namespace mb::sip
