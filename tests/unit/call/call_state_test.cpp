#include "call/call_state.hpp"
#include "protocol/stream_token.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "protocol/base64.hpp"
#include "upstream/realtime_adapter.hpp"

#include <simdjson.h>

using namespace mb::call;
namespace proto = mb::protocol;
using strings = std::vector<std::string>;

// Scripted calls: each step feeds call_state one input at an explicit time and compares the actions
// it returns, rendered as short strings, with a sequence worked out by hand from the scenario.
//
// Units: μ-law 8 kHz, 8 bytes per ms, so 800 bytes = 100 ms. Every call starts at local time 1000 ms;
// caller media carries timestamp = now - 1000, which keeps the Twilio clock at now - 1000.

namespace {

const std::string sid = "MZ0123456789abcdef0123456789abcdef";
constexpr std::int64_t t0 = 1000;

// `ms` of μ-law audio made of one repeated byte, so the rendering shows whose audio it is.
std::string audio_ms(std::int64_t ms, char fill) {
  return proto::base64_encode(std::string(static_cast<std::size_t>(ms) * 8, fill));
}

// "800A": 800 bytes, all 'A'; "800?" when mixed; "bad" when not base64.
std::string describe_payload(std::string_view b64) {
  const auto bytes = proto::base64_decode(b64);
  if (!bytes) return "bad";
  std::string text = std::to_string(bytes->size());
  if (bytes->empty()) return text;
  const bool uniform = bytes->find_first_not_of((*bytes)[0]) == std::string::npos;
  return text + (uniform ? (*bytes)[0] : '?');
}

std::string describe_upstream(const std::string& json_text) {
  const auto v = boost::json::parse(json_text);
  const auto& obj = v.as_object();
  const std::string type(obj.at("type").as_string());
  if (type == "conversation.item.truncate")
    return "truncate " + std::string(obj.at("item_id").as_string()) + " " +
           std::to_string(obj.at("content_index").as_int64()) + " " + std::to_string(obj.at("audio_end_ms").as_int64());
  if (type == "response.create") {
    if (const auto* r = obj.if_contains("response")) return type + " '" + std::string(r->at("instructions").as_string()) + "'";
    return type;
  }
  return type;
}

std::string describe_event(const call_event& ev) {
  struct visitor {
    std::string operator()(const call_started& e) const { return "started " + e.stream_sid; }
    std::string operator()(const transcript_delta& e) const {
      return std::string("delta ") + to_string(e.speaker) + " " + e.item_id + " '" + e.text + "'";
    }
    std::string operator()(const transcript_final& e) const {
      return std::string("final ") + to_string(e.speaker) + " " + e.item_id + " '" + e.text +
             "' interrupted=" + (e.interrupted ? "1" : "0") + " heard=" + std::to_string(e.heard_ms);
    }
    std::string operator()(const barge_in& e) const { return "barge_in " + e.item_id + " " + std::to_string(e.audio_end_ms); }
    std::string operator()(const dtmf& e) const { return "dtmf " + e.digit; }
    std::string operator()(const dtmf_input& e) const { return "dtmf_input " + e.digits; }
    std::string operator()(const tool_call& e) const { return "tool_call " + e.tool_call_id + " " + e.name; }
    std::string operator()(const tool_result& e) const {
      return "tool_result " + e.tool_call_id + (e.ok ? " ok " : " error ") + e.output;
    }
    std::string operator()(const call_control& e) const { return "control " + e.action + " " + e.status; }
    std::string operator()(const wire_message& e) const { return "wire " + e.direction + " " + e.type; }
    std::string operator()(const turn_waterfall& e) const { return "turn " + std::to_string(e.turn) + " " + e.item_id; }
  };
  return std::visit(visitor{}, ev);
}

std::string describe(const action& a) {
  struct visitor {
    std::string operator()(const send_twilio_media& m) const { return "media " + describe_payload(m.payload_b64); }
    std::string operator()(const send_twilio_mark& m) const { return "mark " + m.name; }
    std::string operator()(const send_twilio_clear&) const { return "clear"; }
    std::string operator()(const send_upstream_audio& m) const { return "audio " + describe_payload(m.payload_b64); }
    std::string operator()(const send_upstream_event& e) const { return describe_upstream(e.json); }
    std::string operator()(const open_upstream&) const { return "open_upstream"; }
    std::string operator()(const publish& p) const { return describe_event(p.event); }
    std::string operator()(const log_line& l) const {
      const char* levels[] = {"debug", "info", "warn", "error"};
      return std::string("log ") + levels[static_cast<int>(l.level)];
    }
    std::string operator()(const end_call& e) const { return std::string("end ") + to_string(e.reason); }
    std::string operator()(const restart_upstream&) const { return "restart_upstream"; }
    std::string operator()(const renew_upstream& r) const { return "renew_upstream '" + r.reason + "'"; }
    std::string operator()(const invoke_tool& t) const { return "invoke_tool " + std::to_string(t.tool_index); }
    std::string operator()(const update_twilio_call& u) const {
      return u.what == update_twilio_call::kind::hang_up ? "hang_up" : "redirect " + u.twiml;
    }
  };
  return std::visit(visitor{}, a);
}

call_options no_pacing() {
  call_options o;
  o.pacing_lead_ms = 0;
  return o;
}

// The Realtime API's adapter, counting how often the core tells it that playback was cleared and
// recording what the model is told besides audio (tool results, context text).
class observing_adapter final : public mb::upstream::adapter {
 public:
  explicit observing_adapter(int& cleared, strings* told = nullptr) : cleared_(cleared), told_(told) {}
  const mb::upstream::capabilities& caps() const noexcept override { return inner_.caps(); }
  void open_session(const proto::session_config& c, std::span<const mb::upstream::context_turn> h,
                    std::vector<std::string>& out) override {
    inner_.open_session(c, h, out);
  }
  void greet(std::string_view i, std::vector<std::string>& out) override { inner_.greet(i, out); }
  void append_caller_audio(std::string& out, std::string_view p) override { inner_.append_caller_audio(out, p); }
  void report_heard(std::string_view t, std::int64_t c, std::int64_t e, std::vector<std::string>& out) override {
    inner_.report_heard(t, c, e, out);
  }
  void cancel_response(std::vector<std::string>& out) override { inner_.cancel_response(out); }
  void send_tool_result(std::string_view id, std::string_view name, std::string_view output, bool respond,
                        std::vector<std::string>& out) override {
    if (told_) told_->push_back("result " + std::string(id) + " " + std::string(output) + (respond ? " respond" : ""));
    inner_.send_tool_result(id, name, output, respond, out);
  }
  void request_response(std::vector<std::string>& out) override {
    if (told_) told_->emplace_back("answer now");
    inner_.request_response(out);
  }
  void add_context_text(std::string_view text, bool respond, std::vector<std::string>& out) override {
    if (told_) told_->push_back("context " + std::string(text) + (respond ? " respond" : ""));
    inner_.add_context_text(text, respond, out);
  }
  void close_session(std::vector<std::string>& out) override { inner_.close_session(out); }
  void playback_cleared() override { ++cleared_; }
  std::optional<proto::parse_error> translate(std::string_view json, std::size_t capacity, std::int64_t now,
                                              std::vector<mb::upstream::event>& out) override {
    return inner_.translate(json, capacity, now, out);
  }

 private:
  mb::upstream::realtime_adapter inner_;
  int& cleared_;
  strings* told_;
};

// Drives one call_state. Inputs are kept alive in `keep` because parsed messages only hold views.
struct harness {
  explicit harness(call_options options = no_pacing(), proto::session_config session = {},
                   std::unique_ptr<mb::upstream::adapter> adapter = nullptr)
      : call(std::move(session), std::move(options), std::move(adapter)) {}

  call_state call;
  std::deque<std::string> keep;
  strings media_payloads;     // every payload sent to Twilio, in order
  strings upstream_payloads;  // every caller payload sent upstream, in order
  strings upstream_events;    // every JSON event sent upstream, in order
  std::vector<mb::upstream::event> translated;  // the last provider message, translated
  std::vector<action> last;   // the raw actions of the last step

  std::string_view hold(std::string s) { return keep.emplace_back(std::move(s)); }

  template <class F>
  strings run(F&& step) {
    last.clear();
    step(last);
    strings rendered;
    for (const auto& a : last) {
      rendered.push_back(describe(a));
      if (const auto* m = std::get_if<send_twilio_media>(&a)) media_payloads.emplace_back(m->payload_b64);
      if (const auto* m = std::get_if<send_upstream_audio>(&a)) upstream_payloads.emplace_back(m->payload_b64);
      if (const auto* e = std::get_if<send_upstream_event>(&a)) upstream_events.push_back(e->json);
    }
    return rendered;
  }

  strings twilio(const proto::twilio_message& m, std::int64_t now) {
    return run([&](auto& out) { call.on_twilio(m, now, out); });
  }
  // One provider message, translated by the call's own adapter (the Realtime API's) as the bridge does.
  strings realtime(const boost::json::object& message, std::int64_t now) {
    auto json = boost::json::serialize(message);
    const auto size = json.size();
    json.resize(size + simdjson::SIMDJSON_PADDING);
    translated.clear();
    REQUIRE_FALSE(call.upstream().translate(std::string_view(json.data(), size), json.size(), now, translated));
    strings rendered;
    for (const auto& ev : translated) {
      auto more = run([&](auto& out) { call.on_upstream(ev, now, out); });
      rendered.insert(rendered.end(), more.begin(), more.end());
    }
    return rendered;
  }
  strings tick(std::int64_t now) {
    return run([&](auto& out) { call.on_tick(now, out); });
  }
  strings connected() {
    return run([&](auto& out) { call.on_upstream_connected(out); });
  }
  strings finish() {
    return run([&](auto& out) { call.finish(out); });
  }

