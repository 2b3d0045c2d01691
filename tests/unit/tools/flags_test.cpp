// The tools' declarative flag tables: tools/cli/flags.hpp.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cli/flags.hpp"

namespace cli = mb::tools::cli;

namespace {

struct tool_options {
  std::string webhook;
  std::string token = "from-the-environment";
  std::string script = "speech:1000";
  int calls = 20;
  double share = 0.25;
  std::uint32_t warmup = 0;
  bool json = false;
  int even = 0;
};

cli::flag_table table_for(tool_options& o) {
  return cli::flag_table(
      "tool", "usage: tool [options]\n",
      {
          cli::text("--webhook", "URL", "where to call", o.webhook),
          cli::secret("--auth-token", "TOKEN", "signs requests", o.token, "$TOKEN"),
          cli::text("--script", "SPEC", "what the caller says", o.script),
          cli::number("--calls", "N", "calls at once", o.calls),
          cli::number("--share", "F", "a fraction", o.share),
          cli::number("--warmup", "N", "frames left out", o.warmup, "one second of audio"),
          cli::enable("--json", "print JSON", o.json),
          cli::custom("--even", "N", "an even number", "", [&o](std::string_view v) -> cli::problem {
            const auto n = mb::tools::parse_number<int>(v);
            if (!n || *n % 2 != 0) return "--even must be even";
            o.even = *n;
            return std::nullopt;
          }),
      },
      "Exit code: 0.\n");
}

cli::flag_table::outcome run(const cli::flag_table& t, std::vector<std::string_view> args) { return t.apply(args); }

}  // namespace

TEST_CASE("flags: each row sets its variable", "[tools][flags]") {
  tool_options o;
  const auto t = table_for(o);
  const auto r = run(t, {"--webhook", "http://127.0.0.1/voice", "--calls", "3", "--json", "--share", "0.5",
                         "--auth-token", "tok", "--warmup", "7", "--even", "4"});
  CHECK_FALSE(r.help);
  CHECK_FALSE(r.error);
  CHECK(o.webhook == "http://127.0.0.1/voice");
  CHECK(o.calls == 3);
  CHECK(o.json);
  CHECK(o.share == 0.5);
  CHECK(o.token == "tok");
  CHECK(o.warmup == 7);
  CHECK(o.even == 4);
  CHECK(o.script == "speech:1000");  // untouched
}

TEST_CASE("flags: usage errors name the flag", "[tools][flags]") {
  tool_options o;
  const auto t = table_for(o);
  CHECK(run(t, {"--calls", "3x"}).error == "invalid value for --calls: 3x");
  CHECK(run(t, {"--calls", "99999999999"}).error == "invalid value for --calls: 99999999999");
  CHECK(run(t, {"--warmup", "-1"}).error == "invalid value for --warmup: -1");
  CHECK(run(t, {"--calls"}).error == "missing value for --calls");
  CHECK(run(t, {"--bogus"}).error == "unknown option --bogus");
  CHECK(run(t, {"calls"}).error == "unknown option calls");
  CHECK(run(t, {"--even", "3"}).error == "--even must be even");
  // Flags before the error were applied; none after it.
  CHECK(run(t, {"--calls", "5", "--json", "--nope", "--webhook", "x"}).error == "unknown option --nope");
  CHECK(o.calls == 5);
  CHECK(o.webhook.empty());
}

TEST_CASE("flags: --help stops at once", "[tools][flags]") {
  tool_options o;
  const auto t = table_for(o);
  for (const auto help : {"--help", "-h"}) {
    const auto r = run(t, {"--calls", "2", help, "--calls", "not a number"});
    CHECK(r.help);
    CHECK_FALSE(r.error);
    CHECK(o.calls == 2);
  }
}

TEST_CASE("flags: the usage text lists every row with its default", "[tools][flags]") {
  tool_options o;
  const auto usage = table_for(o).usage();
  CHECK(usage.starts_with("usage: tool [options]\n\n  --webhook URL"));
  CHECK(usage.ends_with("\n\nExit code: 0.\n"));
  // Defaults come from the variables as they were when the table was built; zero or empty shows none.
  CHECK(usage.find("  --calls N           calls at once (default 20)\n") != std::string::npos);
  CHECK(usage.find("  --share F           a fraction (default 0.25)\n") != std::string::npos);
  CHECK(usage.find("  --script SPEC       what the caller says (default speech:1000)\n") != std::string::npos);
  CHECK(usage.find("  --webhook URL       where to call\n") != std::string::npos);
  CHECK(usage.find("  --json              print JSON\n") != std::string::npos);
  CHECK(usage.find("(default one second of audio)") != std::string::npos);
  // A secret's value never shows: only where its default comes from.
  CHECK(usage.find("from-the-environment") == std::string::npos);
  CHECK(usage.find("  --auth-token TOKEN  signs requests (default $TOKEN)\n") != std::string::npos);
}

TEST_CASE("flags: long help wraps under its column", "[tools][flags]") {
  std::string sink;
  std::string help;
  for (int i = 0; i < 40; ++i) help += "word" + std::to_string(i) + " ";
  help.pop_back();
  const cli::flag_table t("tool", "usage: tool\n", {cli::text("--long", "X", help, sink)});
  const auto& usage = t.usage();
  std::size_t lines = 0;
  std::size_t start = 0;
  std::string rejoined;
  while (start < usage.size()) {
    const auto end = usage.find('\n', start);
    const auto line = std::string_view(usage).substr(start, end - start);
    CHECK(line.size() <= 110);
    if (line.starts_with("  --long X  ")) rejoined += line.substr(12);
    else if (line.starts_with("            word")) rejoined += " " + std::string(line.substr(12));
    else CHECK((line.empty() || line == "usage: tool"));
    ++lines;
    start = end + 1;
  }
  CHECK(lines > 4);
  CHECK(rejoined == help);
}
