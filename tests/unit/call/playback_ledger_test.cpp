#include "call/playback_ledger.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace mb::call;
using mark_result = playback_ledger::mark_result;

// μ-law 8 kHz: 8 bytes per ms, so 800 bytes = 100 ms. Clock values are arbitrary ms.

TEST_CASE("playback_ledger: items and marks", "[call]") {
  playback_ledger ledger;
  CHECK(ledger.empty());
  CHECK_FALSE(ledger.has_unplayed());

  const auto a = ledger.on_audio_received("item_a", "resp_1", 0, 800);
  // More audio for the same item and content part extends it.
  CHECK(ledger.on_audio_received("item_a", "resp_1", 0, 400) == a);
  // A different item, or a different content part, is a new entry.
  const auto b = ledger.on_audio_received("item_b", "resp_1", 0, 160);
  const auto b1 = ledger.on_audio_received("item_b", "resp_1", 1, 160);
  CHECK(b != a);
  CHECK(b1 != b);

  REQUIRE(ledger.find(a) != nullptr);
  CHECK(ledger.find(a)->received_bytes == 1200);
  CHECK(ledger.find(a)->item_id == "item_a");
  CHECK(ledger.find(a)->response_id == "resp_1");
  CHECK(ledger.find(b1)->content_index == 1);
  CHECK(ledger.find("item_b")->serial == b);
  CHECK(ledger.find("nope") == nullptr);
  CHECK(ledger.find(b1 + 1) == nullptr);

  // Marks are "<generation>.<sequence>", sequence increasing across items.
  CHECK(ledger.on_sent(a, 800, 0) == "1.1");
  CHECK(ledger.on_sent(a, 400, 0) == "1.2");
  CHECK(ledger.on_sent(b, 160, 0) == "1.3");
  CHECK(ledger.find(a)->sent_bytes == 1200);
  CHECK(ledger.has_unplayed());
  // An unknown serial sends no mark.
  CHECK(ledger.on_sent(9999, 8, 0).empty());

  CHECK(ledger.on_mark("1.1", 100) == mark_result::played);
  CHECK(ledger.find(a)->played_bytes == 800);
  // Echoes confirm every earlier mark too.
  CHECK(ledger.on_mark("1.3", 170) == mark_result::played);
  CHECK(ledger.find(a)->played_bytes == 1200);
  CHECK(ledger.find(b)->played_bytes == 160);
  CHECK_FALSE(ledger.has_unplayed());
  // The same echo twice, or an echo of a mark never sent, is unknown.
  CHECK(ledger.on_mark("1.3", 171) == mark_result::unknown);
  CHECK(ledger.on_mark("1.4", 171) == mark_result::unknown);
}

TEST_CASE("playback_ledger: malformed and foreign mark names are unknown", "[call]") {
  playback_ledger ledger;
  const auto a = ledger.on_audio_received("a", "r", 0, 80);
  REQUIRE(ledger.on_sent(a, 80, 0) == "1.1");
  for (const char* name : {"", "1", "1.", ".1", "1.1.1", "1.1x", "x1.1", "+1.1", "-1.1", "1.-1", " 1.1", "item_9:320:m7",
                           "2.1", "99999999999999999999.1"}) {
    INFO(name);
    CHECK(ledger.on_mark(name, 10) == mark_result::unknown);
  }
  CHECK(ledger.has_unplayed());
  CHECK(ledger.on_mark("1.1", 10) == mark_result::played);
}

TEST_CASE("playback_ledger: heard_ms follows the clock from the last confirmed position", "[call]") {
  playback_ledger ledger;
  const auto a = ledger.on_audio_received("a", "r", 0, 2400);  // 300 ms
  ledger.on_sent(a, 800, 1000);   // starts playing at once: nothing was queued before it
  ledger.on_sent(a, 800, 1010);   // queued behind the first chunk
  ledger.on_sent(a, 800, 1020);
  const auto& it = *ledger.find(a);

  CHECK(ledger.heard_ms(it, 1000) == 0);
  CHECK(ledger.heard_ms(it, 1070) == 70);
  CHECK(ledger.heard_ms(it, 1250) == 250);
  CHECK(ledger.heard_ms(it, 1400) == 300);  // never more than was sent

  // The first chunk's echo arrives late (network): the estimate restarts from 100 ms at 1130.
  REQUIRE(ledger.on_mark("1.1", 1130) == mark_result::played);
  CHECK(ledger.heard_ms(it, 1130) == 100);
  CHECK(ledger.heard_ms(it, 1180) == 150);
  // A clock that went backwards never goes below what was confirmed.
  CHECK(ledger.heard_ms(it, 1000) == 100);

  REQUIRE(ledger.on_mark("1.3", 1340) == mark_result::played);
  CHECK(ledger.heard_ms(it, 2000) == 300);
}

TEST_CASE("playback_ledger: audio sent after playback ran dry starts a new anchor", "[call]") {
  playback_ledger ledger;
  const auto a = ledger.on_audio_received("a", "r", 0, 1600);
  ledger.on_sent(a, 800, 1000);
  REQUIRE(ledger.on_mark("1.1", 1100) == mark_result::played);
  // 400 ms gap with nothing to play, then the rest of the item.
  ledger.on_sent(a, 800, 1500);
  const auto& it = *ledger.find(a);
  CHECK(ledger.heard_ms(it, 1500) == 100);
  CHECK(ledger.heard_ms(it, 1530) == 130);  // not 100 + 430
}