  // ---- Twilio inputs
  static proto::twilio_start good_start() {
    proto::twilio_start s;
    s.stream_sid = sid;
    s.call_sid = "CA0123456789abcdef0123456789abcdef";
    s.account_sid = "AC1";
    s.custom_parameters = {{"tenant", "acme"}};
    s.encoding = "audio/x-mulaw";
    s.sample_rate = 8000;
    s.channels = 1;
    return s;
  }
  strings start(std::int64_t now = t0, proto::twilio_start s = good_start()) {
    proto::twilio_message m;
    m.event = proto::twilio_event::start;
    m.event_name = "start";
    m.stream_sid = hold(s.stream_sid);
    m.start = std::move(s);
    return twilio(m, now);
  }
  strings media(std::string payload, std::int64_t now, std::string track = "inbound") {
    proto::twilio_message m;
    m.event = proto::twilio_event::media;
    m.event_name = "media";
    m.stream_sid = sid;
    m.media.track = hold(std::move(track));
    m.media.timestamp_ms = now - t0;
    m.media.payload = hold(std::move(payload));
    return twilio(m, now);
  }
  strings mark(std::string name, std::int64_t now) {
    proto::twilio_message m;
    m.event = proto::twilio_event::mark;
    m.event_name = "mark";
    m.stream_sid = sid;
    m.mark_name = hold(std::move(name));
    return twilio(m, now);
  }
  strings simple_twilio(proto::twilio_event event, std::string name, std::int64_t now) {
    proto::twilio_message m;
    m.event = event;
    m.event_name = hold(std::move(name));
    m.stream_sid = sid;
    return twilio(m, now);
  }

  // ---- Realtime inputs
  strings session_updated(std::int64_t now = t0, std::string in = "audio/pcmu", std::string out = "audio/pcmu") {
    return realtime({{"type", "session.updated"},
                     {"session", {{"audio", {{"input", {{"format", {{"type", in}}}}}, {"output", {{"format", {{"type", out}}}}}}}}}},
                    now);
  }
  strings created(std::string resp, std::int64_t now) {
    return realtime({{"type", "response.created"}, {"response", {{"id", resp}}}}, now);
  }
  strings delta(std::string resp, std::string item, std::string payload, std::int64_t now, std::int64_t content_index = 0) {
    return realtime({{"type", "response.output_audio.delta"}, {"response_id", resp}, {"item_id", item},
                     {"content_index", content_index}, {"delta", payload}},
                    now);
  }
  strings audio_done(std::string resp, std::string item, std::int64_t now) {
    return realtime({{"type", "response.output_audio.done"}, {"response_id", resp}, {"item_id", item}}, now);
  }
  strings said(std::string resp, std::string item, std::string text, std::int64_t now) {
    return realtime({{"type", "response.output_audio_transcript.delta"}, {"response_id", resp}, {"item_id", item},
                     {"delta", text}},
                    now);
  }
  strings said_all(std::string resp, std::string item, std::string text, std::int64_t now) {
    return realtime({{"type", "response.output_audio_transcript.done"}, {"response_id", resp}, {"item_id", item},
                     {"transcript", text}},
                    now);
  }
  strings speech(std::int64_t now) { return realtime({{"type", "input_audio_buffer.speech_started"}}, now); }
  strings response_done(std::string resp, std::int64_t now, proto::token_usage usage = {}) {
    return realtime({{"type", "response.done"},
                     {"response",
                      {{"id", resp},
                       {"status", "completed"},
                       {"usage",
                        {{"input_tokens", usage.input_tokens},
                         {"output_tokens", usage.output_tokens},
                         {"total_tokens", usage.total_tokens}}}}}},
                    now);
  }
  strings error(std::string code, std::string event_id, std::int64_t now) {
    return realtime({{"type", "error"},
                     {"error",
                      {{"type", "invalid_request_error"},
                       {"code", code},
                       {"message", "something went wrong"},
                       {"event_id", event_id}}}},
                    now);
  }

  // Start, connect and confirm the session at t0; the actions of these steps are not checked here.
  void ready() {
    start(t0);
    connected();
    session_updated(t0);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Call setup

TEST_CASE("call_state: start opens the upstream, connect sends session.update", "[call]") {
  proto::session_config cfg;
  cfg.voice = "cedar";
  harness h(no_pacing(), cfg);
  CHECK_FALSE(h.call.started());
  CHECK(h.start() == strings{"started " + sid, "open_upstream"});
  CHECK(h.call.started());
  REQUIRE(h.call.start_info() != nullptr);
  CHECK(h.call.start_info()->stream_sid == sid);
  const auto& started = std::get<call_started>(std::get<publish>(h.last[0]).event);
  CHECK(started.parameters == std::vector<std::pair<std::string, std::string>>{{"tenant", "acme"}});

  CHECK(h.connected() == strings{"session.update"});
  CHECK(h.upstream_events.back() == proto::build_session_update(cfg));
  CHECK_FALSE(h.call.upstream_ready());
  CHECK(h.session_updated() == strings{});
  CHECK(h.call.upstream_ready());
}

TEST_CASE("call_state: our own mb_ parameters (the stream token) are not published with call.started", "[call]") {
  harness h(no_pacing());
  auto s = harness::good_start();
  s.custom_parameters.emplace_back(std::string(proto::stream_token_parameter), "1700000000.secret");
  s.custom_parameters.emplace_back("From", "+15551234567");
  h.start(t0, s);
  const auto& started = std::get<call_started>(std::get<publish>(h.last[0]).event);
  CHECK(started.parameters ==
        std::vector<std::pair<std::string, std::string>>{{"tenant", "acme"}, {"From", "+15551234567"}});
}

TEST_CASE("call_state: a start with the wrong media format ends the call", "[call]") {
  auto s = harness::good_start();
  SECTION("encoding") { s.encoding = "audio/x-alaw"; }
  SECTION("sample rate") { s.sample_rate = 16000; }
  SECTION("channels") { s.channels = 2; }
  harness h;
  CHECK(h.start(t0, s) == strings{"end bad_media_format"});
  CHECK_FALSE(h.call.started());
  // Nothing more happens on an ended call.
  CHECK(h.media(audio_ms(20, 'a'), t0 + 20) == strings{});
  CHECK(h.start() == strings{});
}

TEST_CASE("call_state: a start with an unsafe stream or call SID ends the call", "[call]") {
  auto s = harness::good_start();
  SECTION("stream SID") { s.stream_sid = "MZ\"1"; }
  SECTION("call SID") { s.call_sid = ""; }
  harness h;
  CHECK(h.start(t0, s) == strings{"end bad_input"});
  CHECK_FALSE(h.call.started());
}

TEST_CASE("call_state: a second start is ignored", "[call]") {
  harness h;
  h.start();
  auto s = harness::good_start();
  s.stream_sid = "MZ2";
  CHECK(h.start(t0 + 5, s) == strings{"log warn"});
  CHECK(h.call.start_info()->stream_sid == sid);
}

TEST_CASE("call_state: media before start is dropped, with one warning", "[call]") {
  harness h;
  CHECK(h.media(audio_ms(20, 'a'), t0 - 40) == strings{"log warn"});
  CHECK(h.media(audio_ms(20, 'b'), t0 - 20) == strings{});
  CHECK(h.call.stats().invalid_frames == 2);
  h.start();
  h.connected();
  // Nothing from before the start is flushed.
  CHECK(h.session_updated() == strings{});
  CHECK(h.media(audio_ms(20, 'c'), t0 + 20) == strings{"audio 160c"});
}

TEST_CASE("call_state: caller audio before session.updated is buffered and flushed in order", "[call]") {
  call_options o = no_pacing();
  o.pre_connect_buffer_ms = 2000;
  SECTION("without a greeting") {
    harness h(o);
    h.start();
    h.connected();
    CHECK(h.media(audio_ms(20, 'a'), t0 + 20) == strings{});
    CHECK(h.media(audio_ms(20, 'b'), t0 + 40) == strings{});
    CHECK(h.media(audio_ms(20, 'c'), t0 + 60) == strings{});
    CHECK(h.session_updated(t0 + 100) == strings{"audio 160a", "audio 160b", "audio 160c"});
    // The flushed payloads are exactly what the caller sent.
    CHECK(h.upstream_payloads == strings{audio_ms(20, 'a'), audio_ms(20, 'b'), audio_ms(20, 'c')});
    CHECK(h.media(audio_ms(20, 'd'), t0 + 120) == strings{"audio 160d"});
    CHECK(h.call.stats().caller_frames == 4);
    CHECK(h.call.stats().caller_bytes == 640);
    CHECK(h.call.stats().buffered_frames_dropped == 0);
    // A repeated session.updated does not flush again.
    CHECK(h.session_updated(t0 + 130) == strings{});
  }
  SECTION("with a greeting, the response.create follows the flushed audio") {
    o.greeting = "Greet the caller.";
    harness h(o);
    h.start();
    h.connected();
    h.media(audio_ms(20, 'a'), t0 + 20);
    CHECK(h.session_updated(t0 + 100) == strings{"audio 160a", "response.create 'Greet the caller.'"});
    CHECK(h.upstream_events.back() == proto::build_response_create("Greet the caller."));
  }
}

TEST_CASE("call_state: the pre-connect buffer keeps the newest audio", "[call]") {
  call_options o = no_pacing();
  o.pre_connect_buffer_ms = 40;
  harness h(o);
  h.start();
  CHECK(h.media(audio_ms(20, 'a'), t0 + 20) == strings{});
  CHECK(h.media(audio_ms(20, 'b'), t0 + 40) == strings{});
  CHECK(h.media(audio_ms(20, 'c'), t0 + 60) == strings{"log warn"});  // 'a' dropped
  CHECK(h.media(audio_ms(20, 'd'), t0 + 80) == strings{});            // 'b' dropped, warned once
  CHECK(h.call.stats().buffered_frames_dropped == 2);
  CHECK(h.session_updated(t0 + 100) == strings{"audio 160c", "audio 160d"});
}

TEST_CASE("call_state: session.updated without audio/pcmu both ways ends the call", "[call]") {
  std::string in = "audio/pcmu", out = "audio/pcmu";
  SECTION("input pcm") { in = "audio/pcm"; }
  SECTION("output pcma") { out = "audio/pcma"; }
  SECTION("formats missing") { in = out = ""; }
  harness h;
  h.start();
  h.connected();
  h.media(audio_ms(20, 'a'), t0 + 20);
  CHECK(h.session_updated(t0 + 50, in, out) == strings{"end format_mismatch"});
  CHECK_FALSE(h.call.upstream_ready());
  CHECK(h.media(audio_ms(20, 'b'), t0 + 60) == strings{});
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 70) == strings{});
}

TEST_CASE("call_state: upstream errors", "[call]") {
  harness h;
  h.start();
  h.connected();
  SECTION("an error about session.update ends the call") {
    h.session_updated();
    CHECK(h.error("unknown_parameter", std::string(proto::session_update_event_id), t0 + 10) ==
          strings{"end upstream_error"});
    CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 20) == strings{});
  }
  SECTION("any error before the session is confirmed ends the call") {
    CHECK(h.error("invalid_event", "", t0 + 10) == strings{"end upstream_error"});
  }
  SECTION("later errors are logged and the call goes on") {
    h.session_updated();
    CHECK(h.error("response_cancel_not_active", "evt_7", t0 + 10) == strings{"log warn"});
    CHECK(h.error("", "", t0 + 11) == strings{"log warn"});
    CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 20) == strings{"media 800A", "mark 1.1"});
  }
}

