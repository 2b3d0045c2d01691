// The simulated OpenAI SIP control plane (simulator/sip_control.hpp) on its own, over real loopback
// sockets: the signed incoming-call webhooks (received by a small HTTP listener here), the control
// requests, POST /sim/sip/invite, and the sideband's scripted conversation in both runtimes with its
// drop, reconnect and end hooks.

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>

#include "net/http_client.hpp"
#include "net/websocket.hpp"
#include "protocol/base64.hpp"
#include "protocol/openai_sip.hpp"
#include "protocol/standard_webhook.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"
#include "tests/integration/support/sim_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace json = boost::json;
namespace sim = mb::simulator;
using mb::net::awaitable;
using mb::protocol::sip_runtime;
using mb::test::open_client;
using mb::test::refused_status;
using mb::test::run_client;
using mb::test::running_simulator;
using mb::test::sim_client;
using mb::test::upgrade_headers;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

const std::string webhook_secret = "whsec_" + mb::protocol::base64_encode("0123456789abcdef0123456789abcdef");

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A loopback HTTP server standing in for mediabridge's endpoints (the OpenAI webhook, the voice
// webhook): records each request and answers every one with `reply`.
class webhook_listener {
 public:
  struct request {
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    [[nodiscard]] std::string header(std::string_view name) const {
      for (const auto& [n, v] : headers)
        if (boost::iequals(n, name)) return v;
      return {};
    }
  };

  explicit webhook_listener(mb::net::plain_http_response reply = {.status = 200,
                                                                   .content_type = "application/json",
                                                                   .body = R"({"status":"accepted"})"})
      : reply_(std::move(reply)), acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~webhook_listener() {
    ioc_.stop();
    thread_.join();
  }
  webhook_listener(const webhook_listener&) = delete;
  webhook_listener& operator=(const webhook_listener&) = delete;

  [[nodiscard]] std::string url(std::string_view path = "/openai/webhook") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + std::string(path);
  }

  // The first `n` requests, once they arrived (empty after the timeout).
  std::vector<request> wait_for(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return requests_.size() >= n; })) return {};
    return requests_;
  }

 private:
  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(mb::net::as_tuple_awaitable);
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> serve(tcp::socket socket) {
    const auto plain = [this](mb::net::plain_http_request r) -> awaitable<mb::net::plain_http_response> {
      {
        std::lock_guard lock(mutex_);
        requests_.push_back({r.head.target, r.head.headers, r.body});
      }
      changed_.notify_all();
      co_return reply_;
    };
    const mb::net::socket_limits limits;
    const mb::net::upgrade_check no_upgrades;
    (void)co_await mb::net::accept_websocket(std::move(socket), limits, no_upgrades, plain);
  }

  const mb::net::plain_http_response reply_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<request> requests_;
};

mb::net::http_response post(const std::string& url, std::string body, bool bearer = true) {
  mb::net::http_response response;
  run_client([&]() -> awaitable<void> {
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
    if (bearer) headers.emplace_back("Authorization", "Bearer sk-test");
    response = co_await mb::net::http_request("POST", url, std::move(headers), body, nullptr, 5000);
  });
  return response;
}

std::string control_url(const running_simulator& s, sip_runtime runtime, const std::string& id, std::string_view action) {
  const std::string base = s.simulator.endpoint();
  return runtime == sip_runtime::realtime ? base + "/v1/realtime/calls/" + id + "/" + std::string(action)
                                          : base + "/v1/live/sessions/" + id + "/" + std::string(action);
}

std::string sideband_url(const running_simulator& s, sip_runtime runtime, const std::string& id) {
  using mb::upstream::provider_kind;
  return runtime == sip_runtime::realtime ? s.simulator.url_for(provider_kind::openai_realtime) + "?call_id=" + id
                                          : s.simulator.url_for(provider_kind::openai_live) + "/" + id + "/attach";
}

constexpr std::string_view realtime_accept = R"({"type":"realtime","model":"gpt-realtime","instructions":"Be brief."})";
constexpr std::string_view live_accept = R"({"session":{"type":"live","model":"gpt-live-1"}})";

// A call accepted by `runtime`.
std::string accepted_call(running_simulator& s, sip_runtime runtime) {
  const std::string id = s.simulator.place_sip_call({});
  const auto r = post(control_url(s, runtime, id, "accept"),
                      std::string(runtime == sip_runtime::realtime ? realtime_accept : live_accept));
  REQUIRE(r.status == 200);
  return id;
}

