#pragma once
// Collects the caller's DTMF keys into digit strings for the model (docs/tools.md, "DTMF"): a string
// ends at '#' (not part of it), after dtmf_options::gap_ms without a key, or at max_digits keys.
// Time is the caller's clock in ms; the shell wakes it at next_wakeup().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "call/actions.hpp"
#include "call/call_tools.hpp"

namespace mb::call {

class dtmf_collector {
 public:
  explicit dtmf_collector(dtmf_options options = {}) : options_(options) {}

  // One key (a DTMF symbol, already checked). Returns the digit string it completes, if any.
  [[nodiscard]] std::optional<std::string> on_key(char key, std::int64_t now_ms);
  // Returns the digit string the gap completed, if it has passed.
  [[nodiscard]] std::optional<std::string> on_tick(std::int64_t now_ms);
  [[nodiscard]] std::optional<std::int64_t> next_wakeup() const;
  [[nodiscard]] const dtmf_options& options() const noexcept { return options_; }

 private:
  std::optional<std::string> take();

  dtmf_options options_;
  std::string digits_;
  std::int64_t last_key_ms_ = 0;
};

// What a digit string looks like where it must stay hidden: one '•' per key.
[[nodiscard]] std::string masked_digits(std::size_t keys);

// What a call tells of a digit string handed to the model: a log line that never shows the keys (a
// PIN typed before masking was configured stays private), and the dtmf_input event, masked as configured.
[[nodiscard]] std::pair<log_line, publish> digits_handed_over(const std::string& digits, const dtmf_options& options);

// The text the model gets for a digit string (always the real digits: it needs them): this, then the
// digits. A recording of a masked call leaves out every message that carries it (docs/recording.md).
inline constexpr std::string_view dtmf_context_lead = "The caller pressed these keys on the phone's keypad: ";
[[nodiscard]] std::string dtmf_context_text(const std::string& digits);

}  // namespace mb::call
