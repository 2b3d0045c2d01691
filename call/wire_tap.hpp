#pragma once
// WIRE_EVENTS (docs/events.md, "wire"): which of a call's wire messages become wire events for the
// dashboard's raw event panel. Only the type and size of a message, never its payload; media frames
// are left out by the shell (they would be fifty a second each way); the rest up to a rate, the excess
// counted.

#include <cstdint>
#include <optional>
#include <string_view>

#include "call/events.hpp"
#include "limits/token_bucket.hpp"

namespace mb::call {

class wire_tap {
 public:
  explicit wire_tap(bool enabled) : enabled_(enabled) {}

  // The event for one message, or nullopt when the tap is off or the message is over the rate.
  // `type` comes from a peer: it is cut and made printable.
  [[nodiscard]] std::optional<wire_message> on_message(std::string_view direction, std::string_view type,
                                                       std::size_t bytes, std::int64_t now_ms);
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

  static constexpr std::size_t max_type_bytes = 64;

 private:
  bool enabled_;
  limits::token_bucket budget_{{.burst = 200, .refill_interval_ms = 50}};  // 20 a second after a burst
  std::uint64_t dropped_ = 0;
};

// The type of a JSON message: its top-level "type" string, else its first key (Gemini's messages are
// {"setup": ...}, {"toolResponse": ...}); "?" when it is neither.
[[nodiscard]] std::string_view wire_type_of(std::string_view json);

}  // namespace mb::call