std::string error_code_of(const mb::net::http_response& r) {
  return json::value_to<std::string>(json::parse(r.body).at("error").at("code"));
}

sim::simulator_options quick_script(std::vector<sim::sip_script_turn> turns) {
  sim::simulator_options o;
  o.sip_conversation.turns = std::move(turns);
  o.sip_conversation.turn_gap_ms = 30;
  o.sip_conversation.word_gap_ms = 5;
  return o;
}

// Reads past the events still on their way and returns the close code of the peer's close frame
// (0 when the connection broke without one).
awaitable<std::uint16_t> close_code_after_events(sim_client& c) {
  for (;;) {
    const auto r = co_await c.ws->read(c.buffer, 0);
    if (r.status == mb::net::read_status::message) continue;
    co_return r.status == mb::net::read_status::closed ? c.ws->peer_close_reason().code : std::uint16_t{0};
  }
}

const sim::sip_call_snapshot& only_call(const std::vector<sim::sip_call_snapshot>& calls) {
  REQUIRE(calls.size() == 1);
  return calls[0];
}

}  // namespace

TEST_CASE("sip sim: a call's webhooks are signed Standard Webhooks, one per runtime", "[sim][sip]") {
  webhook_listener listener;
  sim::simulator_options options;
  options.sip_webhook_url = listener.url();
  options.sip_webhook_secret = webhook_secret;
  running_simulator s(options);
  const std::string id =
      s.simulator.place_sip_call({.sip_headers = {{"X-Mb-Agent", "support"}}, .from = "+15551230000", .to = "+15559870000"});
  CHECK(id.starts_with("rtc_"));

  const auto requests = listener.wait_for(2);
  REQUIRE(requests.size() == 2);
  const auto key = mb::protocol::standard_webhook_key(webhook_secret);
  REQUIRE(key);
  std::vector<std::string> types;
  for (const auto& r : requests) {
    CHECK(r.target == "/openai/webhook");
    const std::string id_header = r.header("webhook-id");
    const std::string timestamp_header = r.header("webhook-timestamp");
    const std::string signature_header = r.header("webhook-signature");
    const mb::protocol::standard_webhook_headers headers{id_header, timestamp_header, signature_header};
    CHECK(mb::protocol::check_standard_webhook(*key, headers, r.body, now_unix()) ==
          mb::protocol::standard_webhook_check::valid);
    // Any change to the body breaks the signature.
    CHECK(mb::protocol::check_standard_webhook(*key, headers, r.body + " ", now_unix()) ==
          mb::protocol::standard_webhook_check::no_match);
    std::string error;
    const auto event = mb::protocol::parse_sip_webhook(r.body, error);
    INFO(error << " " << r.body);
    REQUIRE(event);
    REQUIRE(event->incoming);
    CHECK(event->incoming->call_id == id);
    CHECK(mb::protocol::sip_header_value(event->incoming->sip_headers, "X-Mb-Agent") == "support");
    CHECK(mb::protocol::sip_user_of(mb::protocol::sip_header_value(event->incoming->sip_headers, "To")) == "+15559870000");
    types.push_back(event->type);
  }
  CHECK(types == std::vector<std::string>{"realtime.call.incoming", "live.transport.incoming"});
  CHECK(json::parse(requests[1].body).at("data").at("type") == "sip");
  CHECK(requests[0].header("webhook-id") != requests[1].header("webhook-id"));

  REQUIRE(s.simulator.wait_for_sip(
      [](const auto& calls) {
        return calls.size() == 1 && calls[0].webhooks.size() == 2 && calls[0].webhooks[1].status != 0;
      },
      5s));
  const auto calls = s.simulator.sip_calls();  // named: only_call returns a reference into it
  for (const auto& w : only_call(calls).webhooks) CHECK(w.status == 200);
}

TEST_CASE("sip sim: the deprecated live.call.incoming alone has no data.type", "[sim][sip]") {
  webhook_listener listener;
  sim::simulator_options options;
  options.sip_webhook_url = listener.url();
  options.sip_webhook_secret = webhook_secret;
  options.sip_events = sim::sip_event_set::live_deprecated;
  running_simulator s(options);
  const std::string id = s.simulator.place_sip_call({});
  const auto requests = listener.wait_for(1);
  REQUIRE(requests.size() == 1);
  const json::value body = json::parse(requests[0].body);
  CHECK(body.at("type") == "live.call.incoming");
  CHECK(body.at("data").at("session_id").as_string() == id);
  CHECK_FALSE(body.at("data").as_object().contains("type"));
}