TEST_CASE("call_state: end_reason names", "[call]") {
  CHECK(std::string(to_string(end_reason::caller_hung_up)) == "caller_hung_up");
  CHECK(std::string(to_string(end_reason::format_mismatch)) == "format_mismatch");
  CHECK(std::string(to_string(end_reason::bad_media_format)) == "bad_media_format");
  CHECK(std::string(to_string(end_reason::slow_peer)) == "slow_peer");
  CHECK(std::string(to_string(end_reason::upstream_error)) == "upstream_error");
}

// ---------------------------------------------------------------------------------------------
// Twilio side

TEST_CASE("call_state: caller media is forwarded unchanged once ready", "[call]") {
  harness h;
  h.ready();
  const auto frame = audio_ms(20, 'x');
  CHECK(h.media(frame, t0 + 20) == strings{"audio 160x"});
  CHECK(h.upstream_payloads == strings{frame});
  // Only the inbound track is the caller.
  CHECK(h.media(audio_ms(20, 'y'), t0 + 40, "outbound") == strings{});
  CHECK(h.media(audio_ms(20, 'z'), t0 + 60, "") == strings{"audio 160z"});
  CHECK(h.call.stats().caller_frames == 2);
}

TEST_CASE("call_state: caller media with invalid base64 is dropped", "[call]") {
  harness h;
  h.ready();
  CHECK(h.media("abc", t0 + 20) == strings{"log warn"});
  CHECK(h.media("ab=c", t0 + 40) == strings{});  // warned once
  CHECK(h.media("AA*A", t0 + 60) == strings{});
  CHECK(h.call.stats().invalid_frames == 3);
  CHECK(h.call.stats().caller_frames == 0);
  CHECK(h.media(audio_ms(20, 'a'), t0 + 80) == strings{"audio 160a"});
}

TEST_CASE("call_state: dtmf, unknown events, stop", "[call]") {
  harness h;
  h.ready();
  proto::twilio_message d;
  d.event = proto::twilio_event::dtmf;
  d.dtmf_digit = "7";
  CHECK(h.twilio(d, t0 + 10) == strings{"dtmf 7"});
  CHECK(h.simple_twilio(proto::twilio_event::unknown, "wat", t0 + 20) == strings{"log warn"});
  CHECK(h.simple_twilio(proto::twilio_event::connected, "connected", t0 + 25) == strings{});
  CHECK(h.simple_twilio(proto::twilio_event::stop, "stop", t0 + 30) == strings{"end caller_hung_up"});
  // After the end, inputs are ignored.
  CHECK(h.media(audio_ms(20, 'a'), t0 + 40) == strings{});
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 50) == strings{});
  CHECK(h.speech(t0 + 60) == strings{});
}

TEST_CASE("call_state: DTMF is rate-limited per call, the excess and non-keys are dropped, counted, warned once",
          "[call]") {
  harness h;
  h.ready();
  auto key = [&](std::string digit, std::int64_t now) {
    proto::twilio_message d;
    d.event = proto::twilio_event::dtmf;
    d.dtmf_digit = h.hold(std::move(digit));
    return h.twilio(d, now);
  };
  // A burst of 20 goes through at once; the 21st is dropped with the call's only warning.
  for (int i = 0; i < 20; ++i) REQUIRE(key("#", t0) == strings{"dtmf #"});
  CHECK(key("1", t0) == strings{"log warn"});
  CHECK(key("2", t0 + 99) == strings{});
  CHECK(key("3", t0 + 100) == strings{"dtmf 3"});  // 10 per second: one per 100 ms
  // A flood: 5,000 keys in 5 s yield the 50 the rate allows.
  int published = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto step = key("9", t0 + 100 + i + 1);  // every 32nd key also hands a digit string over
    published += !step.empty() && step.front() == "dtmf 9" ? 1 : 0;
  }
  CHECK(published == 50);
  CHECK(h.call.stats().dtmf_dropped == 2 + 5000 - 50);
  // Not a key (Twilio sends one of 0-9 * # A-D): dropped, even with tokens to spare.
  const auto later = t0 + 100000;
  for (const char* bad : {"", "55", "x", "\n", "\xc3\xa9"}) CHECK(key(bad, later) == strings{});
  CHECK(h.call.stats().dtmf_dropped == 2 + 5000 - 50 + 5);
  CHECK(key("D", later) == strings{"dtmf D"});
}

TEST_CASE("call_state: unknown mark names are ignored, with one warning", "[call]") {
  harness h;
  h.ready();
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
  CHECK(h.audio_done("r1", "a", t0 + 1) == strings{});
  CHECK(h.said_all("r1", "a", "Hi.", t0 + 2) == strings{});
  CHECK(h.mark("item_9:320:m7", t0 + 50) == strings{"log warn"});
  CHECK(h.mark("9.1", t0 + 60) == strings{});  // a future generation: unknown, warned once already
  CHECK(h.mark("1.2", t0 + 70) == strings{});  // never sent
  CHECK(h.call.ledger().has_unplayed());
  // The real echo still counts.
  CHECK(h.mark("1.1", t0 + 100) == strings{"final assistant a 'Hi.' interrupted=0 heard=-1"});
  CHECK_FALSE(h.call.ledger().has_unplayed());
}

// ---------------------------------------------------------------------------------------------
// Assistant audio: chunks, marks, pacing

TEST_CASE("call_state: large deltas are split into base64-aligned chunks", "[call]") {
  std::string bytes(2500, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7 % 251);
  const auto b64 = proto::base64_encode(bytes);
  REQUIRE(b64.back() == '=');  // 2500 is not a multiple of 3: the last chunk carries the padding

  auto check_chunks = [&](std::uint64_t max_chunk, const std::vector<std::size_t>& expected_sizes) {
    call_options o = no_pacing();
    o.max_chunk_bytes = max_chunk;
    harness h(o);
    h.ready();
    const auto rendered = h.delta("r1", "a", b64, t0);
    REQUIRE(h.media_payloads.size() == expected_sizes.size());
    REQUIRE(rendered.size() == 2 * expected_sizes.size());
    std::string joined;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < expected_sizes.size(); ++i) {
      INFO("chunk " << i);
      const auto& chunk = h.media_payloads[i];
      CHECK(proto::is_base64(chunk));
      const auto decoded = proto::base64_decode(chunk);
      REQUIRE(decoded);
      CHECK(decoded->size() == expected_sizes[i]);
      CHECK(*decoded == bytes.substr(offset, expected_sizes[i]));
      offset += decoded->size();
      joined += chunk;
      // Every chunk is followed by its own mark.
      CHECK(rendered[2 * i + 1] == "mark 1." + std::to_string(i + 1));
    }
    CHECK(joined == b64);
    CHECK(h.call.stats().assistant_chunks == expected_sizes.size());
    CHECK(h.call.stats().assistant_bytes == 2500);
    CHECK(h.call.ledger().find("a")->sent_bytes == 2500);
  };
  SECTION("150 ms chunks") { check_chunks(1200, {1200, 1200, 100}); }
  SECTION("a chunk size that is not a multiple of 3 is rounded down") { check_chunks(1000, {999, 999, 502}); }
  SECTION("one big chunk") { check_chunks(3000, {2500}); }
  SECTION("tiny chunks") {
    call_options o = no_pacing();
    o.max_chunk_bytes = 1;  // rounded up to 3 bytes, the smallest aligned chunk
    harness h(o);
    h.ready();
    h.delta("r1", "a", proto::base64_encode("abcdefg"), t0);
    CHECK(h.media_payloads == strings{proto::base64_encode("abc"), proto::base64_encode("def"), proto::base64_encode("g")});
  }
}

