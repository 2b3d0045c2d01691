#include "call/heard_text.hpp"

#include <catch2/catch.hpp>

#include <string>

using mb::call::heard_prefix;

namespace {

struct heard_case {
  const char* what;
  std::string text;
  std::int64_t heard_ms;
  std::int64_t audio_ms;
  std::string expected;
};

template <std::size_t N>
void check(const heard_case (&cases)[N]) {
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(std::string(heard_prefix(c.text, c.heard_ms, c.audio_ms)) == c.expected);
  }
}

}  // namespace

TEST_CASE("heard_prefix: the words wholly inside the heard share of the text", "[call]") {
  // 48 characters; words end at 3 7 13 18 23 27 33 39 44 48.
  const std::string ten = "one two three four five six seven eight nine ten";
  const heard_case cases[] = {
      {"nothing heard", ten, 0, 4000, ""},
      {"no audio at all", ten, 500, 0, ""},
      {"a negative position", ten, -1, 4000, ""},
      {"everything heard", ten, 4000, 4000, ten},
      {"more than the audio (late echo)", ten, 5000, 4000, ten},
      {"1.2 s of 4 s: 14 characters, into 'four'", ten, 1200, 4000, "one two three"},
      {"13 characters: exactly at the end of a word", ten, 1300, 4800, "one two three"},
      {"12 characters: one short of the end of a word", ten, 1200, 4800, "one two"},
      {"inside the first word", ten, 100, 4000, ""},
      {"one character short of the end", ten, 3999, 4000, "one two three four five six seven eight nine"},
      {"punctuation stays with its word", "Hello, world. How are you?", 1400, 2600, "Hello, world."},
      {"runs of spaces and a newline", "Sure.  Let me\ncheck that.", 1500, 2500, "Sure.  Let me"},
      {"empty text", "", 500, 1000, ""},
      {"one word, partly heard", "Hello", 900, 1000, ""},
      {"one word, all heard", "Hello", 1000, 1000, "Hello"},
  };
  check(cases);
}

TEST_CASE("heard_prefix: multibyte text is shared out by characters and never cut inside one", "[call]") {
  const heard_case cases[] = {
      // 2-byte letters: "привет мир как дела" is 19 characters (35 bytes); half of it is 9 characters.
      {"Cyrillic, by characters not bytes", "привет мир как дела", 500, 1000, "привет"},
      {"Cyrillic, two words", "привет мир как дела", 600, 1000, "привет мир"},
      // No spaces: each ideograph is a word. 6 characters, 3 bytes each.
      {"Chinese: every character is a boundary", "你好世界再见", 500, 1000, "你好世"},
      {"Japanese with ideographic punctuation", "はい。わかりました", 400, 1000, "はい。"},
      // 4-byte emoji inside Latin text: a word of its own between spaces.
      {"emoji between words", "ok 😀 fine", 600, 1000, "ok 😀"},
      {"ideographic space separates words", "東京\u3000大阪", 800, 1000, "東京\u3000大"},
  };
  check(cases);
}

TEST_CASE("heard_prefix: ill-formed UTF-8 is stepped over byte by byte, whole sequences stay whole", "[call]") {
  // A stray continuation byte and a truncated 3-byte sequence count as one character each.
  const std::string text = "ab\x80 cd \xE4\xBD ef";
  // 12 characters: half is "ab\x80 cd", and the space after it ends the word.
  CHECK(heard_prefix(text, 500, 1000) == std::string_view("ab\x80 cd"));
  // For every share, the prefix ends on a character boundary of well-formed text.
  const std::string mixed = "Grüße aus Köln, 你好 😀!";
  for (std::int64_t ms = 0; ms <= 1000; ms += 7) {
    const auto prefix = heard_prefix(mixed, ms, 1000);
    INFO(ms);
    REQUIRE(prefix.size() <= mixed.size());
    CHECK(mixed.compare(0, prefix.size(), prefix) == 0);
    if (prefix.size() < mixed.size()) CHECK((static_cast<unsigned char>(mixed[prefix.size()]) & 0xC0u) != 0x80u);
  }
}
