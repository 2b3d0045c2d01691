#include "call/tool_calls.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "call/call_state.hpp"

using namespace mb::call;
namespace json = boost::json;
using strings = std::vector<std::string>;

// Each step feeds the dispatcher one input at an explicit fake time and compares what it asked for,
// rendered as short strings: "result <id> <output> respond|wait" for the adapter's tool results,
// "invoke <tool index>", "tool.call <id> <name>", "tool.result <id> ok|error <latency> <error>", "log".

namespace {

// Records the tool results it is asked to send, as one message each.
class recording_adapter final : public mb::upstream::adapter {
 public:
  [[nodiscard]] const mb::upstream::capabilities& caps() const noexcept override { return caps_; }
  void open_session(const mb::protocol::session_config&, std::span<const mb::upstream::context_turn>,
                    strings&) override {}
  void greet(std::string_view, strings&) override {}
  void append_caller_audio(std::string&, std::string_view) override {}
  void report_heard(std::string_view, std::int64_t, std::int64_t, strings&) override {}
  void cancel_response(strings&) override {}
  void send_tool_result(std::string_view id, std::string_view, std::string_view output, bool respond,
                        strings& out) override {
    out.push_back("result " + std::string(id) + " " + std::string(output) + (respond ? " respond" : " wait"));
  }
  void request_response(strings& out) override { out.emplace_back("answer now"); }
  void set_tools_beside_speech() { caps_.tools_beside_speech = true; }
  void add_context_text(std::string_view, bool, strings&) override {}
  void close_session(strings&) override {}
  std::optional<mb::protocol::parse_error> translate(std::string_view, std::size_t, std::int64_t,
                                                     std::vector<mb::upstream::event>&) override {
    return std::nullopt;
  }

 private:
  mb::upstream::capabilities caps_{};
};

webhook_tool tool(std::string name, bool keep_talking = true) {
  return {{std::move(name), "a tool", R"({"type":"object"})"}, "https://tools.example/" + name, 5000, keep_talking};
}

call_tools_config config(int max_in_flight = 4) {
  call_tools_config c;
  c.tools = {tool("lookup_order"), tool("book_table", false)};
  c.max_tool_calls_in_flight = max_in_flight;
  return c;
}

mb::upstream::event tool_call_event(std::string_view id, std::string_view name, std::string_view arguments,
                               std::string_view turn = "resp_1") {
  mb::upstream::event ev;
  ev.kind = mb::upstream::event_kind::tool_call;
  ev.tool_call_id = id;
  ev.tool_name = name;
  ev.tool_arguments = arguments;
  ev.response_id = turn;
  return ev;
}

std::string describe(const action& a) {
  if (const auto* s = std::get_if<send_upstream_event>(&a)) return s->json;
  if (const auto* t = std::get_if<invoke_tool>(&a)) return "invoke " + std::to_string(t->tool_index);
  if (std::holds_alternative<log_line>(a)) return "log";
  if (const auto* p = std::get_if<publish>(&a)) {
    if (const auto* c = std::get_if<tool_call>(&p->event)) return "tool.call " + c->tool_call_id + " " + c->name;
    if (const auto* r = std::get_if<tool_result>(&p->event))
      return "tool.result " + r->tool_call_id + (r->ok ? " ok " : " error ") + std::to_string(r->latency_ms) +
             (r->ok ? "" : " " + r->error);
  }
  return "other";
}

struct fixture {
  tool_calls calls;
  recording_adapter adapter;
  std::vector<std::pair<std::string, std::string>> parameters{{"customer", "Ann"}, {"mb_token", "secret-token"}};
  std::vector<action> out;

  explicit fixture(const call_tools_config& c = config()) { calls.configure(c); }

