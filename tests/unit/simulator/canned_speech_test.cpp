// simulator/canned_speech.hpp: canned transcripts released word by word with their audio.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "simulator/canned_speech.hpp"

namespace sim = mb::simulator;

TEST_CASE("canned speech: the reply texts name the response and the part", "[simulator][canned_speech]") {
  CHECK(sim::assistant_reply_text(0, 0) == "This is simulated reply number 1.");
  CHECK(sim::assistant_reply_text(4, 0) == "This is simulated reply number 5.");
  CHECK(sim::assistant_reply_text(4, 2) == "This is part 3 of simulated reply number 5.");
}

TEST_CASE("canned speech: words spread evenly over the chunks and concatenate to the text",
          "[simulator][canned_speech]") {
  sim::canned_speech speech("one two three four");
  REQUIRE(speech.words() == 4);
  // 4 words over 10 chunks: due before chunks 0, 2, 5 and 7.
  std::vector<std::vector<std::string>> released(10);
  std::string text;
  for (std::uint64_t chunk = 0; chunk < 10; ++chunk)
    while (const auto word = speech.next_due(chunk, 10)) {
      released[chunk].emplace_back(*word);
      text += *word;
    }
  CHECK(released[0] == std::vector<std::string>{"one"});
  CHECK(released[2] == std::vector<std::string>{" two"});
  CHECK(released[5] == std::vector<std::string>{" three"});
  CHECK(released[7] == std::vector<std::string>{" four"});
  CHECK(released[1].empty());
  CHECK(text == "one two three four");
  CHECK(speech.spoken() == "one two three four");
  CHECK(speech.released() == 4);
  CHECK_FALSE(speech.next_due(9, 10));
  CHECK(sim::canned_speech::due_chunk(4, 4, 10) == 10);  // one past the last word: the end of the audio
}

TEST_CASE("canned speech: more words than chunks come out together, spoken() is what was released",
          "[simulator][canned_speech]") {
  sim::canned_speech speech("a b c d e");
  std::vector<std::string> first;
  while (const auto word = speech.next_due(0, 2)) first.emplace_back(*word);
  CHECK(first == std::vector<std::string>{"a", " b", " c"});
  CHECK(speech.spoken() == "a b c");
  CHECK(sim::canned_speech().words() == 0);
  sim::canned_speech empty;
  CHECK_FALSE(empty.next_due(0, 1));
  CHECK(empty.spoken().empty());
}
