// record/replay_script: what mediabridge-replay plays back from a recorded log, and when.

#include <catch2/catch.hpp>

#include "protocol/base64.hpp"
#include "record/replay_script.hpp"

using namespace mb::record;

namespace {

log_entry entry(double t, direction dir, payload_kind kind, std::string payload, std::uint64_t number = 0,
                std::string detail = {}) {
  log_entry e;
  e.t_ms = t;
  e.dir = dir;
  e.kind = kind;
  e.payload = std::move(payload);
  e.number = number;
  e.detail = std::move(detail);
  return e;
}
log_entry json_entry(double t, direction dir, std::string msg) { return entry(t, dir, payload_kind::json, std::move(msg)); }
log_entry opened(double t, std::uint64_t n) { return entry(t, direction::upstream_open, payload_kind::none, {}, n); }
log_entry closed(double t, std::uint64_t n, std::string detail = "connection lost") {
  return entry(t, direction::upstream_closed, payload_kind::none, {}, n, std::move(detail));
}
log_entry out(double t, std::string type) {
  return json_entry(t, direction::upstream_out, R"({"type":")" + type + R"("})");
}
log_entry in(double t, std::string type) {
  return json_entry(t, direction::upstream_in, R"({"type":")" + type + R"("})");
}
log_entry media(double t, int timestamp, std::string_view ulaw) {
  return json_entry(t, direction::twilio_in,
                    R"({"event":"media","media":{"timestamp":")" + std::to_string(timestamp) + R"(","payload":")" +
                        mb::protocol::base64_encode(ulaw) + R"("}})");
}
log_entry ended(double t, std::string reason) {
  return json_entry(t, direction::event, R"({"type":"call.ended","reason":")" + reason + R"("})");
}

}  // namespace

TEST_CASE("message_type is a message's type field, or a Gemini message's first key", "[record][replay_script]") {
  CHECK(message_type(R"({"type":"response.create","event_id":"e1"})") == "response.create");
  CHECK(message_type(R"({"realtimeInput":{"audio":{}}})") == "realtimeInput");
  CHECK(message_type(R"([1,2])").empty());
  CHECK(message_type("not json").empty());
}

TEST_CASE("the caller's audio is placed at its media timestamps, with silence in the gaps", "[record][replay_script]") {
  const std::string a(160, 'a'), b(160, 'b');
  const auto script = build_replay_script({media(20.4, 0, a), media(61.0, 40, b),
                                           json_entry(70, direction::twilio_in, R"({"event":"dtmf","dtmf":{"digit":"7"}})"),
                                           json_entry(80, direction::twilio_in, R"({"event":"stop"})")});
  REQUIRE(script.caller.ulaw.size() == 480);
  CHECK(script.caller.ulaw.substr(0, 160) == a);
  CHECK(script.caller.ulaw.substr(160, 160) == std::string(160, '\xFF'));
  CHECK(script.caller.ulaw.substr(320) == b);
  REQUIRE(script.caller.dtmf.size() == 1);
  CHECK(script.caller.dtmf[0].digit == '7');
  CHECK(script.caller.dtmf[0].t_ms == 70);
  CHECK(script.caller.stop_ms == 80);
  CHECK(script.caller.last_entry_ms == 80);
  CHECK(script.skipped.empty());
}

TEST_CASE("a provider message is triggered by the n-th bridge message of the type that preceded it",
          "[record][replay_script]") {
  const auto script = build_replay_script({
      opened(1, 1),
      in(6, "session.created"),  // 5 ms after the opening
      out(7, "session.update"),
      out(8, "input_audio_buffer.append"),
      in(9, "session.updated"),  // 1 ms after append #1
      out(28, "input_audio_buffer.append"),
      out(48, "input_audio_buffer.append"),
      in(50, "input_audio_buffer.speech_started"),  // 2 ms after append #3
  });
  REQUIRE(script.connections.size() == 1);
  const auto& steps = script.connections[0].steps;
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].trigger_type.empty());
  CHECK(steps[0].delay_ms == Approx(5));
  CHECK(steps[1].trigger_type == "input_audio_buffer.append");
  CHECK(steps[1].trigger_count == 1);
  CHECK(steps[1].delay_ms == Approx(1));
  CHECK(steps[2].trigger_count == 3);
  CHECK(steps[2].delay_ms == Approx(2));
  CHECK(steps[2].message == R"({"type":"input_audio_buffer.speech_started"})");

  provider_playback play(script.connections[0]);
  CHECK_FALSE(play.next_due());  // not open yet
  play.opened(100);
  CHECK(play.next_due() == Approx(105));
  CHECK(play.take_due(104.9) == nullptr);
  REQUIRE(play.take_due(105) == &steps[0]);
  play.received("session.update", 106);
  CHECK_FALSE(play.next_due());
  CHECK(play.waiting_for() == "input_audio_buffer.append #1");
  play.received("input_audio_buffer.append", 110);
  REQUIRE(play.take_due(111) == &steps[1]);
  play.received("input_audio_buffer.append", 130);
  CHECK_FALSE(play.next_due());  // #3 has not come yet
  play.received("input_audio_buffer.append", 150);
  CHECK(play.next_due() == Approx(152));
  REQUIRE(play.take_due(200) == &steps[2]);
  CHECK(play.finished());
  CHECK(play.waiting_for().empty());
}

