#include "sip/sideband_state.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/support/padded.hpp"
#include "tests/unit/support/realtime_messages.hpp"
#include "upstream/live_adapter.hpp"
#include "upstream/realtime_adapter.hpp"

using namespace mb;
using sip::sideband_action;
using sip::sideband_state;
using sip::sip_control;
using mb::test::said;
using mb::test::said_all;
using lines = std::vector<std::string>;
namespace json = boost::json;

// A SIP call's sideband, step by step on a fake clock (ms): provider messages go through a real
// adapter (Realtime or GPT-Live) into sideband_state, and each step's actions come back as one short
// line each. Wire facts: docs/protocols.md J3, J4; call control: docs/tools.md.

namespace {

call::call_tools_config tools() {
  call::call_tools_config t;
  t.tools.push_back({{"lookup_order", "Look up an order.", R"({"type":"object"})"}, "https://hooks.example.com/o"});
  t.end_call_grace_ms = 5000;
  t.transfers = {{"sales", "+15551230000", ""}, {"desk", "sip:desk@pbx.example.com", ""}};
  t.dtmf.gap_ms = 2000;
  return t;
}

sip::sideband_setup setup(std::string greeting = "Greet the caller.", call::call_tools_config t = tools()) {
  return {"CA123", "rtc_abc", "support", {{"plan", "gold"}}, std::move(greeting), std::move(t)};
}

std::string text_of(const call::call_event& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using type = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<type, call::call_started>) {
          return "call.started " + e.transport + " " + e.stream_sid + " " + e.agent + " " + e.parameters.at(0).first +
                 "=" + e.parameters.at(0).second;
        } else if constexpr (std::is_same_v<type, call::transcript_delta>) {
          return std::string("delta ") + call::to_string(e.speaker) + " " + e.item_id + " " + e.text;
        } else if constexpr (std::is_same_v<type, call::transcript_final>) {
          return std::string("final ") + call::to_string(e.speaker) + " " + e.item_id + " '" + e.text + "'" +
                 (e.interrupted ? " interrupted heard_ms=" + std::to_string(e.heard_ms) : "");
        } else if constexpr (std::is_same_v<type, call::dtmf>) {
          return "dtmf " + (e.masked ? std::string("masked") : e.digit);
        } else if constexpr (std::is_same_v<type, call::dtmf_input>) {
          return "dtmf.input " + e.digits + (e.masked ? " masked" : "");
        } else if constexpr (std::is_same_v<type, call::tool_call>) {
          return "tool.call " + e.tool_call_id + " " + e.name;
        } else if constexpr (std::is_same_v<type, call::tool_result>) {
          return "tool.result " + e.tool_call_id + " " + e.name + (e.ok ? " ok " + e.output : " error");
        } else if constexpr (std::is_same_v<type, call::call_control>) {
          return "control " + e.action + " " + e.by + " " + e.status + (e.target.empty() ? "" : " " + e.target);
        } else {
          return "other event";
        }
      },
      event);
}

// A message for the sideband: its type, and what it carries that the tests look at.
std::string text_of_message(const std::string& message) {
  const auto value = json::parse(message).as_object();
  std::string text = "send " + std::string(value.at("type").as_string());
  if (const auto* item = value.if_contains("item")) {
    const auto& o = item->as_object();
    if (const auto* output = o.if_contains("output"))
      text += " output " + std::string(o.at("call_id").as_string()) + " " + std::string(output->as_string());
    if (const auto* content = o.if_contains("content"))
      text += " text '" + std::string(content->as_array().at(0).at("text").as_string()) + "'";
  }
  if (const auto* content = value.if_contains("content"))
    if (content->is_string()) text += " '" + std::string(content->as_string()) + "'";
  return text;
}