TEST_CASE("call_state: invalid or early assistant audio is dropped", "[call]") {
  harness h;
  h.start();
  h.connected();
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 5) == strings{"log warn"});  // before session.updated
  h.session_updated(t0 + 10);
  CHECK(h.delta("r1", "a", "not base64!", t0 + 20) == strings{"log warn"});
  CHECK(h.delta("r1", "a", "@@@@", t0 + 21) == strings{});
  CHECK(h.call.stats().invalid_frames == 2);
  CHECK(h.call.ledger().empty());
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 30) == strings{"media 800A", "mark 1.1"});
}

TEST_CASE("call_state: pacing 0 forwards everything at once", "[call]") {
  harness h;  // pacing_lead_ms = 0
  h.ready();
  CHECK(h.delta("r1", "a", audio_ms(900, 'A'), t0) ==
        strings{"media 1200A", "mark 1.1", "media 1200A", "mark 1.2", "media 1200A", "mark 1.3",
                "media 1200A", "mark 1.4", "media 1200A", "mark 1.5", "media 1200A", "mark 1.6"});
  CHECK(h.call.queued_chunks() == 0);
  CHECK_FALSE(h.call.next_wakeup());
  CHECK(h.tick(t0 + 10) == strings{});
}

TEST_CASE("call_state: pacing keeps at most pacing_lead_ms ahead of playout", "[call]") {
  call_options o;
  o.pacing_lead_ms = 300;
  o.max_chunk_bytes = 1200;  // 150 ms
  harness h(o);
  h.ready();
  // 900 ms = six 150 ms chunks. Two fit in the 300 ms lead; a third would put 450 ms ahead.
  CHECK(h.delta("r1", "a", audio_ms(900, 'A'), t0) == strings{"media 1200A", "mark 1.1", "media 1200A", "mark 1.2"});
  CHECK(h.call.queued_chunks() == 4);
  // Playout ends at 1300; the next chunk fits when 150 ms are left: at 1150.
  REQUIRE(h.call.next_wakeup() == 1150);
  CHECK(h.tick(1149) == strings{});
  CHECK(h.tick(1150) == strings{"media 1200A", "mark 1.3"});
  REQUIRE(h.call.next_wakeup() == 1300);
  // A late tick catches up without exceeding the lead: at 1400 playout ends at 1450 (50 ms ahead),
  // one chunk brings it to 200 ms, a second would make 350.
  CHECK(h.tick(1400) == strings{"media 1200A", "mark 1.4"});
  REQUIRE(h.call.next_wakeup() == 1450);
  CHECK(h.tick(1450) == strings{"media 1200A", "mark 1.5"});
  REQUIRE(h.call.next_wakeup() == 1600);
  CHECK(h.tick(1600) == strings{"media 1200A", "mark 1.6"});
  CHECK(h.call.queued_chunks() == 0);
  CHECK_FALSE(h.call.next_wakeup());
  CHECK(h.call.stats().assistant_bytes == 7200);
}

TEST_CASE("call_state: pacing with chunks that do not divide the lead", "[call]") {
  call_options o;
  o.pacing_lead_ms = 250;
  o.max_chunk_bytes = 800;  // 100 ms (rounded down to 798 bytes = 99 ms: a multiple of 3)
  harness h(o);
  h.ready();
  // 798-byte chunks last 99.75 ms; two are ~200 ms ahead, a third would be ~300 > 250.
  CHECK(h.delta("r1", "a", audio_ms(500, 'A'), t0) == strings{"media 798A", "mark 1.1", "media 798A", "mark 1.2"});
  // Playout of the 1596 bytes sent at 1000 ends at 1199.5 ms; a third chunk fits once at most
  // 250 - 99.75 = 150.25 ms remain, at 1049.25: the first whole ms is 1050.
  REQUIRE(h.call.next_wakeup() == 1050);
  CHECK(h.tick(1049) == strings{});
  CHECK(h.tick(1050) == strings{"media 798A", "mark 1.3"});
}

TEST_CASE("call_state: a chunk longer than the lead still goes out when nothing is ahead", "[call]") {
  call_options o;
  o.pacing_lead_ms = 100;
  o.max_chunk_bytes = 1200;  // 150 ms
  harness h(o);
  h.ready();
  CHECK(h.delta("r1", "a", audio_ms(300, 'A'), t0) == strings{"media 1200A", "mark 1.1"});
  REQUIRE(h.call.next_wakeup() == 1150);
  CHECK(h.tick(1149) == strings{});
  CHECK(h.tick(1150) == strings{"media 1200A", "mark 1.2"});
}

TEST_CASE("call_state: pacing keeps the order of chunks across deltas and items", "[call]") {
  call_options o;
  o.pacing_lead_ms = 200;
  o.max_chunk_bytes = 800;  // 798 bytes
  harness h(o);
  h.ready();
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 798A", "mark 1.1", "media 2A", "mark 1.2"});
  CHECK(h.delta("r1", "b", audio_ms(300, 'B'), t0) == strings{"media 798B", "mark 1.3"});
  CHECK(h.delta("r1", "b", audio_ms(100, 'C'), t0) == strings{});
  strings sent;
  for (std::int64_t now = t0; now <= t0 + 1000; now += 10)
    for (auto& s : h.tick(now))
      if (s.rfind("media", 0) == 0) sent.push_back(s);
  CHECK(sent == strings{"media 798B", "media 798B", "media 6B", "media 798C", "media 2C"});
}

TEST_CASE("call_state: too much audio held back by pacing ends the call", "[call]") {
  call_options o;
  o.max_chunk_bytes = 1200;
  o.max_queued_audio_ms = 500;
  SECTION("with pacing: what cannot be sent is over the limit") {
    o.pacing_lead_ms = 300;
    harness h(o);
    h.ready();
    CHECK(h.delta("r1", "a", audio_ms(900, 'A'), t0) ==
          strings{"media 1200A", "mark 1.1", "media 1200A", "mark 1.2", "end slow_peer"});
    CHECK_FALSE(h.call.next_wakeup());
    CHECK(h.tick(2000) == strings{});
  }
  SECTION("without pacing nothing is held back") {
    o.pacing_lead_ms = 0;
    harness h(o);
    h.ready();
    const auto out = h.delta("r1", "a", audio_ms(900, 'A'), t0);
    CHECK(out.size() == 12);
    CHECK(std::find(out.begin(), out.end(), "end slow_peer") == out.end());
  }
}

// ---------------------------------------------------------------------------------------------
// Transcripts and usage

TEST_CASE("call_state: caller transcripts are published as they come", "[call]") {
  harness h;
  h.ready();
  CHECK(h.realtime({{"type", "conversation.item.input_audio_transcription.delta"}, {"item_id", "u1"}, {"delta", "I need"}},
                   t0 + 10) == strings{"delta caller u1 'I need'"});
  CHECK(h.realtime({{"type", "conversation.item.input_audio_transcription.completed"},
                    {"item_id", "u1"},
                    {"transcript", "I need help."}},
                   t0 + 20) == strings{"final caller u1 'I need help.' interrupted=0 heard=-1"});
  CHECK(h.realtime({{"type", "conversation.item.input_audio_transcription.failed"}, {"item_id", "u2"}}, t0 + 30) ==
        strings{"log warn"});
}

TEST_CASE("call_state: an assistant final waits until its audio has played", "[call]") {
  harness h;
  h.ready();
  CHECK(h.created("r1", t0) == strings{});
  CHECK(h.said("r1", "a", "Hel", t0) == strings{"delta assistant a 'Hel'"});
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
  SECTION("transcript done first") {
    CHECK(h.audio_done("r1", "a", t0 + 1) == strings{});
    CHECK(h.said_all("r1", "a", "Hello.", t0 + 2) == strings{});
    CHECK(h.mark("1.1", t0 + 100) == strings{"final assistant a 'Hello.' interrupted=0 heard=-1"});
  }
  SECTION("audio played first") {
    CHECK(h.audio_done("r1", "a", t0 + 1) == strings{});
    CHECK(h.mark("1.1", t0 + 100) == strings{});
    CHECK(h.said_all("r1", "a", "Hello.", t0 + 102) == strings{"final assistant a 'Hello.' interrupted=0 heard=-1"});
  }
  SECTION("played but not done: more audio may come") {
    CHECK(h.mark("1.1", t0 + 100) == strings{});
    CHECK(h.said_all("r1", "a", "Hello.", t0 + 102) == strings{});
    CHECK(h.delta("r1", "a", audio_ms(50, 'A'), t0 + 110) == strings{"media 400A", "mark 1.2"});
    CHECK(h.audio_done("r1", "a", t0 + 111) == strings{});
    CHECK(h.mark("1.2", t0 + 160) == strings{"final assistant a 'Hello.' interrupted=0 heard=-1"});
  }
  CHECK(h.call.ledger().empty());
  // Published once only.
  CHECK(h.finish() == strings{});
}