TEST_CASE("sip sim: accepts fail with call_id_not_found first, then one runtime takes the call", "[sim][sip]") {
  sim::simulator_options options;
  options.sip_accept_failures = 2;
  running_simulator s(options);
  const std::string id = s.simulator.place_sip_call({});
  const std::string accept = control_url(s, sip_runtime::realtime, id, "accept");

  CHECK(post(accept, std::string(realtime_accept), /*bearer=*/false).status == 401);
  for (int i = 0; i < 2; ++i) {
    const auto early = post(accept, std::string(realtime_accept));
    CHECK(early.status == 404);
    CHECK(error_code_of(early) == "call_id_not_found");
  }
  CHECK(post(accept, std::string(realtime_accept)).status == 200);
  const auto other = post(control_url(s, sip_runtime::live, id, "accept"), std::string(live_accept));
  CHECK(other.status == 409);
  const auto unknown = post(control_url(s, sip_runtime::realtime, "rtc_unknown", "accept"), std::string(realtime_accept));
  CHECK(unknown.status == 404);
  CHECK(error_code_of(unknown) == "call_id_not_found");

  const auto call = only_call(s.simulator.sip_calls());
  CHECK(call.accept_attempts == 4);
  REQUIRE(call.accepted_runtime);
  CHECK(*call.accepted_runtime == sip_runtime::realtime);
  CHECK(call.accept_body == realtime_accept);
  CHECK(call.requests.size() == 4);  // the unauthenticated one reached no call
}

TEST_CASE("sip sim: reject, refer and hangup are checked and recorded", "[sim][sip]") {
  running_simulator s;
  SECTION("reject") {
    const std::string id = s.simulator.place_sip_call({});
    const auto live_without_status = post(control_url(s, sip_runtime::live, id, "reject"), "{}");
    CHECK(live_without_status.status == 400);
    CHECK(post(control_url(s, sip_runtime::realtime, id, "reject"), R"({"status_code":200})").status == 400);
    CHECK(post(control_url(s, sip_runtime::realtime, id, "reject"), "").status == 200);
    const auto call = only_call(s.simulator.sip_calls());
    CHECK(call.reject_status == 603);
    CHECK(call.ended);
    CHECK(call.ended_by == "reject");
    CHECK(post(control_url(s, sip_runtime::realtime, id, "accept"), std::string(realtime_accept)).status == 404);
  }
  SECTION("refer and hangup") {
    const std::string id = accepted_call(s, sip_runtime::live);
    CHECK(post(control_url(s, sip_runtime::live, id, "refer"), R"({"target_uri":" "})").status == 400);
    CHECK(post(control_url(s, sip_runtime::live, id, "refer"), R"({"target_uri":"tel:+14155550123"})").status == 200);
    CHECK(post(control_url(s, sip_runtime::live, id, "hangup"), "").status == 200);
    CHECK(post(control_url(s, sip_runtime::live, id, "hangup"), "").status == 404);
    const auto call = only_call(s.simulator.sip_calls());
    CHECK(call.refers == std::vector<std::string>{"tel:+14155550123"});
    CHECK(call.hangups == 1);
    CHECK(call.ended_by == "hangup");
  }
}

TEST_CASE("sip sim: POST /sim/sip/invite places a call with the URI's headers", "[sim][sip]") {
  running_simulator s;
  const std::string uri = "sip:proj@127.0.0.1:5061;transport=tls?X-Mb-Agent=support&X-Mb-Var-name=Ada%20Lovelace"
                          "&X-Mb-Var-phone=+1555%26co";
  const auto reply = post(s.simulator.endpoint() + "/sim/sip/invite",
                          json::serialize(json::object{{"uri", uri}, {"from", "+15550001111"}}), /*bearer=*/false);
  REQUIRE(reply.status == 200);
  const std::string id = json::value_to<std::string>(json::parse(reply.body).at("call_id"));
  const auto call = only_call(s.simulator.sip_calls());
  CHECK(call.call_id == id);
  CHECK(call.from == "+15550001111");
  CHECK(mb::protocol::sip_header_value(call.sip_headers, "X-Mb-Agent") == "support");
  CHECK(mb::protocol::sip_header_value(call.sip_headers, "X-Mb-Var-name") == "Ada Lovelace");
  CHECK(mb::protocol::sip_header_value(call.sip_headers, "X-Mb-Var-phone") == "+1555&co");
  CHECK(post(s.simulator.endpoint() + "/sim/sip/invite", R"({"uri":"tel:+1555"})").status == 400);
}

