#include <catch2/catch.hpp>

#include <string>

#include "log/escape.hpp"

using mb::log::escape_for_log;
using namespace std::string_literals;

TEST_CASE("escape_for_log keeps printable text and valid UTF-8 as it is", "[log]") {
  CHECK(escape_for_log("ignoring unknown Twilio event 'surprise'") == "ignoring unknown Twilio event 'surprise'");
  CHECK(escape_for_log("Grüße, 你好, 🎉") == "Grüße, 你好, 🎉");
  CHECK(escape_for_log("a \\n b") == "a \\n b");  // a backslash the peer sent stays a backslash
  CHECK(escape_for_log("") == "");
}

TEST_CASE("escape_for_log turns control characters into escapes, so a line stays one line", "[log]") {
  CHECK(escape_for_log("CA1\n2025-01-01 00:00:00.000 error forged") == "CA1\\n2025-01-01 00:00:00.000 error forged");
  CHECK(escape_for_log("a\rb\tc") == "a\\rb\\tc");
  CHECK(escape_for_log("\x1b[31mred\x7f"s) == "\\x1b[31mred\\x7f");
  CHECK(escape_for_log("nul\0byte"s) == "nul\\x00byte");
  // C1 controls, line and paragraph separators and bidirectional overrides, encoded as valid UTF-8.
  CHECK(escape_for_log("a\xc2\x85" "b\xc2\x9b" "c") == "a\\u0085b\\u009bc");
  CHECK(escape_for_log("x\xe2\x80\xa8y\xe2\x80\xa9z") == "x\\u2028y\\u2029z");
  CHECK(escape_for_log("admin\xe2\x80\xaeresu") == "admin\\u202eresu");
  CHECK(escape_for_log("\xe2\x81\xa6i\xe2\x81\xa9") == "\\u2066i\\u2069");
}

TEST_CASE("escape_for_log escapes bytes that are not valid UTF-8", "[log]") {
  CHECK(escape_for_log("a\xff" "b") == "a\\xffb");
  CHECK(escape_for_log("\xc0\xaf") == "\\xc0\\xaf");              // overlong '/'
  CHECK(escape_for_log("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");     // overlong, 3 bytes
  CHECK(escape_for_log("\xed\xa0\x80") == "\\xed\\xa0\\x80");     // a UTF-16 surrogate
  CHECK(escape_for_log("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  CHECK(escape_for_log("cut \xe4\xbd") == "cut \\xe4\\xbd");      // a sequence cut short
  CHECK(escape_for_log("\x80" "a") == "\\x80a");                 // a stray continuation byte
}

TEST_CASE("escape_for_log is idempotent", "[log]") {
  for (const auto& text : {"a\nb\x01\xff\xe2\x80\xa8"s, "plain"s, "\\x41 and \\n"s}) {
    const auto once = escape_for_log(text);
    CHECK(escape_for_log(once) == once);
  }
}

TEST_CASE("escape_for_log cuts long text at a character boundary and says how much it left out", "[log]") {
  const std::string name(64 * 1024, 'a');
  const auto cut = escape_for_log(name, 200);
  CHECK(cut == std::string(200, 'a') + "...[cut 65336 bytes]");

  CHECK(escape_for_log("abcdef", 6) == "abcdef");
  CHECK(escape_for_log("abcdefg", 6) == "abcdef...[cut 1 bytes]");
  // An escape or a multi-byte character that does not fit whole is left out whole.
  CHECK(escape_for_log("abcde\n", 6) == "abcde...[cut 1 bytes]");
  CHECK(escape_for_log("abcd\xc3\xa9", 5) == "abcd...[cut 2 bytes]");
  CHECK(escape_for_log("\x01\x02", 4) == "\\x01...[cut 1 bytes]");
}
