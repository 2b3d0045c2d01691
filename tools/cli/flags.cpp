#include "tools/cli/flags.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace mb::tools::cli {
namespace {

constexpr std::size_t usage_width = 110;
constexpr std::size_t min_help_width = 40;

std::string label_of(const flag& f) { return f.value_name.empty() ? f.name : f.name + " " + f.value_name; }

// `text` in lines of at most `width` characters (longer words stay whole), each after `indent` spaces
// except the first.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out;
  std::size_t line = 0;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const auto word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (line > 0 && line + 1 + word.size() > width) {
      out += '\n';
      out.append(indent, ' ');
      line = 0;
    } else if (line > 0) {
      out += ' ';
      ++line;
    }
    out += word;
    line += word.size();
  }
  return out;
}

std::string render(std::string head, const std::vector<flag>& flags, const std::string& tail) {
  std::size_t label_width = 0;
  for (const auto& f : flags) label_width = std::max(label_width, label_of(f).size());
  const std::size_t column = 2 + label_width + 2;
  const std::size_t help_width = std::max(min_help_width, usage_width - std::min(usage_width, column));
  std::string out = std::move(head);
  out += '\n';
  for (const auto& f : flags) {
    auto label = label_of(f);
    label.resize(label_width + 2, ' ');
    auto help = f.help;
    if (!f.shown_default.empty()) help += " (default " + f.shown_default + ")";
    out += "  " + label + wrap(help, column, help_width) + "\n";
  }
  if (!tail.empty()) out += "\n" + tail;
  return out;
}

std::function<problem(std::string_view)> assign_to(std::string& target) {
  return [&target](std::string_view value) -> problem {
    target = value;
    return std::nullopt;
  };
}

}  // namespace

flag text(std::string name, std::string value_name, std::string help, std::string& target, std::string shown_default) {
  if (shown_default.empty()) shown_default = target;
  return {std::move(name), std::move(value_name), std::move(help), std::move(shown_default), assign_to(target)};
}

flag secret(std::string name, std::string value_name, std::string help, std::string& target, std::string shown_default) {
  return {std::move(name), std::move(value_name), std::move(help), std::move(shown_default), assign_to(target)};
}

flag enable(std::string name, std::string help, bool& target) {
  return {std::move(name), {}, std::move(help), {}, [&target](std::string_view) -> problem {
            target = true;
            return std::nullopt;
          }};
}

flag custom(std::string name, std::string value_name, std::string help, std::string shown_default,
            std::function<problem(std::string_view)> apply) {
  return {std::move(name), std::move(value_name), std::move(help), std::move(shown_default), std::move(apply)};
}

flag_table::flag_table(std::string_view program, std::string head, std::vector<flag> flags, std::string tail)
    : program_(program), flags_(std::move(flags)), usage_(render(std::move(head), flags_, tail)) {}

flag_table::outcome flag_table::apply(std::span<const std::string_view> args) const {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto arg = args[i];
    if (arg == "--help" || arg == "-h") return {true, std::nullopt};
    const auto row = std::find_if(flags_.begin(), flags_.end(), [arg](const flag& f) { return f.name == arg; });
    if (row == flags_.end()) return {false, "unknown option " + std::string(arg)};
    std::string_view value;
    if (!row->value_name.empty()) {
      if (i + 1 >= args.size()) return {false, "missing value for " + std::string(arg)};
      value = args[++i];
    }
    if (auto error = row->apply(value)) return {false, std::move(error)};
  }
  return {};
}

void flag_table::apply_or_exit(int argc, char** argv) const {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto result = apply(args);
  if (result.error) usage_error(*result.error);
  if (result.help) {
    cli().print_usage();
    std::exit(0);
  }
}

void flag_table::usage_error(const std::string& message) const { cli().usage_error(message); }

}  // namespace mb::tools::cli
