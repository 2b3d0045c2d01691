#pragma once
// Every way a call ends, for what is kept per end reason outside call/ (the labels of
// mediabridge_calls_ended_total: metrics/ takes them as plain names).

#include <string_view>
#include <vector>

#include "call/actions.hpp"

namespace mb::call {

inline constexpr end_reason all_end_reasons[] = {
    end_reason::caller_hung_up,   end_reason::twilio_closed, end_reason::upstream_closed,
    end_reason::upstream_error,   end_reason::upstream_connect_failed, end_reason::format_mismatch,
    end_reason::bad_media_format, end_reason::bad_input,     end_reason::slow_peer,
    end_reason::timeout,          end_reason::shutdown,      end_reason::hung_up,
};

// to_string() of each, in that order.
inline std::vector<std::string_view> end_reason_names() {
  std::vector<std::string_view> names;
  for (const auto reason : all_end_reasons) names.emplace_back(to_string(reason));
  return names;
}

}  // namespace mb::call
