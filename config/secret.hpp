#pragma once
#include <ostream>
#include <string>
#include <string_view>

namespace mb::config {

// Holds a credential. It prints as *** everywhere (streams, fmt), so it cannot leak into logs.
class secret {
 public:
  secret() = default;
  explicit secret(std::string value) : value_(std::move(value)) {}
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  // The only way to read the value; grep for reveal() to audit where credentials go.
  [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
  friend std::ostream& operator<<(std::ostream& os, const secret&) { return os << "***"; }

 private:
  std::string value_;
};

}  // namespace mb::config
