// A scripted Realtime call, replayed through the call core exactly as the bridge runs it: raw JSON in
// from Twilio and from the provider, every message out to Twilio and to the provider rendered by the
// same builders the bridge uses, and every published event. The record must match
// recordings/realtime_call.txt byte for byte: it was written before the Realtime API moved behind the
// upstream adapter interface, and proves the move changed nothing on the wire.
//
// To re-record after an intended change: MB_RECORD=1 build/tests/unit_tests "[recording]".

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <simdjson.h>

#include "call/call_state.hpp"
#include "call/event_json.hpp"
#include "protocol/base64.hpp"
#include "protocol/twilio_messages.hpp"
#include "tests/unit/support/realtime_messages.hpp"
#include "upstream/realtime_adapter.hpp"

using namespace mb;

namespace {
using mb::test::said;
using mb::test::said_all;

constexpr std::string_view stream_sid = "MZ0123456789abcdef0123456789abcdef";
constexpr std::string_view call_sid = "CA0123456789abcdef0123456789abcdef";

std::string ulaw_b64(int ms, char fill) {
  return protocol::base64_encode(std::string(static_cast<std::size_t>(ms) * 8, fill));
}

// Feeds call_state and renders what it asks for, as bridge/call_session does.
class recorder {
 public:
  explicit recorder(call::call_options options) : state_(session(), std::move(options)) {
    state_.configure(session(), "Greet the caller.", "default");
  }

  static protocol::session_config session() {
    protocol::session_config s;
    s.instructions = "You are a test agent.";
    s.voice = "marin";
    s.transcription_model = "gpt-4o-mini-transcribe";
    return s;
  }

  // Advances time to `now`, waking the pacer whenever it asked to be woken before then.
  void advance(std::int64_t now) {
    for (auto wake = state_.next_wakeup(); wake && *wake <= now; wake = state_.next_wakeup()) {
      step([&](auto& out) { state_.on_tick(*wake, out); });
    }
  }

  void twilio(std::int64_t now, const std::string& json) {
    advance(now);
    record_ << "<- twilio " << json << '\n';
    auto buf = padded(json);
    REQUIRE_FALSE(twilio_parser_.parse(std::string_view(buf.data(), json.size()), buf.size(), twilio_msg_));
    step([&](auto& out) { state_.on_twilio(twilio_msg_, now, out); });
  }

  void upstream(std::int64_t now, const std::string& json) {
    advance(now);
    record_ << "<- upstream " << json << '\n';
    auto buf = padded(json);
    events_.clear();
    REQUIRE_FALSE(state_.upstream().translate(std::string_view(buf.data(), json.size()), buf.size(), now, events_));
    for (const auto& ev : events_) step([&](auto& out) { state_.on_upstream(ev, now, out); });
  }

  void upstream_connected(std::int64_t now) {
    advance(now);
    record_ << "-- upstream connected\n";
    step([&](auto& out) { state_.on_upstream_connected(out); });
  }

  void upstream_lost(std::int64_t now) {
    advance(now);
    record_ << "-- upstream lost\n";
    step([&](auto& out) { state_.on_upstream_lost(now, out); });
  }

  // Twilio reports every mark sent so far as played.
  void echo_marks(std::int64_t now) {
    auto marks = std::move(unechoed_);
    unechoed_.clear();
    for (const auto& name : marks)
      twilio(now, R"({"event":"mark","streamSid":")" + std::string(stream_sid) + R"(","mark":{"name":")" + name + R"("}})");
  }

  void finish() {
    record_ << "-- finish\n";
    step([&](auto& out) { state_.finish(out); });
  }

  [[nodiscard]] std::string text() const { return record_.str(); }

 private:
  static std::string padded(const std::string& json) {
    std::string buf = json;
    buf.resize(json.size() + simdjson::SIMDJSON_PADDING);
    return buf;
  }

  template <class F>
  void step(F&& f) {
    actions_.clear();
    f(actions_);
    for (const auto& a : actions_) std::visit([this](const auto& act) { render(act); }, a);
  }

