#pragma once
// What every tool's main() needs to read its flags: the usage text on a usage error (exit code 2)
// and strict number parsing (the whole value must be a number of the flag's type).

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace mb::tools {

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
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
      usage_error("invalid value for " + std::string(flag) + ": " + std::string(text));
    return value;
  }

 private:
  std::string_view program_;
  std::string_view usage_;
};

}  // namespace mb::tools
