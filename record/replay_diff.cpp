#include "record/replay_diff.hpp"

namespace mb::record {

replay_report compare_runs(const std::vector<log_entry>& /*recorded*/,
                           const std::vector<log_entry>& /*replayed*/,
                           const replay_tolerance& /*tolerance*/) {
  return {};
}

std::string format_report(const replay_report& report) {
  return report.passed() ? "PASS\n" : "FAIL\n";
}

}  // namespace mb::record