TEST_CASE("playback_ledger: the next item starts when the previous one has played", "[call]") {
  playback_ledger ledger;
  const auto a = ledger.on_audio_received("a", "r1", 0, 800);
  const auto b = ledger.on_audio_received("b", "r2", 0, 800);
  ledger.on_sent(a, 800, 1000);
  ledger.on_sent(b, 800, 1010);  // behind a
  const auto& ib = *ledger.find(b);
  CHECK(ledger.heard_ms(ib, 1090) == 0);  // a is still playing
  REQUIRE(ledger.on_mark("1.1", 1100) == mark_result::played);
  CHECK(ledger.heard_ms(ib, 1100) == 0);
  CHECK(ledger.heard_ms(ib, 1130) == 30);  // relative to b's own start, not to a's
  CHECK(ledger.heard_ms(ib, 1300) == 100);
}

TEST_CASE("playback_ledger: cut_all reports what was heard and starts a new generation", "[call]") {
  playback_ledger ledger;
  const auto done = ledger.on_audio_received("done", "r0", 0, 80);
  ledger.on_sent(done, 80, 990);
  REQUIRE(ledger.on_mark("1.1", 1000) == mark_result::played);
  ledger.on_audio_done("done");
  CHECK(ledger.take_finished() == std::vector<std::string>{"done"});

  const auto a = ledger.on_audio_received("a", "r1", 0, 1600);
  const auto b = ledger.on_audio_received("b", "r1", 0, 800);
  ledger.on_audio_received("c", "r1", 0, 0);  // no audio yet: must not be truncated
  ledger.on_sent(a, 800, 1000);
  ledger.on_sent(a, 800, 1000);
  ledger.on_sent(b, 400, 1000);  // the rest of b is still held back
  REQUIRE(ledger.on_mark("1.2", 1100) == mark_result::played);

  const auto cuts = ledger.cut_all(1150);
  REQUIRE(cuts.size() == 2);
  CHECK(cuts[0].item_id == "a");
  CHECK(cuts[0].response_id == "r1");
  CHECK(cuts[0].content_index == 0);
  CHECK(cuts[0].audio_end_ms == 150);  // 100 confirmed at 1100 + 50 ms of clock
  CHECK(cuts[1].item_id == "b");
  CHECK(cuts[1].audio_end_ms == 0);  // never started
  CHECK(ledger.empty());
  CHECK_FALSE(ledger.has_unplayed());
  CHECK(ledger.generation() == 2);

  // Echoes of marks sent before the cut are stale; new marks carry the new generation.
  CHECK(ledger.on_mark("1.3", 1160) == mark_result::stale);
  CHECK(ledger.on_mark("1.4", 1160) == mark_result::stale);
  const auto d = ledger.on_audio_received("d", "r2", 0, 80);
  const auto name = ledger.on_sent(d, 80, 1200);
  CHECK(name.rfind("2.", 0) == 0);
  CHECK(ledger.on_mark(name, 1210) == mark_result::played);
}

TEST_CASE("playback_ledger: cut_all puts the playing item first", "[call]") {
  playback_ledger ledger;
  // a has fully played but its audio is not done; b is playing.
  const auto a = ledger.on_audio_received("a", "r1", 0, 800);
  const auto b = ledger.on_audio_received("b", "r1", 0, 800);
  ledger.on_sent(a, 800, 1000);
  REQUIRE(ledger.on_mark("1.1", 1100) == mark_result::played);
  ledger.on_sent(b, 800, 1100);
  const auto cuts = ledger.cut_all(1120);
  REQUIRE(cuts.size() == 2);
  CHECK(cuts[0].item_id == "b");
  CHECK(cuts[0].audio_end_ms == 20);
  CHECK(cuts[1].item_id == "a");
  CHECK(cuts[1].audio_end_ms == 100);
}

TEST_CASE("playback_ledger: take_finished needs audio done and fully played, in order", "[call]") {
  playback_ledger ledger;
  const auto a = ledger.on_audio_received("a", "r", 0, 160);
  const auto b = ledger.on_audio_received("b", "r", 0, 160);
  ledger.on_sent(a, 160, 0);
  ledger.on_sent(b, 160, 0);
  ledger.on_audio_done("b");
  REQUIRE(ledger.on_mark("1.2", 40) == mark_result::played);
  // b is done and played, but a (in front) is not done.
  CHECK(ledger.take_finished().empty());
  ledger.on_audio_done("a");
  CHECK(ledger.take_finished() == std::vector<std::string>{"a", "b"});
  CHECK(ledger.empty());

  // Done but not yet played: stays.
  const auto c = ledger.on_audio_received("c", "r", 0, 160);
  ledger.on_audio_done("c");
  CHECK(ledger.take_finished().empty());
  ledger.on_sent(c, 160, 100);
  CHECK(ledger.take_finished().empty());
  REQUIRE(ledger.on_mark("1.3", 120) == mark_result::played);
  CHECK(ledger.take_finished() == std::vector<std::string>{"c"});
}