std::string text_of(const sideband_action& action) {
  return std::visit(
      [](const auto& a) -> std::string {
        using type = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<type, call::publish>) {
          return text_of(a.event);
        } else if constexpr (std::is_same_v<type, call::log_line>) {
          return a.level == call::log_level::warn ? "log warn" : "log";
        } else if constexpr (std::is_same_v<type, call::send_upstream_event>) {
          return text_of_message(a.json);
        } else if constexpr (std::is_same_v<type, call::invoke_tool>) {
          return "invoke #" + std::to_string(a.request_id) + " tool " + std::to_string(a.tool_index);
        } else if constexpr (std::is_same_v<type, call::end_call>) {
          return std::string("end ") + call::to_string(a.reason);
        } else {
          return std::string("sip ") + (a.what == sip_control::kind::hang_up ? "hang_up" : "refer " + a.target_uri) +
                 " #" + std::to_string(a.request_id);
        }
      },
      action);
}

struct harness {
  sideband_state state;
  std::vector<sideband_action> out;
  std::vector<upstream::event> events;
  std::string buffer;

  explicit harness(std::unique_ptr<upstream::adapter> adapter = std::make_unique<upstream::realtime_adapter>(),
                   sip::sideband_setup s = setup())
      : state(std::move(s), std::move(adapter)) {}

  lines taken() {
    lines r;
    for (const auto& a : out) r.push_back(text_of(a));
    out.clear();
    return r;
  }
  // Lines without the call's log lines.
  lines actions() {
    auto r = taken();
    std::erase_if(r, [](const auto& l) { return l.starts_with("log"); });
    return r;
  }

  lines attach(std::int64_t now) {
    state.on_attached(now, out);
    return actions();
  }
  // One sideband message, translated by the call's adapter, as the shell does.
  lines message(std::string_view text, std::int64_t now) {
    test::assign_padded(buffer, text);
    events.clear();
    REQUIRE_FALSE(state.upstream().translate(buffer, buffer.capacity(), now, events));
    for (const auto& ev : events) state.on_upstream(ev, now, out);
    return actions();
  }
  lines tick(std::int64_t now) {
    state.on_tick(now, out);
    return actions();
  }
  lines control_done(std::uint64_t id, bool ok, std::int64_t now, std::string_view detail = {}) {
    state.on_control_done(id, ok, detail, now, out);
    return actions();
  }
  lines operator_command(const call::operator_command& command, std::int64_t now) {
    state.on_operator(command, now, out);
    return actions();
  }
};

// --- Realtime sideband messages (docs/protocols.md A4, J3) ---
std::string response_created(std::string_view id) {
  return R"({"type":"response.created","response":{"id":")" + std::string(id) + R"("}})";
}
std::string response_done(std::string_view id) {
  return R"({"type":"response.done","response":{"id":")" + std::string(id) + R"(","status":"completed"}})";
}
std::string heard(std::string_view item, std::string_view text) {
  return R"({"type":"conversation.item.input_audio_transcription.delta","item_id":")" + std::string(item) +
         R"(","delta":")" + std::string(text) + R"("})";
}
std::string heard_all(std::string_view item, std::string_view text) {
  return R"({"type":"conversation.item.input_audio_transcription.completed","item_id":")" + std::string(item) +
         R"(","transcript":")" + std::string(text) + R"("})";
}
std::string speech_started() { return R"({"type":"input_audio_buffer.speech_started","audio_start_ms":100})"; }
std::string function_call(std::string_view response, std::string_view call_id, std::string_view name,
                          std::string_view arguments) {
  return R"({"type":"response.output_item.done","response_id":")" + std::string(response) +
         R"(","item":{"id":"item_f","type":"function_call","status":"completed","call_id":")" + std::string(call_id) +
         R"(","name":")" + std::string(name) + R"(","arguments":)" + json::serialize(json::string(arguments)) + "}}";
}
std::string key(std::string_view k) {
  return R"({"type":"input_audio_buffer.dtmf_event_received","event":")" + std::string(k) +
         R"(","received_at":1750287100})";
}