TEST_CASE("call_state: assistant finals are published in turn order", "[call]") {
  harness h;
  h.ready();
  h.delta("r1", "a", audio_ms(100, 'A'), t0);
  h.audio_done("r1", "a", t0);
  h.delta("r2", "b", audio_ms(100, 'B'), t0 + 10);
  h.audio_done("r2", "b", t0 + 10);
  CHECK(h.said_all("r2", "b", "Second.", t0 + 11) == strings{});
  CHECK(h.mark("1.2", t0 + 200) == strings{});  // b played, but a's transcript is not done
  CHECK(h.said_all("r1", "a", "First.", t0 + 201) ==
        strings{"final assistant a 'First.' interrupted=0 heard=-1", "final assistant b 'Second.' interrupted=0 heard=-1"});
}

TEST_CASE("call_state: finish publishes turns that never completed", "[call]") {
  harness h;
  h.ready();
  h.said("r1", "a", "Let me", t0);
  h.delta("r1", "a", audio_ms(100, 'A'), t0);
  CHECK(h.finish() == strings{"final assistant a 'Let me' interrupted=0 heard=-1"});
  CHECK(h.finish() == strings{});
}

TEST_CASE("call_state: usage is summed over response.done", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.response_done("r1", t0 + 10, {100, 20, 120}) == strings{});
  h.created("r2", t0 + 20);
  CHECK(h.response_done("r2", t0 + 30, {7, 3, 10}) == strings{});
  CHECK(h.call.stats().usage.input_tokens == 107);
  CHECK(h.call.stats().usage.output_tokens == 23);
  CHECK(h.call.stats().usage.total_tokens == 130);
}

// ---------------------------------------------------------------------------------------------
// Barge-in. Pacing off unless stated: every delta goes to Twilio at once.

TEST_CASE("barge-in: before the first delta", "[call]") {
  harness h;
  h.ready();
  CHECK(h.created("r1", t0) == strings{});
  // Nothing was played: no clear, no truncate (the item has no audio to truncate).
  CHECK(h.speech(t0 + 10) == strings{});
  // The server cancels r1 (interrupt_response); what still arrives of it is dropped.
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 20) == strings{});
  CHECK(h.said("r1", "a", "Sure", t0 + 21) == strings{});
  CHECK(h.audio_done("r1", "a", t0 + 22) == strings{});
  CHECK(h.call.stats().late_deltas_dropped == 1);
  CHECK(h.call.stats().barge_ins == 0);
  CHECK(h.call.stats().truncates_sent == 0);
  CHECK(h.call.ledger().empty());
  // The caller heard none of it.
  CHECK(h.said_all("r1", "a", "Sure, let me", t0 + 23) == strings{"final assistant a 'Sure, let me' interrupted=1 heard=0"});
  // The next response plays normally.
  h.created("r2", t0 + 500);
  CHECK(h.delta("r2", "b", audio_ms(100, 'B'), t0 + 510) == strings{"media 800B", "mark 1.1"});
}

TEST_CASE("barge-in: mid-item", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.said("r1", "a", "Let me check", t0) == strings{"delta assistant a 'Let me check'"});
  // 300 ms in two 150 ms chunks, sent at 1000: the first starts playing at once.
  CHECK(h.delta("r1", "a", audio_ms(300, 'A'), t0) == strings{"media 1200A", "mark 1.1", "media 1200A", "mark 1.2"});
  SECTION("after an echo: confirmed position plus the clock since the echo") {
    CHECK(h.mark("1.1", 1150) == strings{});  // 150 ms played at 1150
    // 150 + (1200 - 1150) = 200 ms heard.
    CHECK(h.speech(1200) == strings{"clear", "truncate a 0 200", "barge_in a 200"});
    CHECK(h.said_all("r1", "a", "Let me check that for you.", 1210) ==
          strings{"final assistant a 'Let me check that for you.' interrupted=1 heard=200"});
  }
  SECTION("without an echo yet: the clock since the audio was sent") {
    CHECK(h.speech(1120) == strings{"clear", "truncate a 0 120", "barge_in a 120"});
  }
  SECTION("an echo that arrives late holds the estimate back") {
    CHECK(h.mark("1.1", 1190) == strings{});  // 150 ms confirmed only at 1190
    CHECK(h.speech(1200) == strings{"clear", "truncate a 0 160", "barge_in a 160"});
  }
  CHECK(h.call.stats().barge_ins == 1);
  CHECK(h.call.stats().truncates_sent == 1);
  CHECK(h.call.ledger().empty());
  CHECK_FALSE(h.call.ledger().has_unplayed());
}

TEST_CASE("barge-in: the adapter is told that playback was cleared, and only when it was", "[call]") {
  int cleared = 0;
  harness h(no_pacing(), {}, std::make_unique<observing_adapter>(cleared));
  h.ready();
  h.created("r1", t0);
  CHECK(h.speech(t0 + 5) == strings{});  // nothing playing: nothing to clear
  CHECK(cleared == 0);
  h.created("r2", t0 + 10);
  h.delta("r2", "a", audio_ms(100, 'A'), t0 + 10);
  CHECK(h.speech(t0 + 50) == strings{"clear", "truncate a 0 40", "barge_in a 40"});
  CHECK(cleared == 1);
}

TEST_CASE("call_state: not quiet while an answer to the caller's turn is due, for at most the answer wait", "[call]") {
  call_options options = no_pacing();
  options.answer_wait_ms = 3000;
  harness h(options);
  h.ready();
  CHECK(h.call.quiet(t0));
  h.realtime({{"type", "input_audio_buffer.speech_stopped"}}, t0 + 100);
  CHECK_FALSE(h.call.quiet(t0 + 100));
  CHECK_FALSE(h.call.quiet(t0 + 3099));
  CHECK(h.call.quiet(t0 + 3100));  // no answer came: the rollover need not wait for ever
  h.realtime({{"type", "input_audio_buffer.speech_stopped"}}, t0 + 4000);
  h.created("r1", t0 + 4200);
  h.response_done("r1", t0 + 4300);
  CHECK(h.call.quiet(t0 + 4300));  // the answer came and went
}

TEST_CASE("call_state: the provider's announced end of the session asks for a renewal", "[call]") {
  harness h;
  h.ready();
  mb::upstream::event ev;
  ev.kind = mb::upstream::event_kind::session_renewal_due;
  ev.time_left_ms = 50000;
  CHECK(h.run([&](auto& out) { h.call.on_upstream(ev, t0 + 1, out); }) ==
        strings{"renew_upstream 'the provider ends the connection in 50000 ms'"});
}

TEST_CASE("barge-in: truncate uses the content_index of the audio", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.delta("r1", "a", audio_ms(200, 'A'), t0, 1);
  CHECK(h.speech(1040) == strings{"clear", "truncate a 1 40", "barge_in a 40"});
}

TEST_CASE("barge-in: after all audio was sent but while it is still playing", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
  CHECK(h.audio_done("r1", "a", 1001) == strings{});
  CHECK(h.said_all("r1", "a", "Hi.", 1002) == strings{});  // not played yet: no final
  CHECK(h.response_done("r1", 1003) == strings{});
  SECTION("60 ms into the 100 ms item") {
    CHECK(h.speech(1060) == strings{"clear", "truncate a 0 60", "barge_in a 60",
                                    "final assistant a 'Hi.' interrupted=1 heard=60"});
  }
  SECTION("the echo is late: the estimate never exceeds what was sent") {
    // 130 ms since the send, but only 100 ms were sent.
    CHECK(h.speech(1130) == strings{"clear", "truncate a 0 100", "barge_in a 100",
                                    "final assistant a 'Hi.' interrupted=1 heard=100"});
  }
  // r1 was cut although it had finished: anything still arriving for it is dropped.
  CHECK(h.delta("r1", "a", audio_ms(20, 'A'), 1200) == strings{});
}

TEST_CASE("barge-in: after playback finished", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.delta("r1", "a", audio_ms(100, 'A'), t0);
  h.audio_done("r1", "a", 1001);
  h.said_all("r1", "a", "Hi.", 1002);
  h.response_done("r1", 1003);
  CHECK(h.mark("1.1", 1100) == strings{"final assistant a 'Hi.' interrupted=0 heard=-1"});
  CHECK(h.speech(1200) == strings{});
  CHECK(h.call.stats().barge_ins == 0);
  CHECK(h.call.stats().truncates_sent == 0);
  // Nothing was cut: the next response plays, marks keep their generation.
  h.created("r2", 1300);
  CHECK(h.delta("r2", "b", audio_ms(100, 'B'), 1300) == strings{"media 800B", "mark 1.2"});
}

TEST_CASE("barge-in: after the audio sent so far played, while the response is still going", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
  CHECK(h.mark("1.1", 1100) == strings{});  // all played; the model is still talking
  // Nothing to clear or truncate; the server cancels r1.
  CHECK(h.speech(1150) == strings{});
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), 1160) == strings{});
  CHECK(h.audio_done("r1", "a", 1161) == strings{});
  // The turn was cut after the 100 ms the caller heard; it must not block later turns.
  CHECK(h.said_all("r1", "a", "Hi there, how", 1170) == strings{"final assistant a 'Hi there, how' interrupted=1 heard=100"});
  h.created("r2", 1200);
  const auto sent = h.delta("r2", "b", audio_ms(100, 'B'), 1200);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == "media 800B");
  h.audio_done("r2", "b", 1201);
  h.said_all("r2", "b", "Yes?", 1202);
  CHECK(h.mark(sent[1].substr(5), 1300) == strings{"final assistant b 'Yes?' interrupted=0 heard=-1"});
  CHECK(h.call.ledger().empty());
}

