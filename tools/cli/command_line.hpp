#pragma once
// What every tool's main() needs to read its flags: the usage text on a usage error (exit code 2)
// and strict number parsing (the whole value must be a number of the flag's type). Tools declare
// their flags in a table (tools/cli/flags.hpp), which builds on this.

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace mb::tools {

// nullopt unless the whole of `text` is a number of type T.
template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

class command_line {
 public:
  constexpr command_line(std::string_view program, std::string_view usage) : program_(program), usage_(usage) {}

  void print_usage() const { std::fwrite(usage_.data(), 1, usage_.size(), stdout); }

  [[noreturn]] void usage_error(const std::string& message) const {
    std::fprintf(stderr, "%.*s: %s\n%.*s", static_cast<int>(program_.size()), program_.data(), message.c_str(),
                 static_cast<int>(usage_.size()), usage_.data());
    std::exit(2);
  }

  template <class T>
  T number(std::string_view flag, std::string_view text) const {
    const auto value = parse_number<T>(text);
    if (!value) usage_error(invalid_value(flag, text));
    return *value;
  }

  static std::string invalid_value(std::string_view flag, std::string_view text) {
    return "invalid value for " + std::string(flag) + ": " + std::string(text);
  }

 private:
  std::string_view program_;
  std::string_view usage_;
};

}  // namespace mb::tools