  void render(const call::send_twilio_media& a) {
    wire_.clear();
    protocol::build_twilio_media(wire_, stream_sid, a.payload_b64);
    record_ << "-> twilio " << wire_ << '\n';
  }
  void render(const call::send_twilio_mark& a) {
    wire_.clear();
    protocol::build_twilio_mark(wire_, stream_sid, a.name);
    unechoed_.push_back(a.name);
    record_ << "-> twilio " << wire_ << '\n';
  }
  void render(const call::send_twilio_clear&) {
    wire_.clear();
    protocol::build_twilio_clear(wire_, stream_sid);
    record_ << "-> twilio " << wire_ << '\n';
  }
  void render(const call::send_upstream_audio& a) {
    wire_.clear();
    state_.upstream().append_caller_audio(wire_, a.payload_b64);
    record_ << "-> upstream " << wire_ << '\n';
  }
  void render(const call::send_upstream_event& a) { record_ << "-> upstream " << a.json << '\n'; }
  void render(const call::publish& a) {
    const call::event_context context{call_sid, stream_sid, "", "", 0};
    record_ << "-> listeners " << call::event_json(context, a.event) << '\n';
  }
  void render(const call::open_upstream&) { record_ << "-- open upstream\n"; }
  void render(const call::log_line& a) { record_ << "-- log " << a.text << '\n'; }
  void render(const call::end_call& a) { record_ << "-- end " << call::to_string(a.reason) << ": " << a.detail << '\n'; }
  void render(const call::restart_upstream& a) { record_ << "-- restart upstream: " << a.reason << '\n'; }
  void render(const call::renew_upstream& a) { record_ << "-- renew upstream: " << a.reason << '\n'; }
  void render(const call::invoke_tool& a) { record_ << "-- invoke tool " << a.tool_index << ": " << a.body << '\n'; }
  void render(const call::update_twilio_call& a) {
    record_ << "-- update call: " << (a.what == call::update_twilio_call::kind::hang_up ? "hang up" : a.twiml) << '\n';
  }

  call::call_state state_;
  protocol::twilio_parser twilio_parser_;
  protocol::twilio_message twilio_msg_;
  std::vector<upstream::event> events_;
  std::vector<call::action> actions_;
  std::vector<std::string> unechoed_;
  std::string wire_;
  std::ostringstream record_;
};

std::string media(std::int64_t timestamp_ms, char fill) {
  return R"({"event":"media","streamSid":")" + std::string(stream_sid) + R"(","media":{"track":"inbound","chunk":"1","timestamp":")" +
         std::to_string(timestamp_ms) + R"(","payload":")" + ulaw_b64(20, fill) + R"("}})";
}

std::string delta(std::string_view response, std::string_view item, int ms, char fill) {
  return R"({"type":"response.output_audio.delta","response_id":")" + std::string(response) + R"(","item_id":")" +
         std::string(item) + R"(","output_index":0,"content_index":0,"delta":")" + ulaw_b64(ms, fill) + R"("})";
}

std::string simple(std::string_view type, std::string_view response, std::string_view item = {}) {
  std::string json = R"({"type":")" + std::string(type) + R"(","response_id":")" + std::string(response) + '"';
  if (!item.empty()) json += R"(,"item_id":")" + std::string(item) + '"';
  return json + "}";
}

std::string response(std::string_view type, std::string_view id) {
  return R"({"type":")" + std::string(type) + R"(","response":{"id":")" + std::string(id) +
         R"(","status":"completed","usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}})";
}

const std::string session_updated =
    R"({"type":"session.updated","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"}},"output":{"format":{"type":"audio/pcmu"}}}}})";