TEST_CASE("sip sim: a sideband attaches only to an accepted call of its runtime, with a key", "[sim][sip]") {
  running_simulator s;
  const std::string realtime = accepted_call(s, sip_runtime::realtime);
  const std::string pending = s.simulator.place_sip_call({});
  const upgrade_headers key{{"Authorization", "Bearer sk-test"}};
  const upgrade_headers none;
  const std::string realtime_url = sideband_url(s, sip_runtime::realtime, realtime);
  const std::string live_url = sideband_url(s, sip_runtime::live, realtime);
  const std::string pending_url = sideband_url(s, sip_runtime::realtime, pending);
  const std::string unknown_url = sideband_url(s, sip_runtime::realtime, "rtc_nobody");
  std::vector<int> statuses;
  run_client([&]() -> awaitable<void> {
    statuses.push_back(co_await refused_status(realtime_url, none));
    statuses.push_back(co_await refused_status(live_url, key));
    statuses.push_back(co_await refused_status(pending_url, key));
    statuses.push_back(co_await refused_status(unknown_url, key));
    statuses.push_back(co_await refused_status(realtime_url, key));
  });
  CHECK(statuses == std::vector<int>{401, 404, 404, 404, 0});
}

TEST_CASE("sip sim: the Realtime sideband plays the scripted turns with DTMF, paced", "[sim][sip]") {
  running_simulator s(quick_script({{.dtmf = "5#"}, {}}));
  const std::string id = accepted_call(s, sip_runtime::realtime);
  run_client([&]() -> awaitable<void> {
    const std::string url = sideband_url(s, sip_runtime::realtime, id);
    auto c = co_await open_client(url);
    const auto created = co_await c.next();
    CHECK(created.at("type") == "session.created");
    CHECK(created.at("session").at("id").as_string() == id);
    // The bridge's greeting request is answered like any response.create.
    co_await c.send_text(R"({"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"Caller is VIP"}]}})");
    co_await c.send_text(R"({"type":"response.create","response":{"instructions":"Greet."}})");
    for (int done = 0; done < 3;) {
      const auto e = co_await c.next();
      done += e.at("type") == "response.done";
    }
  });
  const auto calls = s.simulator.sip_calls();
  const auto& call = only_call(calls);
  CHECK(call.turns_done == 2);
  CHECK(call.sideband_connects == 1);
  CHECK(call.context_texts == std::vector<std::string>{"Caller is VIP"});
  REQUIRE(call.response_creates.size() == 1);
  CHECK(call.received_types == std::vector<std::string>{"conversation.item.create", "response.create"});
}

TEST_CASE("sip sim: Realtime sideband events come in the order a listener expects", "[sim][sip]") {
  running_simulator s(quick_script({{.dtmf = "7", .caller_text = "I need help", .assistant_text = "Sure thing."}}));
  const std::string id = accepted_call(s, sip_runtime::realtime);
  std::vector<json::object> events;
  run_client([&]() -> awaitable<void> {
    const std::string url = sideband_url(s, sip_runtime::realtime, id);
    auto c = co_await open_client(url);
    (void)co_await c.until("response.done");
    events = c.events;
  });
  std::vector<std::string> types;
  std::string deltas;
  for (const auto& e : events) {
    types.emplace_back(e.at("type").as_string());
    if (e.at("type") == "response.output_audio_transcript.delta") deltas += e.at("delta").as_string();
  }
  const auto at = [&](std::string_view type) {
    return std::find(types.begin(), types.end(), type) - types.begin();
  };
  CHECK(at("input_audio_buffer.dtmf_event_received") < at("input_audio_buffer.speech_started"));
  CHECK(at("input_audio_buffer.speech_started") < at("input_audio_buffer.speech_stopped"));
  CHECK(at("input_audio_buffer.speech_stopped") < at("conversation.item.input_audio_transcription.completed"));
  CHECK(at("conversation.item.input_audio_transcription.completed") < at("response.created"));
  CHECK(at("response.created") < at("response.output_audio_transcript.delta"));
  CHECK(at("response.output_audio_transcript.delta") < at("response.output_audio_transcript.done"));
  CHECK(at("response.output_audio_transcript.done") < at("response.done"));
  const auto& dtmf = events[static_cast<std::size_t>(at("input_audio_buffer.dtmf_event_received"))];
  CHECK(dtmf.at("event") == "7");
  CHECK(dtmf.at("received_at").as_int64() >= now_unix() - 5);
  CHECK(events[static_cast<std::size_t>(at("conversation.item.input_audio_transcription.completed"))].at("transcript") ==
        "I need help");
  CHECK(deltas == "Sure thing.");
}