// --- GPT-Live sideband messages (docs/protocols.md D4, J3) ---
std::string live_said(std::string_view text) {
  return R"({"type":"session.output_transcript.delta","delta":")" + std::string(text) + R"(","start_ms":0,"end_ms":1})";
}
std::string live_heard(std::string_view text) {
  return R"({"type":"session.input_transcript.delta","delta":")" + std::string(text) + R"(","start_ms":0,"end_ms":1})";
}
std::string live_key(std::string_view k) {
  return R"({"type":"transport.dtmf.received","event_id":"e1","event":")" + std::string(k) + R"("})";
}

harness live(sip::sideband_setup s = setup()) {
  return harness(std::make_unique<upstream::live_adapter>(), std::move(s));
}

}  // namespace

TEST_CASE("sideband_state: the first attach publishes call.started (transport sip) and greets, a reattach neither",
          "[sideband_state]") {
  harness h;
  CHECK(h.attach(0) == lines{"call.started sip rtc_abc support plan=gold", "send response.create"});
  CHECK(h.state.attached());
  h.state.on_lost(100, h.out);
  CHECK_FALSE(h.state.attached());
  // A replaced sideband's late events are no longer the call's.
  CHECK(h.message(heard("item_1", "lost"), 150).empty());
  CHECK(h.attach(200).empty());
  CHECK(h.message(heard("item_1", "Hi"), 300) == lines{"delta caller item_1 Hi"});
}

TEST_CASE("sideband_state: without a greeting the first attach only publishes call.started", "[sideband_state]") {
  harness h(std::make_unique<upstream::realtime_adapter>(), setup(""));
  CHECK(h.attach(0) == lines{"call.started sip rtc_abc support plan=gold"});
}

TEST_CASE("sideband_state: Realtime transcripts of both speakers, without audio", "[sideband_state]") {
  harness h;
  h.attach(0);
  CHECK(h.message(heard("item_c", "Where is "), 100) == lines{"delta caller item_c Where is "});
  CHECK(h.message(heard_all("item_c", "Where is my order?"), 200) == lines{"final caller item_c 'Where is my order?'"});
  CHECK(h.message(response_created("resp_1"), 300).empty());
  CHECK(h.message(said("resp_1", "item_a", "It ships"), 400) == lines{"delta assistant item_a It ships"});
  CHECK(h.message(said_all("resp_1", "item_a", "It ships today."), 500) ==
        lines{"final assistant item_a 'It ships today.'"});
  CHECK(h.message(R"({"type":"response.done","response":{"id":"resp_1","status":"completed",)"
                  R"("usage":{"total_tokens":30,"input_tokens":20,"output_tokens":10}}})",
                  600)
            .empty());
  CHECK(h.state.usage().total_tokens == 30);
  CHECK(h.state.usage().input_tokens == 20);
  CHECK(h.state.usage().output_tokens == 10);
}

TEST_CASE("sideband_state: a caller who speaks over an answer marks its final interrupted, heard unknown",
          "[sideband_state]") {
  harness h;
  h.attach(0);
  h.message(response_created("resp_1"), 100);
  h.message(said("resp_1", "item_a", "Your order"), 200);
  CHECK(h.message(speech_started(), 300).empty());
  CHECK(h.message(said_all("resp_1", "item_a", "Your order is"), 400) ==
        lines{"final assistant item_a 'Your order is' interrupted heard_ms=-1"});
  // A turn of the cut response that had no delta yet is cut too; the next response is not.
  CHECK(h.message(said_all("resp_1", "item_b", "late"), 450) == lines{"final assistant item_b 'late' interrupted heard_ms=-1"});
  h.message(response_done("resp_1"), 500);
  h.message(response_created("resp_2"), 600);
  h.message(said("resp_2", "item_c", "Sorry"), 700);
  CHECK(h.message(said_all("resp_2", "item_c", "Sorry, go on."), 800) == lines{"final assistant item_c 'Sorry, go on.'"});
  // Speech after an answer is done cuts nothing.
  h.message(response_done("resp_2"), 900);
  h.message(speech_started(), 1000);
  h.message(response_created("resp_3"), 1100);
  CHECK(h.message(said_all("resp_3", "item_d", "Yes?"), 1200) == lines{"final assistant item_d 'Yes?'"});
}

