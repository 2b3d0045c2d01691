#include "campaign/call_status.hpp"

#include <array>

namespace mb::campaign {
namespace {

constexpr std::array<std::string_view, call_status_count> names = {
    "pending", "queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"};

}  // namespace

std::string_view status_name(call_status s) { return names[static_cast<std::size_t>(s)]; }

std::optional<call_status> parse_call_status(std::string_view twilio_status) {
  if (twilio_status == "initiated") return call_status::queued;
  for (std::size_t i = 1; i < names.size(); ++i)
    if (names[i] == twilio_status) return static_cast<call_status>(i);
  return std::nullopt;
}

bool is_final(call_status s) { return s >= call_status::completed; }

bool is_active(call_status s) { return s != call_status::pending && !is_final(s); }

bool moves_to(call_status current, call_status reported) { return !is_final(current) && reported > current; }

}  // namespace mb::campaign