TEST_CASE("sip sim: a scripted tool call on the Realtime sideband waits for its result", "[sim][sip]") {
  auto options = quick_script({{}, {}});
  options.sip_conversation.tool_calls = {{.turn = 1, .tool = "lookup_order", .arguments_json = R"({"order":"A-17"})"}};
  running_simulator s(options);
  const std::string id = accepted_call(s, sip_runtime::realtime);
  std::string answer;
  run_client([&]() -> awaitable<void> {
    const std::string url = sideband_url(s, sip_runtime::realtime, id);
    auto c = co_await open_client(url);
    const auto call_done = co_await c.until("response.function_call_arguments.done");
    CHECK(call_done.at("name") == "lookup_order");
    CHECK(call_done.at("arguments") == R"({"order":"A-17"})");
    (void)co_await c.until("response.done");
    const std::string call_id(call_done.at("call_id").as_string());
    const std::string result = R"({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":")" +
                               call_id + R"(","output":"{\"status\":\"shipped\"}"}})";
    co_await c.send_text(result);
    co_await c.send_text(R"({"type":"response.create"})");
    const auto spoken = co_await c.until("response.output_audio_transcript.done");
    answer = std::string(spoken.at("transcript").as_string());
    const auto next_turn = co_await c.until("conversation.item.input_audio_transcription.completed");
    CHECK(next_turn.at("transcript") == "Caller utterance 2");
  });
  CHECK(answer.find("shipped") != std::string::npos);
  const auto call = only_call(s.simulator.sip_calls());
  REQUIRE(call.tool_calls.size() == 1);
  REQUIRE(call.tool_results.size() == 1);
  CHECK(call.tool_results[0].call_id == call.tool_calls[0].call_id);
}

TEST_CASE("sip sim: the GPT-Live sideband sends transcripts with timings, DTMF and speaks appends", "[sim][sip]") {
  running_simulator s(quick_script({{.dtmf = "1", .caller_text = "Hello there", .assistant_text = "Hi, how can I help?"}}));
  const std::string id = accepted_call(s, sip_runtime::live);
  std::vector<json::object> events;
  run_client([&]() -> awaitable<void> {
    const std::string url = sideband_url(s, sip_runtime::live, id);
    auto c = co_await open_client(url);
    co_await c.send_text(R"({"type":"session.instructions.append","content":"Greet the caller.","delegation_id":null})");
    const auto appended = co_await c.until("session.instructions.appended");
    CHECK(appended.at("client_event_id").is_null());
    // The greeting's words and the scripted turn: until the assistant said "help?".
    for (;;) {
      const auto e = co_await c.next();
      if (e.at("type") == "session.output_transcript.delta" && e.at("delta") == " help?") break;
    }
    s.simulator.end_sip_call(id);
    const auto closed = co_await c.until("session.closed");
    CHECK(closed.at("reason") == "remote_hangup");
    const std::uint16_t code = co_await c.closed_by_peer();
    CHECK(code == 1000);
    events = c.events;
  });
  std::string caller;
  std::int64_t last_end = 0;
  bool dtmf = false;
  for (const auto& e : events) {
    if (e.at("type") == "transport.dtmf.received") dtmf = e.at("event") == "1";
    if (e.at("type") == "session.input_transcript.delta") caller += e.at("delta").as_string();
    if (e.at("type") == "session.input_transcript.delta" || e.at("type") == "session.output_transcript.delta") {
      CHECK(e.at("start_ms").as_int64() >= last_end);
      CHECK(e.at("end_ms").as_int64() > e.at("start_ms").as_int64());
      last_end = e.at("end_ms").as_int64();
    }
  }
  CHECK(dtmf);
  CHECK(caller == "Hello there");
  const auto call = only_call(s.simulator.sip_calls());
  CHECK(call.context_texts == std::vector<std::string>{"Greet the caller."});
  CHECK(call.ended_by == "caller");
  CHECK(s.simulator.wait_for_sip([](const auto& calls) { return !calls[0].sideband_open; }, 5s));
}