// Greeting, an answer played to the end, a caller who interrupts the next one (truncate, late deltas
// dropped), DTMF, a lost session and its replacement told the conversation so far, a last answer and
// the hang-up. Paced as in production (300 ms lead, 150 ms chunks).
std::string record_realtime_call() {
  recorder r{call::call_options{}};
  const std::string sid(stream_sid);
  r.twilio(1000, R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  r.twilio(1000, R"({"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":")" + sid +
                     R"(","callSid":")" + std::string(call_sid) +
                     R"(","tracks":["inbound"],"customParameters":{"tenant":"acme","mb_token":"secret"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":")" +
                     sid + R"("})");
  r.twilio(1020, media(20, 'a'));
  r.upstream_connected(1030);
  r.twilio(1040, media(40, 'b'));
  r.upstream(1060, R"({"type":"session.created","session":{"type":"realtime"}})");
  r.upstream(1070, session_updated);
  r.twilio(1080, media(80, 'c'));
  // The greeting: 500 ms of audio in two deltas, played to the end.
  r.upstream(1100, R"({"type":"response.created","response":{"id":"resp_1","status":"in_progress"}})");
  r.upstream(1110, delta("resp_1", "item_1", 300, 'G'));
  r.upstream(1115, said("resp_1", "item_1", "Hello, "));
  r.upstream(1120, delta("resp_1", "item_1", 200, 'H'));
  r.upstream(1125, simple("response.output_audio.done", "resp_1", "item_1"));
  r.upstream(1130, said_all("resp_1", "item_1", "Hello, how can I help?"));
  r.upstream(1135, response("response.done", "resp_1"));
  r.echo_marks(1400);
  r.advance(1700);
  r.echo_marks(1700);
  // The caller asks; the answer is cut 250 ms in.
  r.upstream(1800, R"({"type":"input_audio_buffer.speech_started","audio_start_ms":780,"item_id":"item_2"})");
  r.twilio(1820, media(820, 'q'));
  r.upstream(2300, R"({"type":"input_audio_buffer.speech_stopped","audio_end_ms":1280,"item_id":"item_2"})");
  r.upstream(2310, R"({"type":"conversation.item.input_audio_transcription.delta","item_id":"item_2","content_index":0,"delta":"What time"})");
  r.upstream(2320, R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"item_2","content_index":0,"transcript":"What time is it?"})");
  r.upstream(2400, R"({"type":"response.created","response":{"id":"resp_2","status":"in_progress"}})");
  r.upstream(2410, delta("resp_2", "item_3", 600, 'A'));
  r.upstream(2415, said("resp_2", "item_3", "It is half past four in the afternoon."));
  r.echo_marks(2560);
  r.upstream(2660, R"({"type":"input_audio_buffer.speech_started","audio_start_ms":1640,"item_id":"item_4"})");
  r.upstream(2670, delta("resp_2", "item_3", 200, 'L'));
  r.upstream(2680, R"({"type":"conversation.item.truncated","item_id":"item_3","content_index":0,"audio_end_ms":150})");
  r.upstream(2690, said_all("resp_2", "item_3", "It is half past four in the afternoon."));
  r.upstream(2700, response("response.done", "resp_2"));
  r.twilio(2710, R"({"event":"dtmf","streamSid":")" + sid + R"(","sequenceNumber":"9","dtmf":{"track":"inbound_track","digit":"5"}})");
  r.upstream(2720, R"({"type":"error","error":{"type":"invalid_request_error","code":"item_truncate_invalid_item_id","message":"bad item","event_id":"mb_truncate"}})");
  // The session is lost; its replacement is told what the caller heard.
  r.upstream_lost(3000);
  r.twilio(3020, media(2020, 'x'));
  r.upstream_connected(3100);
  r.upstream(3150, session_updated);
  r.upstream(3200, R"({"type":"response.created","response":{"id":"resp_3","status":"in_progress"}})");
  r.upstream(3210, delta("resp_3", "item_5", 100, 'Z'));
  r.upstream(3215, simple("response.output_audio.done", "resp_3", "item_5"));
  r.upstream(3220, said_all("resp_3", "item_5", "Goodbye."));
  r.upstream(3225, response("response.done", "resp_3"));
  r.upstream(3230, R"({"type":"rate_limits.updated","rate_limits":[]})");
  r.upstream(3240, R"({"type":"brand.new_event"})");
  r.echo_marks(3400);
  r.upstream(3500, R"({"type":"error","error":{"type":"server_error","code":"internal","message":"try again"}})");
  r.twilio(3600, R"({"event":"stop","sequenceNumber":"40","streamSid":")" + sid + R"(","stop":{"accountSid":"AC1","callSid":")" +
                     std::string(call_sid) + R"("}})");
  r.finish();
  return r.text();
}

}  // namespace

TEST_CASE("a scripted Realtime call sends exactly the recorded messages", "[recording]") {
  const std::string path = std::string(MB_SOURCE_DIR) + "/tests/unit/call/recordings/realtime_call.txt";
  const auto recorded = record_realtime_call();
  if (std::getenv("MB_RECORD") != nullptr) {
    std::ofstream(path, std::ios::binary) << recorded;
    WARN("re-recorded " << path);
  }
  std::ifstream file(path, std::ios::binary);
  REQUIRE(file.good());
  std::stringstream expected;
  expected << file.rdbuf();
  // Line by line, so that a failure shows the first message that differs.
  std::istringstream got_lines(recorded), want_lines(expected.str());
  std::string got, want;
  int line = 0;
  while (std::getline(want_lines, want)) {
    ++line;
    INFO("line " << line);
    REQUIRE(std::getline(got_lines, got));
    REQUIRE(got == want);
  }
  INFO("the record has more lines than the recording (" << line << ")");
  CHECK_FALSE(std::getline(got_lines, got));
}