TEST_CASE("sideband_state: GPT-Live transcripts of both speakers, talked over, the turn ends interrupted",
          "[sideband_state]") {
  auto h = live();
  // No session.start goes out: only the greeting, as a session instruction.
  CHECK(h.attach(0) == lines{"call.started sip rtc_abc support plan=gold",
                             "send session.instructions.append 'Greet the caller.'"});
  CHECK(h.message(live_heard("I need help"), 100) == lines{"delta caller live_c1 I need help"});
  // The assistant's turn opens and closes the caller's.
  CHECK(h.message(live_said("Sure"), 200) ==
        lines{"final caller live_c1 'I need help'", "delta assistant live_a2 Sure"});
  CHECK(h.state.next_wakeup() == 700);
  CHECK(h.tick(700) == lines{"final assistant live_a2 'Sure'"});
  // Talked over: the turn closes after the yield gap, interrupted.
  h.message(live_said("Your balance"), 1000);
  CHECK(h.message(live_heard("Stop"), 1100) == lines{"delta caller live_c4 Stop"});
  CHECK(h.tick(1200) == lines{"final assistant live_a3 'Your balance' interrupted heard_ms=-1"});
}

TEST_CASE("sideband_state: a webhook tool's call and result go through the adapter", "[sideband_state]") {
  harness h;
  h.attach(0);
  h.message(response_created("resp_1"), 100);
  CHECK(h.message(function_call("resp_1", "call_1", "lookup_order", R"({"id":"42"})"), 200) ==
        lines{"tool.call call_1 lookup_order", "invoke #1 tool 0"});
  h.message(response_done("resp_1"), 300);
  h.state.on_tool_response(1, {200, R"({"status":"shipped"})", {}}, 400, h.out);
  CHECK(h.actions() == lines{"send conversation.item.create output call_1 {\"status\":\"shipped\"}",
                             "send response.create",
                             "tool.result call_1 lookup_order ok {\"status\":\"shipped\"}"});
}

// Seen under load in the SIP integration test: the webhook answered before OpenAI's response.done for
// the response that called the tool, no answer was asked for, and the conversation stalled.
TEST_CASE("sideband_state: a result in before its response is done is answered at that response's end",
          "[sideband_state]") {
  harness h;
  h.attach(0);
  h.message(response_created("resp_1"), 100);
  h.message(function_call("resp_1", "call_1", "lookup_order", R"({"id":"42"})"), 200);
  h.state.on_tool_response(1, {200, R"({"status":"shipped"})", {}}, 250, h.out);
  CHECK(h.actions() == lines{"send conversation.item.create output call_1 {\"status\":\"shipped\"}",
                             "tool.result call_1 lookup_order ok {\"status\":\"shipped\"}"});
  CHECK(h.message(response_done("resp_1"), 300) == lines{"send response.create"});
}

TEST_CASE("sideband_state: what the model gets while no sideband is attached goes out on the next attach",
          "[sideband_state]") {
  harness h;
  h.attach(0);
  h.message(function_call("resp_1", "call_1", "lookup_order", "{}"), 100);
  h.state.on_lost(200, h.out);
  h.state.on_tool_response(1, {200, R"({"ok":true})", {}}, 300, h.out);
  CHECK(h.actions() == lines{"tool.result call_1 lookup_order ok {\"ok\":true}"});
  CHECK(h.attach(400) == lines{"send conversation.item.create output call_1 {\"ok\":true}", "send response.create"});
}

TEST_CASE("sideband_state: end_call waits for the goodbye's response.done, then hangs up at OpenAI",
          "[sideband_state]") {
  harness h;
  h.attach(0);
  h.message(response_created("resp_1"), 100);
  h.message(said("resp_1", "item_a", "Goodbye!"), 150);
  CHECK(h.message(function_call("resp_1", "call_e", "end_call", R"({"reason":"done"})"), 200) ==
        lines{"control hang_up model requested",
              "send conversation.item.create output call_e {\"ok\":true,\"status\":\"the call ends once your last "
              "words have played\"}"});
  CHECK(h.state.next_wakeup() == 5200);
  CHECK(h.tick(1000).empty());
  CHECK(h.message(response_done("resp_1"), 1100) == lines{"sip hang_up #1"});
  CHECK_FALSE(h.state.ended());
  CHECK(h.control_done(1, true, 1300) == lines{"control hang_up model done", "end hung_up"});
  CHECK(h.state.ended());
  CHECK_FALSE(h.state.next_wakeup());
  CHECK(h.message(heard("item_x", "late"), 1400).empty());
}

