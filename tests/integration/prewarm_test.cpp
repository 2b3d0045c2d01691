// PREWARM: the voice webhook opens the call's upstream session, its stream takes it over; a session no
// stream claims is closed after PREWARM_TTL_MS; only the call's own authorised stream, asking for the
// same profile and variables, claims it; drain closes the unclaimed ones.

#include <catch2/catch.hpp>

#include <signal.h>

#include <future>

#include "protocol/form.hpp"
#include "protocol/stream_token.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/raw_stream.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tools/twilio_sim/twiml_reader.hpp"

using namespace mb;
using tools::twilio::audio_kind;
using snapshots = std::vector<mb::simulator::session_snapshot>;
using namespace std::chrono_literals;

namespace {

constexpr int ttl_ms = 600;

test::harness_options prewarmed(bool on = true) {
  test::harness_options o;
  o.simulator.response_ms = 600;
  o.tweak = [on](config::settings& s, bridge::bridge_context&) {
    s.prewarm = on;
    s.prewarm_ttl_ms = ttl_ms;
  };
  return o;
}

// What a webhook answered: the stream URL and its parameters (the stream token among them).
struct answered {
  std::string stream_path;
  std::vector<std::pair<std::string, std::string>> parameters;
  [[nodiscard]] std::string token() const {
    for (const auto& [name, value] : parameters)
      if (name == protocol::stream_token_parameter) return value;
    return {};
  }
};

answered post_webhook(std::uint16_t port, const std::string& call_sid) {
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  const auto reply = test::http("POST", base + "/voice", {{"Content-Type", "application/x-www-form-urlencoded"}},
                                protocol::encode_form({{"CallSid", call_sid},
                                                       {"AccountSid", "AC0123"},
                                                       {"From", "+15005550006"},
                                                       {"To", "+15005550001"}}));
  REQUIRE(reply.status == 200);
  const auto twiml = tools::twilio::read_twiml(reply.body);
  REQUIRE(twiml.stream);
  answered a;
  const auto& url = twiml.stream->url;
  a.stream_path = url.substr(url.find('/', url.find("//") + 2));
  for (const auto& p : twiml.stream->parameters) a.parameters.emplace_back(p.name, p.value);
  return a;
}

bool untouched_and_closed(const mb::simulator::session_snapshot& s) { return s.closed && s.messages_received == 0; }

}  // namespace

TEST_CASE("prewarm: the stream claims the session the webhook opened", "[integration][prewarm]") {
  test::bridge_harness h(prewarmed());
  auto call = h.call({{audio_kind::speech, 400}, {audio_kind::silence, 1200}});
  bool connected_before_stream = false;
  call.before_stream = [&](const tools::twilio::call_report& r) {
    CHECK(r.stream_url.find("/media-stream/") != std::string::npos);  // names the worker holding the session
    connected_before_stream = h.simulator().wait_until([](const snapshots& s) { return s.size() == 1; }, 5s);
  };
  const auto reports = h.run({call});
  REQUIRE(reports.at(0).ok());
  CHECK(connected_before_stream);
  CHECK(reports.at(0).media_frames_received > 0);  // the session answered through the claimed socket
  REQUIRE(h.simulator().wait_until([](const snapshots& s) { return !s.empty() && s[0].closed; }, 5s));
  const auto sessions = h.simulator().sessions();
  CHECK(sessions.size() == 1);
  CHECK(sessions.at(0).session_updates.size() == 1);
  CHECK(h.prewarm()->size() == 0);
  const auto metrics = h.metrics().render();
  CHECK(metrics.find("\nmediabridge_prewarm_sessions_total{outcome=\"opened\"} 1\n") != std::string::npos);
  CHECK(metrics.find("\nmediabridge_prewarm_sessions_total{outcome=\"claimed\"} 1\n") != std::string::npos);
  CHECK(metrics.find("\nmediabridge_prewarm_waiting 0\n") != std::string::npos);
}

TEST_CASE("prewarm: a session no stream claims is closed after PREWARM_TTL_MS", "[integration][prewarm]") {
  test::bridge_harness h(prewarmed());
  const auto answered_at = std::chrono::steady_clock::now();
  post_webhook(h.port(), "CA00000000000000000000000000000001");
  REQUIRE(h.simulator().wait_until([](const snapshots& s) { return s.size() == 1; }, 5s));
  REQUIRE(h.simulator().wait_until([](const snapshots& s) { return !s.empty() && s[0].closed; }, 5s));
  CHECK(std::chrono::steady_clock::now() - answered_at >= std::chrono::milliseconds(ttl_ms));
  const auto session = h.simulator().sessions().at(0);
  CHECK(untouched_and_closed(session));
  CHECK(session.clean_close);
  CHECK(session.close_code == 1000);
  CHECK(h.prewarm()->size() == 0);
  CHECK(h.prewarm()->stats().expired == 1);
  CHECK(h.prewarm()->stats().claimed == 0);
  CHECK(h.logs().wait_for("no stream claimed it within PREWARM_TTL_MS"));
}

