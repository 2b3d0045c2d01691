#pragma once
// A tool's flags as one declarative table (as config/settings.cpp declares the server's settings):
// each row names a flag, its value, what it does and the variable it sets, and the table drives
// parsing, the usage text (--help) and the usage errors, so that none of them can drift apart.
//
// A row's default, in the usage text, is the value its variable holds when the table is built
// (before parsing), unless that is zero or empty; a row may describe its default in words instead.

#include <charconv>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "tools/cli/command_line.hpp"

namespace mb::tools::cli {

// A problem sentence, or nullopt when the value was taken.
using problem = std::optional<std::string>;

struct flag {
  std::string name;           // "--calls"
  std::string value_name;     // "N"; empty: a switch, which takes no value
  std::string help;           // one sentence, wrapped by the usage text
  std::string shown_default;  // "(default …)" in the usage text; empty: none shown
  std::function<problem(std::string_view value)> apply;  // a switch gets ""
};

// Sets `target` to the value, which must be a whole number (or a number, for floating types) of its type.
template <class T>
flag number(std::string name, std::string value_name, std::string help, T& target, std::string shown_default = {}) {
  if (shown_default.empty() && target != T{}) {
    char digits[32];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, target);
    if (ec == std::errc{}) shown_default.assign(digits, end);
  }
  auto apply = [&target, name](std::string_view value) -> problem {
    const auto parsed = parse_number<T>(value);
    if (!parsed) return command_line::invalid_value(name, value);
    target = *parsed;
    return std::nullopt;
  };
  return {std::move(name), std::move(value_name), std::move(help), std::move(shown_default), std::move(apply)};
}

// Sets `target` to the value as given.
flag text(std::string name, std::string value_name, std::string help, std::string& target,
          std::string shown_default = {});
// Like text(), but the variable's value is never shown (it may hold a credential from the environment):
// `shown_default` says where the default comes from.
flag secret(std::string name, std::string value_name, std::string help, std::string& target, std::string shown_default);
// A switch: sets `target` to true.
flag enable(std::string name, std::string help, bool& target);
// Anything else: `apply` checks and stores the value.
flag custom(std::string name, std::string value_name, std::string help, std::string shown_default,
            std::function<problem(std::string_view)> apply);

class flag_table {
 public:
  // `head`: the usage line(s) and what the tool does; `tail`: prose after the flag list. Either ends
  // with a newline.
  flag_table(std::string_view program, std::string head, std::vector<flag> flags, std::string tail = {});

  [[nodiscard]] const std::string& usage() const noexcept { return usage_; }

  struct outcome {
    bool help = false;  // --help or -h: nothing after it was applied
    problem error;      // a usage error: unknown flag, missing or invalid value
  };
  // Applies the flags in order, up to the first error or --help.
  [[nodiscard]] outcome apply(std::span<const std::string_view> args) const;

  // apply() to argv[1..]: on --help prints the usage and exits 0; on a usage error exits 2 (usage_error).
  void apply_or_exit(int argc, char** argv) const;
  // "program: message" and the usage on stderr, exit code 2.
  [[noreturn]] void usage_error(const std::string& message) const;
  // For values a tool parses further itself: the number, or a usage error.
  template <class T>
  T number(std::string_view flag, std::string_view text) const {
    return cli().number<T>(flag, text);
  }

 private:
  [[nodiscard]] command_line cli() const noexcept { return {program_, usage_}; }

  std::string_view program_;
  std::vector<flag> flags_;
  std::string usage_;
};

}  // namespace mb::tools::cli