TEST_CASE("sideband_state: end_call without a goodbye asks for one, the hang-up goes at the grace's end anyway",
          "[sideband_state]") {
  harness h;
  h.attach(0);
  CHECK(h.message(function_call("resp_1", "call_e", "end_call", "{}"), 100) ==
        lines{"control hang_up model requested",
              "send conversation.item.create output call_e {\"ok\":true,\"status\":\"say a short goodbye now; the "
              "call ends after it\"}",
              "send response.create"});
  // No response comes: the grace (5 s) bounds the wait.
  CHECK(h.tick(5099).empty());
  CHECK(h.tick(5100) == lines{"sip hang_up #1"});
  // A failed hang-up still ends the call on this side.
  CHECK(h.control_done(1, false, 5200, "HTTP 500") == lines{"control hang_up model failed", "end hung_up"});
}

TEST_CASE("sideband_state: transfer_call refers an allowed destination and refuses any other", "[sideband_state]") {
  harness h;
  h.attach(0);
  CHECK(h.message(function_call("resp_1", "call_t", "transfer_call", R"({"destination":"+15550000000"})"), 100) ==
        lines{"control transfer model refused +15550000000",
              "send conversation.item.create output call_t {\"error\":\"not an allowed destination; allowed: sales, "
              "desk\"}",
              "send response.create"});
  CHECK(h.message(function_call("resp_2", "call_u", "transfer_call", R"({"destination":"sales"})"), 200) ==
        lines{"control transfer model requested sales", "sip refer tel:+15551230000 #1"});
  CHECK(h.control_done(1, true, 300) ==
        lines{"control transfer model done sales",
              "send conversation.item.create output call_u {\"ok\":true,\"status\":\"the caller is being "
              "transferred\"}"});
  // A sip: destination is referred as it is; a failed refer lets the call go on with the model.
  CHECK(h.message(function_call("resp_3", "call_v", "transfer_call", R"({"destination":"desk"})"), 400) ==
        lines{"control transfer model requested desk", "sip refer sip:desk@pbx.example.com #2"});
  CHECK(h.control_done(2, false, 500, "HTTP 404")[0] == "control transfer model failed desk");
  CHECK_FALSE(h.state.ended());
}

TEST_CASE("sideband_state: DTMF keys become digit strings for the model, masked, they never show",
          "[sideband_state]") {
  auto t = tools();
  t.dtmf.mask = true;
  harness h(std::make_unique<upstream::realtime_adapter>(), setup("", t));
  h.attach(0);
  CHECK(h.message(key("1"), 100) == lines{"dtmf masked"});
  CHECK(h.message(key("2"), 200) == lines{"dtmf masked"});
  CHECK(h.state.next_wakeup() == 2200);
  // The gap ends the string: the model gets the real keys, everything else one dot per key.
  CHECK(h.tick(2200) == lines{"dtmf.input \u2022\u2022 masked",
                              "send conversation.item.create text 'The caller pressed these keys on the phone's "
                              "keypad: 12'",
                              "send response.create"});
  CHECK(h.message(key("9"), 3000) == lines{"dtmf masked"});
  CHECK(h.message(key("#"), 3100)[1] == "dtmf.input \u2022 masked");
}