TEST_CASE("provider steps keep their recorded order even when a later trigger arrives first", "[record][replay_script]") {
  const auto script = build_replay_script({
      opened(0, 1), out(10, "a"), in(50, "first"),  // 40 ms after a #1
      out(60, "b"), in(61, "second"),               // 1 ms after b #1
  });
  provider_playback play(script.connections[0]);
  play.opened(0);
  play.received("a", 10);
  play.received("b", 12);  // the bridge sent b sooner than in the recording
  CHECK(play.next_due() == Approx(50));
  REQUIRE(play.take_due(50));
  // second's own due time (13) has passed: it goes right after first, never before it.
  CHECK(play.next_due() == Approx(50));
  REQUIRE(play.take_due(50)->message == R"({"type":"second"})");
}

TEST_CASE("a connection the bridge reconnected after ends with a drop, the last one is left to the bridge",
          "[record][replay_script]") {
  const auto script = build_replay_script({
      opened(0, 1), out(10, "session.update"), in(20, "session.updated"),
      closed(500, 1),  // 490 ms after session.update #1
      opened(800, 2), out(810, "session.update"), in(815, "session.updated"),
      json_entry(900, direction::twilio_in, R"({"event":"stop"})"),
      closed(950, 2, "call ended"),
      ended(960, "caller_hung_up"),
  });
  REQUIRE(script.connections.size() == 2);
  CHECK(script.connections[0].connection == 1);
  REQUIRE(script.connections[0].steps.size() == 2);
  const auto& drop = script.connections[0].steps[1];
  CHECK(drop.what == provider_step::action::close);
  CHECK(drop.close_code == 0);  // "connection lost": no close frame
  CHECK(drop.trigger_type == "session.update");
  CHECK(drop.delay_ms == Approx(490));
  REQUIRE(script.connections[1].steps.size() == 1);
  CHECK(script.connections[1].steps[0].what == provider_step::action::send);
}

TEST_CASE("a provider that ended the call closes its last connection", "[record][replay_script]") {
  const auto script = build_replay_script(
      {opened(0, 1), out(5, "session.update"),
       closed(300, 1, "upstream closed the socket (code 1000, reason 'connection lifetime reached')"),
       ended(301, "upstream_closed")});
  REQUIRE(script.connections[0].steps.size() == 1);
  const auto& close = script.connections[0].steps[0];
  CHECK(close.what == provider_step::action::close);
  CHECK(close.close_code == 1000);
  CHECK(close.close_reason == "connection lifetime reached");
  CHECK(close.delay_ms == Approx(295));
}

TEST_CASE("masked entries are skipped and reported, a masked bridge message still counts as a trigger",
          "[record][replay_script]") {
  const auto script = build_replay_script({
      opened(0, 1),
      entry(100, direction::twilio_in, payload_kind::masked, "dtmf"),
      entry(101, direction::upstream_out, payload_kind::masked, "conversation.item.create"),
      entry(102, direction::upstream_in, payload_kind::masked, "conversation.item.created"),
      in(103, "response.created"),
      entry(104, direction::upstream_in, payload_kind::raw, "not json"),
      entry(105, direction::gap, payload_kind::none, {}, 4096),
  });
  CHECK(script.caller.dtmf.empty());
  REQUIRE(script.connections[0].steps.size() == 2);
  CHECK(script.connections[0].steps[0].trigger_type == "conversation.item.create");
  CHECK(script.connections[0].steps[0].delay_ms == Approx(2));
  CHECK(script.connections[0].steps[1].raw);
  CHECK(script.connections[0].steps[1].message == "not json");
  REQUIRE(script.skipped.size() == 3);
  CHECK(script.skipped[0] == "t=100.0 ms: a masked Twilio dtmf (its digits were never written): not replayed");
  CHECK(script.skipped[1] ==
        "t=102.0 ms: a masked provider conversation.item.created (its content was never written): not replayed");
  CHECK(script.skipped[2] == "t=105.0 ms: the recorder lost 4096 bytes of entries here: not replayed");
}

TEST_CASE("the skipped list is bounded", "[record][replay_script]") {
  std::vector<log_entry> entries;
  for (int i = 0; i < 100; ++i)
    entries.push_back(entry(double(i), direction::twilio_in, payload_kind::raw, "x"));
  const auto script = build_replay_script(entries);
  REQUIRE(script.skipped.size() == 33);
  CHECK(script.skipped.back() == "… and 68 more entries not replayed");
}

TEST_CASE("caller audio beyond the longest replayed call is not kept", "[record][replay_script]") {
  const auto script = build_replay_script({media(0, 0, std::string(160, 'a')), media(1000, 1000, std::string(160, 'b'))},
                                          {.max_call_ms = 500});
  CHECK(script.caller.ulaw.size() == 160);
  REQUIRE(script.skipped.size() == 1);
}
