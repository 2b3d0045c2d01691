// Admission: nothing is published, stored or counted before a stream is authorised; webhooks reserve
// call slots; streams without an authorised start are bounded apart from calls; one live stream per
// CallSid (docs/security.md). Each test fails when its protection is removed.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

#include <boost/json.hpp>

#include "protocol/stream_token.hpp"
#include "protocol/twilio_signature.hpp"
#include "routing/route.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tools/twilio_sim/twiml_reader.hpp"

using namespace mb;
using metrics::stream_refusal;
using tools::twilio::audio_kind;
using tools::twilio::call_outcome;
using events_t = test::listener_client::events_t;
using headers_t = std::vector<std::pair<std::string, std::string>>;

namespace {

const std::string api_token = "admission-test-api-token";
const std::string auth_token = "0123456789abcdef0123456789abcdef";
const std::string live_sid = "CA44444444444444444444444444444444";
const std::string other_sid = "CA55555555555555555555555555555555";
const std::string token_parameter(protocol::stream_token_parameter);
const std::string silence_frame_b64 = std::string(212, 'A') + "AA==";  // 160 zero bytes, base64
const headers_t form_type = {{"Content-Type", "application/x-www-form-urlencoded"}};

const std::string softphone_path(routing::softphone_stream_path);

std::string softphone_target(const std::string& credential) { return softphone_path + "?token=" + credential; }
std::string base_url(const test::bridge_harness& h) { return "http://127.0.0.1:" + std::to_string(h.port()); }

std::string form_body(const std::string& call_sid) { return "CallSid=" + call_sid + "&From=%2B15551234567&To=%2B15557654321"; }

// POST /voice for `call_sid`, signed when `signing_token` is given (4 arguments: raw_stream.hpp's http()).
net::http_response webhook(const test::bridge_harness& h, const std::string& call_sid, const std::string& signing_token = {}) {
  auto headers = form_type;
  if (!signing_token.empty())
    headers.emplace_back("X-Twilio-Signature",
                         protocol::twilio_signature(signing_token, h.webhook_url(),
                                                    {{"CallSid", call_sid}, {"From", "+15551234567"}, {"To", "+15557654321"}}));
  return test::http("POST", h.webhook_url(), headers, form_body(call_sid));
}

// The stream token of a <Connect><Stream> answer; "" when the answer has none.
std::string stream_token_of(const std::string& twiml) {
  const auto doc = tools::twilio::read_twiml(twiml);
  if (doc.stream)
    for (const auto& p : doc.stream->parameters)
      if (p.name == token_parameter) return p.value;
  return {};
}

std::string forged(const std::string& token) { return token.substr(0, token.size() - 2) + "AA"; }

std::uint64_t refused(test::bridge_harness& h, stream_refusal why) {
  return h.context().bridge.metrics->streams_refused(why).value();
}
std::uint64_t calls_started(test::bridge_harness& h) { return h.context().bridge.metrics->calls_started.value(); }

int readyz(const test::bridge_harness& h) { return test::http("GET", base_url(h) + "/readyz", {}, {}).status; }

// The first (and only) upstream session of `h` still receives the call's audio; then the caller hangs up.
void relay_then_hang_up(test::bridge_harness& h, test::raw_stream& call, const std::string& stream_sid) {
  const auto before = h.simulator().sessions().at(0).input_audio_bytes;
  REQUIRE(call.send(test::raw_stream::media_message(stream_sid, 1, silence_frame_b64)));
  CHECK(h.simulator().wait_until([&](const auto& s) { return s[0].input_audio_bytes == before + 160; },
                                 std::chrono::seconds(5)));
  REQUIRE(call.send(test::raw_stream::stop_message(stream_sid)));
  CHECK(call.wait_closed() == 1000);
}

// Opens streams until one is accepted (places are freed a moment after a refused stream's close).
std::unique_ptr<test::raw_stream> open_when_free(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto stream = std::make_unique<test::raw_stream>(port);
  while (!stream->connected() && std::chrono::steady_clock::now() < deadline) stream = std::make_unique<test::raw_stream>(port);
  return stream;
}

}  // namespace