  strings rendered() {
    strings r;
    for (const auto& a : out) r.push_back(describe(a));
    out.clear();
    return r;
  }
  strings call(std::string_view id, std::string_view name, std::string_view arguments, std::int64_t now,
               std::string_view turn = "resp_1") {
    calls.on_call(tool_call_event(id, name, arguments, turn), {"CA1", "sales", &parameters}, now, adapter, out);
    return rendered();
  }
  // The request id of the last invoke_tool in `out`, rendered afterwards.
  std::uint64_t invoke(std::string_view id, std::string_view name, std::string_view arguments, std::int64_t now,
                       std::string_view turn = "resp_1") {
    calls.on_call(tool_call_event(id, name, arguments, turn), {"CA1", "sales", &parameters}, now, adapter, out);
    const auto* t = std::get_if<invoke_tool>(&out.back());
    REQUIRE(t != nullptr);
    const auto request = t->request_id;
    out.clear();
    return request;
  }
  // `active_response`: the answer the model is generating when the webhook answers; empty: none.
  strings respond(std::uint64_t request, int status, std::string body, std::int64_t now,
                  std::string_view active_response = {}, std::string failure = {}) {
    calls.on_response(request, {status, std::move(body), std::move(failure)}, active_response, now, adapter, out);
    return rendered();
  }
  strings response_done(std::string_view response_id, bool other_response_active = false) {
    calls.on_response_done(response_id, other_response_active, adapter, out);
    return rendered();
  }
};

}  // namespace

TEST_CASE("a webhook tool call is posted with the call's identity, arguments and parameters", "[call][tool_calls]") {
  fixture f;
  f.calls.on_call(tool_call_event("call_1", "book_table", R"({"guests": 4,"time":"19:00"})"), {"CA1", "sales", &f.parameters},
                  1000, f.adapter, f.out);
  REQUIRE(f.out.size() == 2);
  CHECK(describe(f.out[0]) == "tool.call call_1 book_table");
  const auto* invoke = std::get_if<invoke_tool>(&f.out[1]);
  REQUIRE(invoke != nullptr);
  CHECK(invoke->tool_index == 1);
  const auto body = json::parse(invoke->body).as_object();
  CHECK(body.at("call_sid") == "CA1");
  CHECK(body.at("agent") == "sales");
  CHECK(body.at("tool") == "book_table");
  CHECK(body.at("tool_call_id") == "call_1");
  CHECK(body.at("arguments") == json::parse(R"({"guests":4,"time":"19:00"})"));
  // Our own stream token is plumbing: never sent to a webhook.
  CHECK(body.at("parameters") == json::parse(R"({"customer":"Ann"})"));
  CHECK(f.calls.in_flight() == 1);
}

TEST_CASE("a 2xx JSON answer is the model's result, with its latency", "[call][tool_calls]") {
  fixture f;
  const auto request = f.invoke("call_1", "lookup_order", "{}", 1000);
  CHECK(f.respond(request, 200, "{ \"status\" : \"shipped\" }", 1250) ==
        strings{R"(result call_1 {"status":"shipped"} respond)", "tool.result call_1 ok 250"});
  CHECK(f.calls.in_flight() == 0);
  // A second answer for the same request (or an unknown one) changes nothing.
  CHECK(f.respond(request, 200, "{}", 1300).empty());
}

TEST_CASE("arguments may be empty (no parameters)", "[call][tool_calls]") {
  fixture f;
  f.calls.on_call(tool_call_event("call_1", "lookup_order", ""), {"CA1", "sales", &f.parameters}, 1000, f.adapter, f.out);
  const auto* invoke = std::get_if<invoke_tool>(&f.out.back());
  REQUIRE(invoke != nullptr);
  CHECK(json::parse(invoke->body).at("arguments") == json::object{});
}