TEST_CASE("barge-in: two responses back to back", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
  h.audio_done("r1", "a", 1001);
  h.said_all("r1", "a", "One.", 1002);
  h.response_done("r1", 1005);
  h.created("r2", 1010);
  SECTION("the second is queued behind the first") {
    CHECK(h.delta("r2", "b", audio_ms(100, 'B'), 1010) == strings{"media 800B", "mark 1.2"});
    // a finishes at 1100; b starts playing then.
    CHECK(h.mark("1.1", 1100) == strings{"final assistant a 'One.' interrupted=0 heard=-1"});
    // b heard 1130 - 1100 = 30 ms (not 130, counted from a's start).
    CHECK(h.speech(1130) == strings{"clear", "truncate b 0 30", "barge_in b 30"});
  }
  SECTION("the second starts after a silence") {
    CHECK(h.mark("1.1", 1100) == strings{"final assistant a 'One.' interrupted=0 heard=-1"});
    CHECK(h.delta("r2", "b", audio_ms(100, 'B'), 1500) == strings{"media 800B", "mark 1.2"});
    CHECK(h.speech(1530) == strings{"clear", "truncate b 0 30", "barge_in b 30"});
  }
  SECTION("the first's echo is still outstanding") {
    CHECK(h.delta("r2", "b", audio_ms(100, 'B'), 1010) == strings{"media 800B", "mark 1.2"});
    // At 1150 a should have ended at 1100, but no echo confirms it: b counts as not started.
    CHECK(h.speech(1150) == strings{"clear", "truncate a 0 100", "truncate b 0 0", "barge_in a 100",
                                    "final assistant a 'One.' interrupted=1 heard=100"});
  }
}

TEST_CASE("barge-in: marks echoed after clear are ignored", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.delta("r1", "a", audio_ms(300, 'A'), t0) == strings{"media 1200A", "mark 1.1", "media 1200A", "mark 1.2"});
  CHECK(h.speech(1050) == strings{"clear", "truncate a 0 50", "barge_in a 50"});
  // Twilio echoes every pending mark at once on clear: not played, and not worth a warning.
  CHECK(h.mark("1.1", 1052) == strings{});
  CHECK(h.mark("1.2", 1052) == strings{});
  CHECK(h.call.ledger().generation() == 2);
  h.created("r2", 1100);
  CHECK(h.delta("r2", "b", audio_ms(200, 'B'), 1100) == strings{"media 1200B", "mark 2.3", "media 400B", "mark 2.4"});
  // A straggling old echo confirms nothing about the new audio.
  CHECK(h.mark("1.2", 1110) == strings{});
  CHECK(h.call.ledger().find("b")->played_bytes == 0);
  // b started at 1100: 50 ms heard.
  CHECK(h.speech(1150) == strings{"clear", "truncate b 0 50", "barge_in b 50"});
}

TEST_CASE("barge-in: late deltas after clear are dropped", "[call]") {
  SECTION("without pacing") {
    harness h;
    h.ready();
    h.created("r1", t0);
    h.said("r1", "a", "One", t0);
    CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
    CHECK(h.speech(1050) == strings{"clear", "truncate a 0 50", "barge_in a 50"});
    CHECK(h.delta("r1", "a", audio_ms(100, 'A'), 1060) == strings{});
    CHECK(h.delta("r1", "c", audio_ms(100, 'C'), 1061) == strings{});  // a later item of the cut response
    CHECK(h.said("r1", "a", " two", 1062) == strings{});
    CHECK(h.audio_done("r1", "a", 1063) == strings{});
    CHECK(h.call.stats().late_deltas_dropped == 2);
    CHECK(h.call.ledger().empty());
    CHECK(h.said_all("r1", "a", "One two", 1064) == strings{"final assistant a 'One two' interrupted=1 heard=50"});
    h.created("r2", 1100);
    CHECK(h.delta("r2", "b", audio_ms(100, 'B'), 1100) == strings{"media 800B", "mark 2.2"});
  }
  SECTION("with pacing, what was held back is discarded") {
    call_options o;
    o.pacing_lead_ms = 300;
    harness h(o);
    h.ready();
    h.created("r1", t0);
    CHECK(h.delta("r1", "a", audio_ms(900, 'A'), t0) == strings{"media 1200A", "mark 1.1", "media 1200A", "mark 1.2"});
    // 900 ms received but only 300 sent; 50 heard.
    CHECK(h.speech(1050) == strings{"clear", "truncate a 0 50", "barge_in a 50"});
    CHECK(h.call.queued_chunks() == 0);
    CHECK_FALSE(h.call.next_wakeup());
    CHECK(h.tick(2000) == strings{});
    // New audio is not held back by the discarded playout.
    h.created("r2", 1060);
    CHECK(h.delta("r2", "b", audio_ms(300, 'B'), 1060) == strings{"media 1200B", "mark 2.3", "media 1200B", "mark 2.4"});
  }
}

TEST_CASE("barge-in: several items in one response", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0) == strings{"media 800A", "mark 1.1"});
  h.audio_done("r1", "a", t0);
  CHECK(h.delta("r1", "b", audio_ms(200, 'B'), t0) == strings{"media 1200B", "mark 1.2", "media 400B", "mark 1.3"});
  CHECK(h.said("r1", "c", "And", t0) == strings{"delta assistant c 'And'"});  // no audio for c yet
  SECTION("cut in the first item") {
    // a: 50 ms; b: queued behind a, never started, truncated at 0; c: no audio, no truncate.
    CHECK(h.speech(1050) == strings{"clear", "truncate a 0 50", "truncate b 0 0", "barge_in a 50"});
    CHECK(h.said_all("r1", "b", "Second.", 1060) == strings{});  // waits for a, in order
    CHECK(h.said_all("r1", "a", "First.", 1061) == strings{"final assistant a 'First.' interrupted=1 heard=50",
                                                            "final assistant b 'Second.' interrupted=1 heard=0"});
    CHECK(h.said_all("r1", "c", "And third.", 1062) == strings{"final assistant c 'And third.' interrupted=1 heard=0"});
  }
  SECTION("cut in the second item, the first having played") {
    CHECK(h.said_all("r1", "a", "First.", 1010) == strings{});
    CHECK(h.mark("1.1", 1100) == strings{"final assistant a 'First.' interrupted=0 heard=-1"});
    // b started when a ended at 1100.
    CHECK(h.speech(1150) == strings{"clear", "truncate b 0 50", "barge_in b 50"});
    CHECK(h.said_all("r1", "b", "Second.", 1160) == strings{"final assistant b 'Second.' interrupted=1 heard=50"});
  }
}

TEST_CASE("barge-in: with interrupt_response off the bridge cancels the response", "[call]") {
  proto::session_config cfg;
  cfg.vad_interrupt_response = false;
  harness h(no_pacing(), cfg);
  h.ready();
  h.created("r1", t0);
  SECTION("audio unplayed: cancel, clear, truncate") {
    h.delta("r1", "a", audio_ms(300, 'A'), t0);
    CHECK(h.speech(1100) == strings{"response.cancel", "clear", "truncate a 0 100", "barge_in a 100"});
    CHECK(h.delta("r1", "a", audio_ms(100, 'A'), 1110) == strings{});
  }
  SECTION("nothing unplayed: the response is left to play") {
    CHECK(h.speech(1010) == strings{});
    CHECK(h.delta("r1", "a", audio_ms(100, 'A'), 1020) == strings{"media 800A", "mark 1.1"});
  }
}

TEST_CASE("barge-in: only the audio queued for pacing is unplayed", "[call]") {
  call_options o;
  o.pacing_lead_ms = 300;
  harness h(o);
  h.ready();
  h.created("r1", t0);
  h.delta("r1", "a", audio_ms(600, 'A'), t0);  // 300 ms sent, 300 ms queued
  CHECK(h.mark("1.2", 1300) == strings{});     // the tick was missed: Twilio ran dry
  CHECK(h.speech(1310) == strings{"clear", "truncate a 0 300", "barge_in a 300"});
  CHECK(h.call.queued_chunks() == 0);
}

TEST_CASE("barge-in: caller audio during playback does not move the estimate", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.delta("r1", "a", audio_ms(300, 'A'), t0);
  // 20 ms frames keep flowing, stamped in step with the local clock (timestamp = now - 1000).
  for (std::int64_t now = t0 + 20; now <= 1140; now += 20) REQUIRE(h.media(audio_ms(20, 'c'), now).size() == 1);
  CHECK(h.speech(1150) == strings{"clear", "truncate a 0 150", "barge_in a 150"});
}

TEST_CASE("barge-in: the memory of cut responses is bounded", "[call]") {
  harness h;
  h.ready();
  // Nine responses cut before any audio: only the most recent eight are remembered.
  for (int i = 0; i < 9; ++i) {
    h.created("r" + std::to_string(i), t0 + 10 * i);
    REQUIRE(h.speech(t0 + 10 * i + 5) == strings{});
  }
  CHECK(h.delta("r8", "x", audio_ms(20, 'X'), 1200) == strings{});
  CHECK(h.delta("r1", "y", audio_ms(20, 'Y'), 1201) == strings{});
  CHECK(h.call.stats().late_deltas_dropped == 2);
  CHECK(h.delta("r0", "z", audio_ms(20, 'Z'), 1202) == strings{"media 160Z", "mark 1.1"});
}

// ---------------------------------------------------------------------------------------------
// Through the real parsers

namespace {

struct wire {
  harness h;
  proto::twilio_parser twilio_parser;
  std::string buffer;