TEST_CASE("a softphone start without a valid stream token publishes, stores and counts nothing, and leaves the "
          "live call of its CallSid alone",
          "[integration][admission][security]") {
  test::harness_options o;
  o.listeners = true;
  o.simulator.response_ms = 500;
  o.tweak = [](config::settings& s, bridge::bridge_context&) { s.api_token = config::secret(api_token); };
  test::bridge_harness h(o);
  test::listener_client all({.port = h.port(), .target = "/v1/events?token=" + api_token});
  REQUIRE(all.wait_connected());

  // The genuine call: a Twilio stream with the token its webhook issued.
  const auto answer = webhook(h, live_sid);
  REQUIRE(answer.status == 200);
  const auto live_token = stream_token_of(answer.body);
  REQUIRE(!live_token.empty());
  test::raw_stream live(h.port());
  REQUIRE(live.send(test::raw_stream::start_message(live_sid, "MZlive", {{token_parameter, live_token}})));
  REQUIRE(all.wait_for([](const events_t& e) { return test::has_event(e, "call.started", live_sid); }));
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));
  test::listener_client of_live({.port = h.port(), .target = "/v1/calls/" + live_sid + "/events?token=" + api_token});
  REQUIRE(of_live.wait_for([](const events_t& e) { return test::has_event(e, "call.started", live_sid); }));
  REQUIRE(calls_started(h) == 1);

  // A page (or script) that gets past the upgrade cannot get past start without a valid token: the live
  // CallSid and a fresh one, with a forged token and with none.
  const std::vector<std::pair<std::string, headers_t>> attempts = {
      {live_sid, {{token_parameter, forged(live_token)}}},
      {live_sid, {}},
      {other_sid, {{token_parameter, forged(live_token)}}},
      {other_sid, {}},
  };
  for (const auto& [sid, parameters] : attempts) {
    test::raw_stream attacker(h.port(), {}, softphone_target(api_token));
    REQUIRE(attacker.connected());
    REQUIRE(attacker.send(test::raw_stream::connected_message()));
    REQUIRE(attacker.send(test::raw_stream::start_message(sid, "MZforged", parameters)));
    CHECK(attacker.wait_closed() == 1008);
  }
  CHECK(refused(h, stream_refusal::unauthorized) == attempts.size());
  CHECK(calls_started(h) == 1);
  CHECK(h.registry().active() == 1);
  CHECK(h.logs().contains("call " + other_sid + ": stream from 127.0.0.1 refused (unauthorized): no stream token"));

  // The genuine call goes on: its audio reaches the upstream, and it ends when its caller hangs up.
  relay_then_hang_up(h, live, "MZlive");
  REQUIRE(all.wait_for([](const events_t& e) { return test::has_event(e, "call.ended", live_sid); }));

  // Events of one process reach a listener in order: anything the refused streams had published came first.
  const auto events = all.events();
  CHECK(test::of_type(events, "call.started", live_sid).size() == 1);
  const auto ended = test::of_type(events, "call.ended", live_sid);
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].at("reason").as_string() == "caller_hung_up");
  CHECK_FALSE(test::has_event(events, "call.started", other_sid));
  REQUIRE(of_live.wait_closed());
  CHECK(test::of_type(of_live.events(), "call.ended", live_sid).size() == 1);

  const auto history = test::http("GET", base_url(h) + "/v1/calls", {{"Authorization", "Bearer " + api_token}}, {});
  REQUIRE(history.status == 200);
  const auto calls = boost::json::parse(history.body).at("calls").as_array();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].at("call_sid").as_string() == live_sid);
  CHECK(calls[0].at("end_reason").as_string() == "caller_hung_up");
}