TEST_CASE("a failed webhook becomes an error result, a log line and a failed tool.result", "[call][tool_calls]") {
  fixture f;
  const auto request = f.invoke("call_1", "lookup_order", "{}", 1000);
  SECTION("an error status") {
    CHECK(f.respond(request, 500, R"({"detail":"boom"})", 1100) ==
          strings{"log", R"(result call_1 {"error":"the webhook answered HTTP 500"} respond)",
                  "tool.result call_1 error 100 the webhook answered HTTP 500"});
  }
  SECTION("a redirect is not an answer") {
    CHECK(f.respond(request, 302, "", 1100)[1] == R"(result call_1 {"error":"the webhook answered HTTP 302"} respond)");
  }
  SECTION("a timeout") {
    CHECK(f.respond(request, 0, "", 6000, {}, "timed out after 5000 ms") ==
          strings{"log", R"(result call_1 {"error":"the webhook failed: timed out after 5000 ms"} respond)",
                  "tool.result call_1 error 5000 the webhook failed: timed out after 5000 ms"});
  }
  SECTION("bad JSON") {
    CHECK(f.respond(request, 200, "{\"status\":", 1100)[1] ==
          R"(result call_1 {"error":"the webhook's answer is not JSON"} respond)");
  }
  SECTION("an answer over 64 KiB") {
    const std::string big = "\"" + std::string(max_tool_response_bytes - 1, 'x') + "\"";
    CHECK(f.respond(request, 200, big, 1100)[1] ==
          R"(result call_1 {"error":"the webhook's answer is larger than 65536 bytes"} respond)");
  }
  CHECK(f.calls.in_flight() == 0);
}

TEST_CASE("an answer of exactly 64 KiB is accepted", "[call][tool_calls]") {
  fixture f;
  const auto request = f.invoke("call_1", "lookup_order", "{}", 1000);
  const std::string body = "\"" + std::string(max_tool_response_bytes - 2, 'x') + "\"";
  const auto r = f.respond(request, 200, body, 1100);
  REQUIRE(r.size() == 2);
  CHECK(r[1] == "tool.result call_1 ok 100");
}

TEST_CASE("a tool the agent does not have gets an error result at once", "[call][tool_calls]") {
  fixture f;
  CHECK(f.call("call_9", "delete_everything", "{}", 1000) ==
        strings{"tool.call call_9 delete_everything", "log",
                R"(result call_9 {"error":"unknown tool"} respond)", "tool.result call_9 error 0 unknown tool"});
  CHECK(f.calls.in_flight() == 0);
}

TEST_CASE("arguments that are not a JSON object get an error result", "[call][tool_calls]") {
  fixture f;
  const auto expected = R"(result call_1 {"error":"arguments are not a JSON object"} respond)";
  CHECK(f.call("call_1", "lookup_order", "[1,2]", 1000)[2] == expected);
  CHECK(f.call("call_1", "lookup_order", "{\"a\":", 1000)[2] == expected);
  const std::string huge = "{\"a\":\"" + std::string(max_tool_arguments_bytes, 'x') + "\"}";
  CHECK(f.call("call_1", "lookup_order", huge, 1000)[2] ==
        R"(result call_1 {"error":"arguments larger than 65536 bytes"} respond)");
  CHECK(f.calls.in_flight() == 0);
}

TEST_CASE("calls beyond the bound in flight get an error result at once", "[call][tool_calls]") {
  fixture f(config(2));
  const auto first = f.invoke("call_1", "lookup_order", "{}", 1000, "resp_1");
  f.invoke("call_2", "lookup_order", "{}", 1000, "resp_2");
  CHECK(f.call("call_3", "lookup_order", "{}", 1010, "resp_3") ==
        strings{"tool.call call_3 lookup_order", "log",
                R"~(result call_3 {"error":"too many tool calls in flight (at most 2)"} respond)~",
                "tool.result call_3 error 0 too many tool calls in flight (at most 2)"});
  f.respond(first, 200, "{}", 1100);
  CHECK(f.call("call_4", "lookup_order", "{}", 1200, "resp_4") == strings{"tool.call call_4 lookup_order", "invoke 0"});
}

TEST_CASE("the model is asked to go on once every call of its turn has its result", "[call][tool_calls]") {
  fixture f;
  const auto a = f.invoke("call_a", "lookup_order", "{}", 1000, "resp_1");
  const auto b = f.invoke("call_b", "lookup_order", "{}", 1000, "resp_1");
  const auto c = f.invoke("call_c", "lookup_order", "{}", 1000, "resp_2");
  CHECK(f.respond(b, 200, "1", 1100)[0] == "result call_b 1 wait");
  CHECK(f.respond(c, 200, "2", 1150)[0] == "result call_c 2 respond");  // another turn
  CHECK(f.respond(a, 500, "", 1200)[1] == R"(result call_a {"error":"the webhook answered HTTP 500"} respond)");
}

TEST_CASE("a keep_talking tool's result does not ask for an answer while the model is answering", "[call][tool_calls]") {
  fixture f;
  // resp_2: a later answer (the caller spoke again) is being generated when the webhooks answer.
  const auto talking = f.invoke("call_1", "lookup_order", "{}", 1000);
  CHECK(f.respond(talking, 200, "{}", 1100, "resp_2")[0] == "result call_1 {} wait");
  const auto waiting = f.invoke("call_2", "book_table", "{}", 1200);  // keep_talking false
  CHECK(f.respond(waiting, 200, "{}", 1300, "resp_2")[0] == "result call_2 {} respond");
  const auto quiet = f.invoke("call_3", "lookup_order", "{}", 1400);
  CHECK(f.respond(quiet, 200, "{}", 1500)[0] == "result call_3 {} respond");
  // None of these owes an answer at resp_1's or resp_2's end.
  CHECK(f.response_done("resp_1").empty());
  CHECK(f.response_done("resp_2").empty());
}

// A fast webhook answers before the provider's response.done for the response that made the call.
// Asking for an answer then collides with that response; asking for none left the result unspoken
// until the caller talked again (a SIP call's conversation stalled under load).
TEST_CASE("a result that arrives before its own response is done is answered when that response is done",
          "[call][tool_calls]") {
  fixture f;
  SECTION("one call") {
    const auto request = f.invoke("call_1", "lookup_order", "{}", 1000, "resp_1");
    CHECK(f.respond(request, 200, "{}", 1050, "resp_1") == strings{"result call_1 {} wait", "tool.result call_1 ok 50"});
    CHECK(f.response_done("resp_0").empty());  // another response's end
    CHECK(f.response_done("resp_1") == strings{"answer now"});
    CHECK(f.response_done("resp_1").empty());  // asked once
  }
  SECTION("a keep_talking false tool waits for its response's end too") {
    const auto request = f.invoke("call_1", "book_table", "{}", 1000, "resp_1");
    CHECK(f.respond(request, 200, "{}", 1050, "resp_1")[0] == "result call_1 {} wait");
    CHECK(f.response_done("resp_1") == strings{"answer now"});
  }
  SECTION("two calls of one response") {
    const auto a = f.invoke("call_a", "lookup_order", "{}", 1000, "resp_1");
    const auto b = f.invoke("call_b", "lookup_order", "{}", 1000, "resp_1");
    CHECK(f.respond(a, 200, "{}", 1050, "resp_1")[0] == "result call_a {} wait");
    SECTION("both in before its end: the answer is asked for once, at the end") {
      CHECK(f.respond(b, 200, "{}", 1060, "resp_1")[0] == "result call_b {} wait");
      CHECK(f.response_done("resp_1") == strings{"answer now"});
    }
    SECTION("the second after its end: it asks at once") {
      CHECK(f.response_done("resp_1").empty());  // call_b still runs
      CHECK(f.respond(b, 200, "{}", 1200)[0] == "result call_b {} respond");
    }
  }
  SECTION("the caller's new turn takes the result in instead") {
    const auto request = f.invoke("call_1", "lookup_order", "{}", 1000, "resp_1");
    f.respond(request, 200, "{}", 1050, "resp_1");
    f.calls.on_caller_turn();
    CHECK(f.response_done("resp_1").empty());
  }
  SECTION("a newer answer already running takes the result in instead") {
    const auto request = f.invoke("call_1", "lookup_order", "{}", 1000, "resp_1");
    f.respond(request, 200, "{}", 1050, "resp_1");
    CHECK(f.response_done("resp_1", true).empty());
  }
  SECTION("a lost session owes nothing") {
    const auto request = f.invoke("call_1", "lookup_order", "{}", 1000, "resp_1");
    f.respond(request, 200, "{}", 1050, "resp_1");
    f.calls.on_session_lost();
    CHECK(f.response_done("resp_1").empty());
  }
}

TEST_CASE("a cancelled call's late result is dropped and does not hold back its turn", "[call][tool_calls]") {
  fixture f;
  const auto cancelled = f.invoke("call_a", "lookup_order", "{}", 1000);
  const auto kept = f.invoke("call_b", "lookup_order", "{}", 1000);
  f.calls.on_cancelled("call_a", f.out);
  CHECK(f.rendered() == strings{"log"});
  CHECK(f.calls.in_flight() == 2);  // its webhook still runs: it still counts
  CHECK(f.respond(kept, 200, "{}", 1100)[0] == "result call_b {} respond");
  CHECK(f.respond(cancelled, 200, "{}", 1300) ==
        strings{"tool.result call_a error 300 cancelled by the model; the result was not sent"});
  CHECK(f.calls.in_flight() == 0);
  // Cancelling a call that already has its result changes nothing.
  f.calls.on_cancelled("call_b", f.out);
  CHECK(f.rendered().empty());
}

TEST_CASE("a result arriving after the upstream session was replaced is dropped", "[call][tool_calls]") {
  fixture f;
  const auto old = f.invoke("call_1", "lookup_order", "{}", 1000);
  f.calls.on_session_lost();
  // The new session's calls are delivered as usual.
  const auto fresh = f.invoke("call_2", "lookup_order", "{}", 2000, "resp_9");
  CHECK(f.respond(old, 200, "{}", 2500) ==
        strings{"log", "tool.result call_1 error 1500 the upstream session was replaced; the result was not sent"});
  CHECK(f.respond(fresh, 200, "{}", 2600)[0] == "result call_2 {} respond");
}

TEST_CASE("tool.call and tool.result events carry at most 4 KiB of arguments and output", "[call][tool_calls]") {
  fixture f;
  // A two-byte UTF-8 character straddles the cut: the text ends before it.
  const std::string value(max_tool_event_text_bytes - 7, 'a');
  const std::string arguments = "{\"v\":\"" + value + "\xC3\xA9\"}";
  f.calls.on_call(tool_call_event("call_1", "lookup_order", arguments), {"CA1", "sales", &f.parameters}, 1000, f.adapter,
                  f.out);
  const auto& event = std::get<tool_call>(std::get<publish>(f.out[0]).event);
  CHECK(event.arguments == arguments.substr(0, max_tool_event_text_bytes - 1));
  const auto request = std::get<invoke_tool>(f.out[1]).request_id;
  f.out.clear();
  // The model gets the whole answer.
  const std::string answer = "\"" + std::string(10000, 'z') + "\"";
  f.calls.on_response(request, {200, answer, {}}, {}, 1100, f.adapter, f.out);
  CHECK(std::get<send_upstream_event>(f.out[0]).json.size() == std::string("result call_1  respond").size() + 10002);
  CHECK(std::get<tool_result>(std::get<publish>(f.out[1]).event).output.size() == max_tool_event_text_bytes);
}

TEST_CASE("call_state forwards tool calls and drops the results of a lost session", "[call][tool_calls]") {
  call_state state({}, {}, std::make_unique<recording_adapter>());
  state.set_tools(config());
  std::vector<action> out;
  state.on_upstream(tool_call_event("call_1", "lookup_order", "{}"), 1000, out);
  REQUIRE(out.size() == 2);
  const auto request = std::get<invoke_tool>(out[1]).request_id;
  out.clear();
  state.on_upstream_lost(1100, out);
  out.clear();
  state.on_tool_response(request, {200, "{}", {}}, 1200, out);
  strings rendered;
  for (const auto& a : out) rendered.push_back(describe(a));
  CHECK(rendered == strings{"log", "tool.result call_1 error 200 the upstream session was replaced; the result was not sent"});
}

// GPT-Live's Responses delegation goes on only when asked, whatever the voice is doing: with
// keep_talking, a result that came in while the voice spoke used to be sent without the request, and
// the delegation never went on.
TEST_CASE("a backend beside the voice is asked to go on with its results even while the voice speaks",
          "[call][tool_calls]") {
  fixture f;
  f.adapter.set_tools_beside_speech();
  const auto request = f.invoke("call_1", "lookup_order", "{}", 1000, "");
  CHECK(f.respond(request, 200, "{}", 1100, "turn_3")[0] == "result call_1 {} respond");
}

TEST_CASE("call_state asks for the answer to a result that came in before its response was done", "[call][tool_calls]") {
  call_state state({}, {}, std::make_unique<recording_adapter>());
  state.set_tools(config());
  std::vector<action> out;
  mb::upstream::event started;
  started.kind = mb::upstream::event_kind::response_started;
  started.response_id = "resp_1";
  state.on_upstream(started, 900, out);
  state.on_upstream(tool_call_event("call_1", "lookup_order", "{}"), 1000, out);
  const auto request = std::get<invoke_tool>(out.back()).request_id;
  out.clear();
  state.on_tool_response(request, {200, "{}", {}}, 1050, out);
  CHECK(describe(out.at(0)) == "result call_1 {} wait");
  out.clear();
  mb::upstream::event done;
  done.kind = mb::upstream::event_kind::response_done;
  done.response_id = "resp_1";
  state.on_upstream(done, 1100, out);
  strings rendered;
  for (const auto& a : out) rendered.push_back(describe(a));
  CHECK(std::count(rendered.begin(), rendered.end(), "answer now") == 1);
}
