#include "call/dtmf_collector.hpp"

#include <algorithm>
#include <utility>

namespace mb::call {

std::optional<std::string> dtmf_collector::on_key(char key, std::int64_t now_ms) {
  if (key == '#') return take();
  digits_ += key;
  last_key_ms_ = now_ms;
  if (std::cmp_greater_equal(digits_.size(), std::max(1, options_.max_digits))) return take();
  return std::nullopt;
}

std::optional<std::string> dtmf_collector::on_tick(std::int64_t now_ms) {
  const auto wake = next_wakeup();
  if (!wake || now_ms < *wake) return std::nullopt;
  return take();
}

std::optional<std::int64_t> dtmf_collector::next_wakeup() const {
  if (digits_.empty()) return std::nullopt;
  return last_key_ms_ + options_.gap_ms;
}

std::optional<std::string> dtmf_collector::take() {
  if (digits_.empty()) return std::nullopt;  // a lone '#' hands over nothing
  std::string digits;
  digits.swap(digits_);
  return digits;
}

std::string masked_digits(std::size_t keys) {
  std::string out;
  out.reserve(keys * 3);
  for (std::size_t i = 0; i < keys; ++i) out += "\u2022";
  return out;
}

std::pair<log_line, publish> digits_handed_over(const std::string& digits, const dtmf_options& options) {
  return {log_line{log_level::info, "the caller entered " + std::to_string(digits.size()) + " keys"},
          publish{dtmf_input{options.mask ? masked_digits(digits.size()) : digits, options.mask}}};
}

std::string dtmf_context_text(const std::string& digits) {
  return std::string(dtmf_context_lead) + digits;
}

}  // namespace mb::call