TEST_CASE("sideband_state: GPT-Live keys, unmasked, a flood is dropped", "[sideband_state]") {
  auto h = live(setup(""));
  h.attach(0);
  CHECK(h.message(live_key("4"), 100) == lines{"dtmf 4"});
  CHECK(h.message(live_key("x"), 150).empty());  // not a key: the adapter ignores it
  CHECK(h.message(live_key("#"), 200) ==
        lines{"dtmf #", "dtmf.input 4",
              "send session.instructions.append 'The caller pressed these keys on the phone's keypad: 4'"});
  int published = 0;
  for (int i = 0; i < 100; ++i) published += static_cast<int>(h.message(live_key("1"), 300).size());
  CHECK(published > 0);
  CHECK(published < 100);
}

TEST_CASE("sideband_state: operator hang-up, transfer and message", "[sideband_state]") {
  harness h;
  h.attach(0);
  CHECK(h.operator_command(call::message_command{"Offer a discount."}, 100) ==
        lines{"control message operator done",
              "send conversation.item.create text 'A supervisor of this call sends you this message: Offer a "
              "discount.'",
              "send response.create"});
  CHECK(h.operator_command(call::transfer_command{"nowhere"}, 200) == lines{"control transfer operator refused nowhere"});
  CHECK(h.operator_command(call::transfer_command{"desk"}, 300) ==
        lines{"control transfer operator requested desk", "sip refer sip:desk@pbx.example.com #1"});
  // One at a time.
  CHECK(h.operator_command(call::hang_up_command{}, 400) == lines{"control hang_up operator refused"});
  CHECK(h.control_done(1, false, 500, "HTTP 500")[0] == "control transfer operator failed desk");
  CHECK(h.operator_command(call::hang_up_command{}, 600) == lines{"control hang_up operator requested", "sip hang_up #2"});
  CHECK(h.control_done(2, true, 700) == lines{"control hang_up operator done", "end hung_up"});
}

TEST_CASE("sideband_state: the provider ending the session ends the call, open transcripts first",
          "[sideband_state]") {
  auto h = live(setup(""));
  h.attach(0);
  h.message(live_said("Let me"), 100);
  CHECK(h.message(R"({"type":"session.closed","reason":"remote_hangup"})", 200) ==
        lines{"final assistant live_a1 'Let me'", "end caller_hung_up"});
  CHECK(h.state.ended());
  // Any other reason the provider gives (here its content filter) is the provider's end of the call.
  auto f = live(setup(""));
  f.attach(0);
  CHECK(f.message(R"({"type":"session.closed","reason":"content"})", 100) == lines{"end upstream_closed"});
  // An expected close (the bridge's own) does not end anything by itself.
  auto g = live(setup(""));
  g.attach(0);
  CHECK(g.message(R"({"type":"session.closed","reason":"close_requested"})", 100).empty());
  CHECK_FALSE(g.state.ended());
}

TEST_CASE("sideband_state: across a reattach Realtime transcripts stay open, finish() ends them interrupted",
          "[sideband_state]") {
  harness h;
  h.attach(0);
  h.message(heard("item_c", "Hel"), 100);
  h.message(response_created("resp_1"), 150);
  h.message(said("resp_1", "item_a", "One"), 200);
  h.state.on_lost(300, h.out);
  CHECK(h.attach(400).empty());
  CHECK(h.message(said_all("resp_1", "item_a", "One moment."), 500) == lines{"final assistant item_a 'One moment.'"});
  h.message(said("resp_1", "item_b", "Still"), 600);
  h.state.finish(h.out);
  CHECK(h.actions() == lines{"final caller item_c 'Hel'", "final assistant item_b 'Still' interrupted heard_ms=-1"});
}

TEST_CASE("sideband_state: across a reattach GPT-Live's open turns end as they stand", "[sideband_state]") {
  auto h = live(setup(""));
  h.attach(0);
  h.message(live_said("Half a"), 100);
  h.state.on_lost(200, h.out);
  // Detached, the adapter is not woken.
  CHECK_FALSE(h.state.next_wakeup());
  CHECK(h.attach(5000) == lines{"final assistant live_a1 'Half a' interrupted heard_ms=-1"});
  CHECK(h.message(live_said("Again"), 5100) == lines{"delta assistant live_a2 Again"});
}