TEST_CASE("the softphone stream's upgrade needs the dashboard's credential and this server's own origin",
          "[integration][admission][security]") {
  SECTION("with API_TOKEN") {
    test::bridge_harness h({.tweak = [](config::settings& s, bridge::bridge_context&) {
      s.api_token = config::secret(api_token);
    }});
    const auto own_origin = base_url(h);
    const std::vector<std::pair<headers_t, std::string>> refusals = {
        {{}, softphone_path},
        {{}, softphone_target("wrong-token")},
        {{{"Origin", "https://evil.example.com"}}, softphone_target(api_token)},
        {{{"Origin", "null"}}, softphone_target(api_token)},
    };
    const std::vector<int> statuses = {401, 401, 403, 403};
    for (std::size_t i = 0; i < refusals.size(); ++i) {
      test::raw_stream s(h.port(), refusals[i].first, refusals[i].second);
      INFO(refusals[i].second);
      CHECK_FALSE(s.connected());
      CHECK(s.http_status() == statuses[i]);
    }
    CHECK(refused(h, stream_refusal::unauthorized) == refusals.size());
    CHECK(h.logs().contains("softphone: refused a stream upgrade from 127.0.0.1: its Origin is not this server's"));
    test::raw_stream same_origin(h.port(), {{"Origin", own_origin}}, softphone_target(api_token));
    CHECK(same_origin.connected());
    test::raw_stream not_a_browser(h.port(), {}, softphone_target(api_token));
    CHECK(not_a_browser.connected());
  }
  SECTION("without API_TOKEN: local clients, from this origin") {
    test::bridge_harness h;
    const auto port = std::to_string(h.port());
    test::raw_stream same_origin(h.port(), {{"Origin", "http://127.0.0.1:" + port}}, softphone_path);
    CHECK(same_origin.connected());
    for (const std::string& origin : {std::string("https://evil.example.com"), "http://localhost:" + port}) {
      INFO(origin);
      test::raw_stream s(h.port(), {{"Origin", origin}}, softphone_path);
      CHECK_FALSE(s.connected());
      CHECK(s.http_status() == 403);
    }
  }
}

TEST_CASE("at MAX_CONCURRENT_CALLS=1 the second of two answered webhooks gets fallback TwiML",
          "[integration][admission]") {
  test::bridge_harness h({.tweak = [](config::settings& s, bridge::bridge_context&) {
    s.max_concurrent_calls = 1;
    s.fallback_say = "All lines are busy.";
  }});
  REQUIRE(readyz(h) == 200);
  const auto first = webhook(h, live_sid);
  REQUIRE(first.status == 200);
  CHECK(first.body.find("<Connect>") != std::string::npos);
  // The first call's stream has not started, but its slot is taken.
  CHECK(readyz(h) == 503);
  CHECK(h.metrics().render().find("\nmediabridge_reserved_calls 1\n") != std::string::npos);
  const auto second = webhook(h, other_sid);
  CHECK(second.status == 200);
  CHECK(second.body.find("<Say>All lines are busy.</Say><Hangup/>") != std::string::npos);
  CHECK(stream_token_of(second.body).empty());

  // The first call's stream takes its reserved slot. A stream nobody reserved for, with a token this
  // server's key signs (another instance's webhook), finds no free slot: try again later.
  test::raw_stream stream(h.port());
  REQUIRE(stream.send(test::raw_stream::start_message(live_sid, "MZ1", {{token_parameter, stream_token_of(first.body)}})));
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));
  test::raw_stream unreserved(h.port());
  REQUIRE(unreserved.send(
      test::raw_stream::start_message(other_sid, "MZ2", {{token_parameter, h.context().tokens.issue(other_sid)}})));
  CHECK(unreserved.wait_closed() == 1013);
  CHECK(refused(h, stream_refusal::full) == 1);
  CHECK(calls_started(h) == 1);
  REQUIRE(stream.send(test::raw_stream::stop_message("MZ1")));
  CHECK(stream.wait_closed() == 1000);
}

TEST_CASE("idle streams without an authorised start neither fill the call limit nor make /readyz 503",
          "[integration][admission]") {
  mb::simulator::simulator_options sim;
  sim.response_ms = 500;
  test::bridge_harness h({.simulator = sim, .tweak = [](config::settings& s, bridge::bridge_context&) {
                            s.max_concurrent_calls = 1;
                          }});
  std::vector<std::unique_ptr<test::raw_stream>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<test::raw_stream>(h.port(), headers_t{}, softphone_path));
  idle.push_back(std::make_unique<test::raw_stream>(h.port()));
  for (const auto& s : idle) REQUIRE(s->connected());
  CHECK(h.metrics().render().find("\nmediabridge_pending_streams 4\n") != std::string::npos);
  CHECK(readyz(h) == 200);

  auto reports = h.run({h.call({{audio_kind::speech, 200}, {audio_kind::silence, 1500}})});
  INFO(reports.at(0).failure);
  CHECK(reports.at(0).outcome == call_outcome::completed);
  CHECK(reports.at(0).played_audio.size() == 500 * 8);
}