  explicit wire(call_options o = no_pacing()) : h(std::move(o)) {}

  std::string_view pad(std::string_view text) {
    buffer.clear();
    buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    buffer.assign(text);
    return buffer;
  }
  strings from_twilio(std::string_view text, std::int64_t now) {
    proto::twilio_message m;
    const auto json = pad(text);
    const auto err = twilio_parser.parse(json, buffer.capacity(), m);
    REQUIRE_FALSE(err);
    return h.twilio(m, now);
  }
  strings from_openai(std::string_view text, std::int64_t now) { return h.realtime(boost::json::parse(text).as_object(), now); }
};

std::string twilio_media_json(std::int64_t timestamp, const std::string& payload) {
  return R"({"event":"media","sequenceNumber":"3","streamSid":")" + sid + R"(","media":{"track":"inbound","chunk":"1","timestamp":")" +
         std::to_string(timestamp) + R"(","payload":")" + payload + R"("}})";
}

std::string openai_delta_json(const std::string& resp, const std::string& item, const std::string& payload) {
  return R"({"type":"response.output_audio.delta","event_id":"e","response_id":")" + resp + R"(","item_id":")" + item +
         R"(","output_index":0,"content_index":0,"delta":")" + payload + R"("})";
}

}  // namespace

TEST_CASE("call_state: a call through the parsers", "[call]") {
  wire w;
  CHECK(w.from_twilio(R"({"event":"connected","protocol":"Call","version":"1.0.0"})", 990) == strings{});
  CHECK(w.from_twilio(R"({"event":"start","sequenceNumber":"1","streamSid":")" + sid +
                          R"(","start":{"streamSid":")" + sid +
                          R"(","accountSid":"AC1","callSid":"CA1","tracks":["inbound"],"customParameters":{"tenant":"acme"},)"
                          R"("mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})",
                      t0) == strings{"started " + sid, "open_upstream"});
  CHECK(w.h.connected() == strings{"session.update"});
  CHECK(w.from_twilio(twilio_media_json(20, audio_ms(20, 'a')), 1020) == strings{});
  CHECK(w.from_openai(R"({"type":"session.created","session":{"audio":{"input":{"format":{"type":"audio/pcm","rate":24000}}}}})",
                      1030) == strings{});  // defaults before our update: not judged
  CHECK(w.from_openai(R"({"type":"session.updated","event_id":"e","session":{"type":"realtime","audio":{)"
                      R"("input":{"format":{"type":"audio/pcmu"}},"output":{"format":{"type":"audio/pcmu"},"voice":"marin"}}}})",
                      1040) == strings{"audio 160a"});
  CHECK(w.from_twilio(twilio_media_json(60, audio_ms(20, 'b')), 1060) == strings{"audio 160b"});
  CHECK(w.from_openai(R"({"type":"response.created","response":{"id":"resp_1","status":"in_progress"}})", 1100) == strings{});
  CHECK(w.from_openai(R"({"type":"rate_limits.updated","rate_limits":[]})", 1100) == strings{});
  CHECK(w.from_openai(R"({"type":"response.output_audio_transcript.delta","response_id":"resp_1","item_id":"it_1",)"
                      R"("content_index":0,"delta":"Hello"})",
                      1100) == strings{"delta assistant it_1 'Hello'"});
  CHECK(w.from_openai(openai_delta_json("resp_1", "it_1", audio_ms(250, 'A')), 1100) ==
        strings{"media 1200A", "mark 1.1", "media 800A", "mark 1.2"});
  CHECK(w.from_twilio(R"({"event":"mark","sequenceNumber":"9","streamSid":")" + sid + R"(","mark":{"name":"1.1"}})", 1250) ==
        strings{});
  CHECK(w.from_openai(R"({"type":"input_audio_buffer.speech_started","audio_start_ms":900,"item_id":"u_2"})", 1280) ==
        strings{"clear", "truncate it_1 0 180", "barge_in it_1 180"});
  CHECK(w.from_twilio(R"({"event":"mark","streamSid":")" + sid + R"(","mark":{"name":"1.2"}})", 1281) == strings{});
  CHECK(w.from_openai(openai_delta_json("resp_1", "it_1", audio_ms(100, 'A')), 1290) == strings{});
  CHECK(w.from_openai(R"({"type":"response.output_audio_transcript.done","response_id":"resp_1","item_id":"it_1",)"
                      R"("content_index":0,"transcript":"Hello, how can I help?"})",
                      1295) == strings{"final assistant it_1 'Hello, how can I help?' interrupted=1 heard=180"});
  CHECK(w.from_openai(R"({"type":"conversation.item.truncated","item_id":"it_1","content_index":0,"audio_end_ms":180})", 1300) ==
        strings{"log debug"});
  CHECK(w.from_openai(R"({"type":"response.done","response":{"id":"resp_1","status":"cancelled",)"
                      R"("usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}})",
                      1310) == strings{});
  CHECK(w.h.call.stats().usage.total_tokens == 30);
  CHECK(w.from_openai(R"({"type":"some.future_event"})", 1320) == strings{"log debug"});
  CHECK(w.from_twilio(R"({"event":"dtmf","streamSid":")" + sid + R"(","dtmf":{"track":"inbound_track","digit":"#"}})", 1330) ==
        strings{"dtmf #"});
  CHECK(w.from_twilio(R"({"event":"stop","sequenceNumber":"20","streamSid":")" + sid +
                          R"(","stop":{"accountSid":"AC1","callSid":"CA1"}})",
                      1400) == strings{"end caller_hung_up"});
  CHECK(w.h.call.stats().caller_frames == 2);
  CHECK(w.h.call.stats().barge_ins == 1);
}

// ---------------------------------------------------------------------------------------------
// What a new upstream session is told: only what the caller heard

namespace {

const std::string ten_words = "one two three four five six seven eight nine ten";

strings lose_upstream(harness& h, std::int64_t now) {
  return h.run([&](auto& out) { h.call.on_upstream_lost(now, out); });
}

strings caller_final(harness& h, std::string item, std::string text, std::int64_t now) {
  return h.realtime({{"type", "conversation.item.input_audio_transcription.completed"}, {"item_id", item}, {"transcript", text}},
                    now);
}

// The transcript_final published by the last step.
transcript_final last_final(const harness& h) {
  for (const auto& a : h.last)
    if (const auto* p = std::get_if<publish>(&a))
      if (const auto* f = std::get_if<transcript_final>(&p->event)) return *f;
  FAIL("the last step published no transcript.final");
  return {};
}

// The conversation items the last step sent upstream, as "role: text".
strings items_sent(const harness& h) {
  strings items;
  for (const auto& a : h.last) {
    const auto* e = std::get_if<send_upstream_event>(&a);
    if (e == nullptr) continue;
    const auto event = boost::json::parse(e->json).as_object();
    if (event.at("type").as_string() != "conversation.item.create") continue;
    const auto& item = event.at("item").as_object();
    items.push_back(std::string(item.at("role").as_string()) + ": " +
                    std::string(item.at("content").as_array().at(0).at("text").as_string()));
  }
  return items;
}

// The session is lost at `now` and a new one connects: the conversation items it is told.
strings replay_after_loss(harness& h, std::int64_t now) {
  lose_upstream(h, now);
  h.connected();
  return items_sent(h);
}

}  // namespace

TEST_CASE("replay: after a barge-in and a reconnect, the new session hears only the words the caller heard", "[call]") {
  harness h;
  h.ready();
  caller_final(h, "u1", "Count to ten.", t0);
  h.created("r1", t0 + 100);
  h.said("r1", "a", ten_words, t0 + 100);
  h.delta("r1", "a", audio_ms(4000, 'A'), t0 + 100);  // 4 s of audio for 10 words, all sent to Twilio at once
  // 1.2 s later the caller speaks: 1.2 s of 4 s heard.
  CHECK(h.speech(t0 + 1300) == strings{"clear", "truncate a 0 1200", "barge_in a 1200"});
  CHECK(h.said_all("r1", "a", ten_words, t0 + 1310) ==
        strings{"final assistant a '" + ten_words + "' interrupted=1 heard=1200"});
  const auto cut = last_final(h);
  CHECK(cut.heard_text == "one two three");  // 30 % of 48 characters is 14: "one two three f"
  CHECK(cut.heard_text_estimated);

  CHECK(lose_upstream(h, t0 + 2000) == strings{});  // nothing left to clear: the barge-in did
  CHECK(h.connected() == strings{"session.update", "conversation.item.create", "conversation.item.create"});
  CHECK(items_sent(h) == strings{"user: Count to ten.", "assistant: one two three"});

  // A later rollover to yet another session tells it the same.
  h.session_updated(t0 + 2100);
  CHECK(replay_after_loss(h, t0 + 3000) == strings{"user: Count to ten.", "assistant: one two three"});
}

TEST_CASE("replay: a turn cut before the caller heard any of it is not replayed", "[call]") {
  harness h;
  h.ready();
  caller_final(h, "u1", "Hello?", t0);
  h.created("r1", t0 + 10);
  CHECK(h.speech(t0 + 20) == strings{});  // before the first delta: nothing played, nothing to clear
  h.delta("r1", "a", audio_ms(500, 'A'), t0 + 30);  // late: dropped
  h.said_all("r1", "a", "Sure, let me check.", t0 + 40);
  const auto cut = last_final(h);
  CHECK(cut.interrupted);
  CHECK(cut.heard_ms == 0);
  CHECK(cut.heard_text.empty());
  CHECK_FALSE(cut.heard_text_estimated);  // nothing heard is no estimate

  CHECK(replay_after_loss(h, t0 + 100) == strings{"user: Hello?"});
}