TEST_CASE("prewarm: a stream for another CallSid cannot claim it", "[integration][prewarm]") {
  test::bridge_harness h(prewarmed());
  const auto a = post_webhook(h.port(), "CA0000000000000000000000000000000a");
  REQUIRE(h.simulator().wait_until([](const snapshots& s) { return s.size() == 1; }, 5s));
  // The stream names A's worker and carries A's token, but starts as call B: the token is A's.
  test::raw_stream stream(h.port(), {}, a.stream_path);
  REQUIRE(stream.connected());
  REQUIRE(stream.send(test::raw_stream::connected_message()));
  REQUIRE(stream.send(test::raw_stream::start_message("CA0000000000000000000000000000000b", "MZ1", a.parameters)));
  CHECK(stream.wait_closed() == 1008);
  // A's session is left alone until its TTL; nothing else was opened.
  REQUIRE(h.simulator().wait_until([](const snapshots& s) { return !s.empty() && s[0].closed; }, 5s));
  const auto sessions = h.simulator().sessions();
  CHECK(sessions.size() == 1);
  CHECK(untouched_and_closed(sessions.at(0)));
  CHECK(h.prewarm()->stats().claimed == 0);
  CHECK(h.prewarm()->stats().expired == 1);
}

TEST_CASE("prewarm: a start asking for other variables closes the session and connects anew",
          "[integration][prewarm]") {
  test::bridge_harness h(prewarmed());
  const auto a = post_webhook(h.port(), "CA0000000000000000000000000000000c");
  REQUIRE(h.simulator().wait_until([](const snapshots& s) { return s.size() == 1; }, 5s));
  auto parameters = a.parameters;
  parameters.emplace_back("topic", "something the webhook did not prepare");
  test::raw_stream stream(h.port(), {}, a.stream_path);
  REQUIRE(stream.connected());
  REQUIRE(stream.send(test::raw_stream::connected_message()));
  REQUIRE(stream.send(test::raw_stream::start_message("CA0000000000000000000000000000000c", "MZ1", parameters)));
  REQUIRE(h.simulator().wait_until(
      [](const snapshots& s) { return s.size() == 2 && s[0].closed && !s[1].session_updates.empty(); }, 5s));
  CHECK(untouched_and_closed(h.simulator().sessions().at(0)));
  CHECK(h.prewarm()->stats().unused == 1);
  CHECK(h.prewarm()->stats().claimed == 0);
  CHECK(h.logs().wait_for("pre-warmed upstream session not used"));
}

TEST_CASE("prewarm: off, the webhook opens nothing and the stream URL is the plain one", "[integration][prewarm]") {
  test::bridge_harness h(prewarmed(false));
  REQUIRE(h.prewarm() == nullptr);
  auto call = h.call({{audio_kind::speech, 400}, {audio_kind::silence, 1200}});
  std::size_t sessions_at_stream = 99;
  call.before_stream = [&](const tools::twilio::call_report& r) {
    CHECK(r.stream_url.ends_with(routing::media_stream_path));
    sessions_at_stream = h.simulator().sessions().size();
  };
  const auto reports = h.run({call});
  REQUIRE(reports.at(0).ok());
  CHECK(sessions_at_stream == 0);
  CHECK(h.simulator().sessions().size() == 1);
}

TEST_CASE("prewarm: drain closes the sessions no stream has claimed", "[integration][prewarm][drain]") {
  asio::io_context sim_ioc;
  mb::simulator::upstream_simulator sim(sim_ioc, {});
  sim.listen("127.0.0.1", 0);
  std::thread sim_thread([&] { sim_ioc.run(); });
  test::temp_dir dir;
  const auto port = test::free_port();
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  {
    test::server_process process({"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port), "PUBLIC_URL=" + base,
                                  "DATABASE_PATH=:memory:", "DRAIN_TIMEOUT_S=20", "LOG_LEVEL=info", "PREWARM=true",
                                  "PREWARM_TTL_MS=30000", "OPENAI_API_KEY=sk-test",
                                  "OPENAI_REALTIME_URL=" + sim.url_for(upstream::provider_kind::openai_realtime)},
                                 dir.file("mediabridge.log"));
    REQUIRE(test::wait_healthy(port, 10s));
    // A running call keeps the process draining while the unclaimed session is looked at.
    tools::twilio::call_options running;
    running.webhook_url = base + "/voice";
    running.script = {{audio_kind::speech, 300}, {audio_kind::silence, 4000}};
    running.timeout_ms = 20000;
    auto call = std::async(std::launch::async, [&] { return tools::twilio::run_calls({running}, 20000); });
    REQUIRE(sim.wait_until([](const snapshots& s) { return s.size() == 1 && !s[0].session_updates.empty(); }, 5s));
    post_webhook(port, "CA0000000000000000000000000000000d");
    REQUIRE(sim.wait_until([](const snapshots& s) { return s.size() == 2; }, 5s));

    const auto signalled_at = std::chrono::steady_clock::now();
    process.signal(SIGTERM);
    REQUIRE(sim.wait_until([](const snapshots& s) { return s.size() == 2 && s[1].closed; }, 5s));
    CHECK(std::chrono::steady_clock::now() - signalled_at < 5s);  // long before its 30 s TTL
    const auto sessions = sim.sessions();
    CHECK(untouched_and_closed(sessions.at(1)));
    CHECK(sessions.at(1).clean_close);
    CHECK_FALSE(sessions.at(0).closed);  // the running call goes on
    const auto reports = call.get();
    CHECK(reports.at(0).ok());
    CHECK(process.wait_exit(10s).has_value());
  }
  sim.stop();
  sim_ioc.stop();
  sim_thread.join();
}