TEST_CASE("streams without an authorised start are bounded by MAX_PENDING_STREAMS and STREAM_START_TIMEOUT_MS",
          "[integration][admission]") {
  test::bridge_harness h({.tweak = [](config::settings& s, bridge::bridge_context& b) {
    s.max_pending_streams = 2;
    b.lifecycle.start_timeout = std::chrono::milliseconds(300);
  }});
  test::raw_stream a(h.port());
  test::raw_stream b(h.port(), {}, softphone_path);
  REQUIRE(a.connected());
  REQUIRE(b.connected());
  test::raw_stream over(h.port());
  CHECK_FALSE(over.connected());
  CHECK(over.http_status() == 503);
  CHECK(refused(h, stream_refusal::too_many_pending) == 1);

  CHECK(a.wait_closed() == 1008);
  CHECK(b.wait_closed() == 1008);
  CHECK(refused(h, stream_refusal::no_start) == 2);
  CHECK(h.logs().contains("stream refused (no_start): no start within 300 ms"));
  CHECK(calls_started(h) == 0);

  // Their places are free again, and an admitted stream leaves its place at once.
  auto c = open_when_free(h.port(), std::chrono::seconds(5));
  REQUIRE(c->connected());
  REQUIRE(c->send(test::raw_stream::start_message(live_sid, "MZ1", {{token_parameter, h.context().tokens.issue(live_sid)}})));
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));
  CHECK(h.registry().pending() == 0);
  CHECK(calls_started(h) == 1);
  REQUIRE(c->send(test::raw_stream::stop_message("MZ1")));
  CHECK(c->wait_closed() == 1000);
}

TEST_CASE("a replayed webhook or a second stream for a live call is refused, and the call goes on",
          "[integration][admission][security]") {
  mb::simulator::simulator_options sim;
  sim.response_ms = 500;
  test::bridge_harness h({.simulator = sim, .tweak = [](config::settings& s, bridge::bridge_context&) {
                            s.twilio_auth_token = config::secret(auth_token);
                          }});
  const headers_t signed_upgrade = {
      {"X-Twilio-Signature",
       protocol::twilio_signature(auth_token, "ws://127.0.0.1:" + std::to_string(h.port()) + std::string(routing::media_stream_path), {})}};

  const auto answer = webhook(h, live_sid, auth_token);
  REQUIRE(answer.status == 200);
  test::raw_stream first(h.port(), signed_upgrade);
  REQUIRE(first.send(test::raw_stream::start_message(live_sid, "MZ1", {{token_parameter, stream_token_of(answer.body)}})));
  REQUIRE(h.simulator().wait_until([](const auto& s) { return s.size() == 1; }, std::chrono::seconds(5)));

  // The captured, correctly signed webhook, replayed while the call runs: no new token.
  const auto replay = webhook(h, live_sid, auth_token);
  CHECK(replay.status == 409);
  CHECK(stream_token_of(replay.body).empty());
  CHECK(h.logs().contains("webhook: refused call " + live_sid + " from 127.0.0.1: a stream for this call is already running"));

  // A replay that came before the first stream started got a token of its own (tokens are keyed by
  // TWILIO_AUTH_TOKEN; another second, another expiry, another token): its stream is refused all the same.
  const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  const auto replay_token = protocol::make_stream_token(auth_token, live_sid, unix_now + 60);
  REQUIRE(replay_token != stream_token_of(answer.body));
  test::raw_stream second(h.port(), signed_upgrade);
  REQUIRE(second.send(test::raw_stream::start_message(live_sid, "MZ2", {{token_parameter, replay_token}})));
  CHECK(second.wait_closed() == 1008);
  CHECK(refused(h, stream_refusal::already_live) == 1);

  // The first stream is untouched: its audio still flows, and it ends as its caller ends it.
  relay_then_hang_up(h, first, "MZ1");
  REQUIRE(h.events().wait_ended(1));
  const auto ended = h.events().ended();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].first.stream_sid == "MZ1");
  CHECK(ended[0].second.reason == call::end_reason::caller_hung_up);
  CHECK(h.simulator().sessions().size() == 1);
  CHECK(calls_started(h) == 1);
}