TEST_CASE("sip sim: a dropped sideband reconnects and the script goes on where it was", "[sim][sip]") {
  running_simulator s(quick_script({{}, {}, {}}));
  const std::string id = accepted_call(s, sip_runtime::realtime);
  std::uint32_t turns_at_drop = 0;
  run_client([&]() -> awaitable<void> {
    const std::string url = sideband_url(s, sip_runtime::realtime, id);
    auto c = co_await open_client(url);
    (void)co_await c.until("response.done");
    s.simulator.drop_sideband(id);
    const std::uint16_t code = co_await close_code_after_events(c);
    CHECK(code == 0);  // no close frame
  });
  REQUIRE(s.simulator.wait_for_sip([](const auto& calls) { return !calls[0].sideband_open; }, 5s));
  turns_at_drop = only_call(s.simulator.sip_calls()).turns_done;
  REQUIRE(turns_at_drop >= 1);
  REQUIRE(turns_at_drop < 3);
  run_client([&]() -> awaitable<void> {
    const std::string url = sideband_url(s, sip_runtime::realtime, id);
    auto c = co_await open_client(url);
    const auto next = co_await c.until("conversation.item.input_audio_transcription.completed");
    CHECK(next.at("transcript").as_string() == "Caller utterance " + std::to_string(turns_at_drop + 1));
    s.simulator.end_sip_call(id);
    const std::uint16_t code = co_await close_code_after_events(c);
    CHECK(code == 1000);
  });
  const auto call = only_call(s.simulator.sip_calls());
  CHECK(call.sideband_connects == 2);
  CHECK(call.ended);
  const upgrade_headers key{{"Authorization", "Bearer sk-test"}};
  const std::string url = sideband_url(s, sip_runtime::realtime, id);
  int after_end = 0;
  run_client([&]() -> awaitable<void> { after_end = co_await refused_status(url, key); });
  CHECK(after_end == 404);
}

TEST_CASE("sip sim: the Twilio simulator rings the simulated SIP endpoint of <Dial><Sip>", "[sim][sip]") {
  running_simulator s;
  const std::string twiml = "<Response><Dial><Sip>" + s.simulator.sip_uri() +
                            "?X-Mb-Agent=support&amp;X-Mb-Call-Sid=CA00000000000000000000000000000001</Sip></Dial></Response>";
  webhook_listener voice({.status = 200, .content_type = "text/xml", .body = twiml});
  mb::tools::twilio::call_options call;
  call.webhook_url = voice.url("/voice");
  call.from = "+15550001111";
  const auto reports = mb::tools::twilio::run_calls({call}, 10000);
  REQUIRE(reports.size() == 1);
  const auto& report = reports[0];
  INFO(report.failure);
  CHECK(report.outcome == mb::tools::twilio::call_outcome::sip_dialed);
  CHECK(report.ok());
  const auto sip_call = only_call(s.simulator.sip_calls());
  CHECK(report.sip_call_id == sip_call.call_id);
  CHECK(sip_call.from == "+15550001111");
  CHECK(mb::protocol::sip_header_value(sip_call.sip_headers, "X-Mb-Agent") == "support");
  CHECK(mb::protocol::sip_header_value(sip_call.sip_headers, "X-Mb-Call-Sid") == "CA00000000000000000000000000000001");
}

TEST_CASE("sip sim: with caller_hangs_up_after_script the caller hangs up once the script is over", "[sim][sip]") {
  auto options = quick_script({{}});
  options.sip_conversation.caller_hangs_up_after_script = true;
  running_simulator s(options);
  const std::string id = accepted_call(s, sip_runtime::live);
  run_client([&]() -> awaitable<void> {
    auto c = co_await open_client(sideband_url(s, sip_runtime::live, id));
    const auto closed = co_await c.until("session.closed");
    CHECK(closed.at("reason") == "remote_hangup");
    const std::uint16_t code = co_await c.closed_by_peer();
    CHECK(code == 1000);
  });
  const auto call = only_call(s.simulator.sip_calls());
  CHECK(call.turns_done == 1);
  CHECK(call.ended);
  CHECK(call.ended_by == "caller");
}