TEST_CASE("replay: a turn heard to the end is replayed whole", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.said("r1", "a", "Hi.", t0);
  h.delta("r1", "a", audio_ms(100, 'A'), t0);
  h.audio_done("r1", "a", t0);
  h.said_all("r1", "a", "Hi.", t0);
  CHECK(h.mark("1.1", t0 + 100) == strings{"final assistant a 'Hi.' interrupted=0 heard=-1"});
  CHECK(last_final(h).heard_text.empty());  // only cut turns carry it
  CHECK(replay_after_loss(h, t0 + 200) == strings{"assistant: Hi."});
}

TEST_CASE("replay: a turn cut by the upstream's loss is replayed as far as it was heard", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.delta("r1", "a", audio_ms(4000, 'A'), t0);
  h.audio_done("r1", "a", t0);
  h.said_all("r1", "a", ten_words, t0);
  h.response_done("r1", t0);
  // The session drops 1.2 s into the 4 s answer: the bridge stops playing it.
  CHECK(lose_upstream(h, t0 + 1200) == strings{"clear", "final assistant a '" + ten_words + "' interrupted=1 heard=1200"});
  CHECK(last_final(h).heard_text == "one two three");
  h.connected();
  CHECK(items_sent(h) == strings{"assistant: one two three"});
}

TEST_CASE("replay: audio that came after the cut counts in the length the transcript is spread over", "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.delta("r1", "a", audio_ms(2000, 'A'), t0);
  CHECK(h.speech(t0 + 1200) == strings{"clear", "truncate a 0 1200", "barge_in a 1200"});
  // The service had generated 2 s more before it saw the cancel; the transcript covers all 4 s.
  h.delta("r1", "a", audio_ms(2000, 'A'), t0 + 1210);
  h.said_all("r1", "a", ten_words, t0 + 1220);
  const auto cut = last_final(h);
  CHECK(cut.heard_ms == 1200);
  CHECK(cut.heard_text == "one two three");  // 1.2 of 4 s, not of the 2 s that reached the bridge in time
}

TEST_CASE("replay: a turn the lost session never finished is closed with what arrived, and later finals flow",
          "[call]") {
  harness h;
  h.ready();
  h.created("r1", t0);
  h.said("r1", "a", "one two three four five", t0);  // 23 characters so far, over 2 s of audio
  h.delta("r1", "a", audio_ms(2000, 'A'), t0);
  // The session drops 1.2 s in, before its transcript was done.
  CHECK(lose_upstream(h, t0 + 1200) ==
        strings{"clear", "final assistant a 'one two three four five' interrupted=1 heard=1200"});
  CHECK(last_final(h).heard_text == "one two three");  // 60 % of 23 characters is 13
  // What the closing session still sends is not this call's any more: no second final.
  CHECK(h.said_all("r1", "a", "one two three four five six.", t0 + 1250) == strings{});
  CHECK(h.session_updated(t0 + 1260) == strings{});
  CHECK_FALSE(h.call.upstream_ready());

  CHECK(h.connected() == strings{"session.update", "conversation.item.create"});
  CHECK(items_sent(h) == strings{"assistant: one two three"});
  h.session_updated(t0 + 1400);
  // The new session's answer is published as soon as it has played.
  h.created("r2", t0 + 1500);
  const auto sent = h.delta("r2", "b", audio_ms(100, 'B'), t0 + 1500);
  REQUIRE(sent.size() == 2);
  h.audio_done("r2", "b", t0 + 1500);
  h.said_all("r2", "b", "Sorry, where was I?", t0 + 1500);
  CHECK(h.mark(sent[1].substr(5), t0 + 1600) == strings{"final assistant b 'Sorry, where was I?' interrupted=0 heard=-1"});
}

// ---------------------------------------------------------------------------------------------
// Call control and DTMF (call_control.hpp, dtmf_collector.hpp)

namespace {

struct control_harness : harness {
  explicit control_harness(call_tools_config tools)
      : harness(no_pacing(), {}, std::make_unique<observing_adapter>(cleared, &told)) {
    call.set_tools(std::move(tools));
  }
  int cleared = 0;
  strings told;  // what the model was told besides audio

  strings tool_call(std::string id, std::string name, std::string arguments, std::int64_t now) {
    mb::upstream::event ev;
    ev.kind = mb::upstream::event_kind::tool_call;
    ev.tool_call_id = hold(std::move(id));
    ev.tool_name = hold(std::move(name));
    ev.tool_arguments = hold(std::move(arguments));
    return run([&](auto& out) { call.on_upstream(ev, now, out); });
  }
  strings key(std::string digit, std::int64_t now) {
    proto::twilio_message d;
    d.event = proto::twilio_event::dtmf;
    d.dtmf_digit = hold(std::move(digit));
    return twilio(d, now);
  }
  strings update_done(bool ok, std::int64_t now) {
    const auto id = std::get<update_twilio_call>(last.back()).request_id;
    return run([&](auto& out) { call.on_call_update_done(id, {ok, ok ? "" : "Twilio answered 503"}, now, out); });
  }
};

call_tools_config dtmf_tools(bool mask) {
  call_tools_config tools;
  tools.dtmf.gap_ms = 1000;
  tools.dtmf.mask = mask;
  return tools;
}

}  // namespace

TEST_CASE("call_state: end_call hangs up after the goodbye's mark echo, not before", "[call][control]") {
  call_tools_config tools;
  tools.end_call_grace_ms = 5000;
  control_harness h(tools);
  h.ready();
  h.created("r1", t0 + 10);
  CHECK(h.delta("r1", "a", audio_ms(100, 'A'), t0 + 10) == strings{"media 800A", "mark 1.1"});
  // The result goes upstream at once, without asking for another answer: the goodbye is playing.
  CHECK(h.tool_call("call1", "end_call", R"({"reason":"done"})", t0 + 20) ==
        strings{"control hang_up requested", "conversation.item.create"});
  CHECK(h.told == strings{R"(result call1 {"ok":true,"status":"the call ends once your last words have played"})"});
  CHECK(h.response_done("r1", t0 + 30) == strings{});  // the goodbye is still playing
  CHECK(h.call.next_wakeup() == t0 + 20 + 5000);
  CHECK(h.mark("1.1", t0 + 110) == strings{"hang_up"});
  CHECK(h.update_done(true, t0 + 300) == strings{"control hang_up done"});
}

TEST_CASE("call_state: a failed hang-up ends the stream", "[call][control]") {
  control_harness h({});
  h.ready();
  CHECK(h.run([&](auto& out) { h.call.on_operator(hang_up_command{}, t0 + 10, out); }) ==
        strings{"control hang_up requested", "hang_up"});
  CHECK(h.update_done(false, t0 + 20) == strings{"control hang_up failed", "log warn", "end hung_up"});
  CHECK(h.key("1", t0 + 30) == strings{});  // ended
}

TEST_CASE("call_state: an operator's message reaches the model as context to answer", "[call][control]") {
  control_harness h({});
  h.start(t0);
  // Before the session is ready it waits; it goes with the session.
  CHECK(h.run([&](auto& out) { h.call.on_operator(message_command{"Hello"}, t0 + 1, out); }) ==
        strings{"control message done"});
  CHECK(h.told.empty());
  h.connected();
  h.session_updated(t0 + 5);
  CHECK(h.told == strings{"context A supervisor of this call sends you this message: Hello respond"});
}

TEST_CASE("call_state: DTMF keys become a digit string after the gap, measured with the call's clock",
          "[call][dtmf]") {
  control_harness h(dtmf_tools(false));
  h.ready();
  CHECK(h.key("1", t0 + 10) == strings{"dtmf 1"});
  CHECK(h.key("2", t0 + 400) == strings{"dtmf 2"});
  CHECK(h.call.next_wakeup() == t0 + 1400);
  CHECK(h.tick(t0 + 1399) == strings{});
  CHECK(h.tick(t0 + 1400) == strings{"log info", "dtmf_input 12", "conversation.item.create", "response.create"});
  CHECK(h.told == strings{"context The caller pressed these keys on the phone's keypad: 12 respond"});
  CHECK_FALSE(h.call.next_wakeup());
  // '#' ends a string at once.
  h.key("9", t0 + 2000);
  CHECK(h.key("#", t0 + 2100) ==
        strings{"dtmf #", "log info", "dtmf_input 9", "conversation.item.create", "response.create"});
}

TEST_CASE("call_state: masked DTMF hides the keys from events and logs, not from the model", "[call][dtmf]") {
  auto tools = dtmf_tools(true);
  tools.dtmf.respond = false;
  control_harness h(tools);
  h.ready();
  CHECK(h.key("7", t0 + 10) == strings{"dtmf "});
  CHECK(std::get<dtmf>(std::get<publish>(h.last[0]).event).masked);
  CHECK(h.key("9", t0 + 20) == strings{"dtmf "});
  CHECK(h.key("#", t0 + 30) == strings{"dtmf ", "log info", "dtmf_input \u2022\u2022", "conversation.item.create"});
  const auto& line = std::get<log_line>(h.last[1]).text;
  CHECK(line.find('7') == std::string::npos);
  CHECK(line.find('9') == std::string::npos);
  CHECK(std::get<dtmf_input>(std::get<publish>(h.last[2]).event).masked);
  CHECK(h.told == strings{"context The caller pressed these keys on the phone's keypad: 79"});
}
