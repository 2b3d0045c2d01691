#pragma once
// Where a call's events go (listeners, the store). Implementations must be cheap and non-blocking:
// publish() runs on the call's thread, in the middle of relaying audio.

#include <chrono>
#include <string>

#include "call/actions.hpp"
#include "call/events.hpp"
#include "protocol/realtime_events.hpp"

namespace mb::bridge {

struct call_identity {
  std::string call_sid;
  std::string stream_sid;
  std::string from;
  std::string to;
};

struct call_summary {
  call::end_reason reason;
  std::string detail;
  std::chrono::milliseconds duration{0};
  protocol::token_usage usage;
};

class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void publish(const call_identity& call, const call::call_event& event) = 0;
  virtual void call_ended(const call_identity& call, const call_summary& summary) = 0;
};

}  // namespace mb::bridge
