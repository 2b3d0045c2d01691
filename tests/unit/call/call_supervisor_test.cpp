#include "call/call_supervisor.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace mb::call;
using namespace std::chrono_literals;
using strings = std::vector<std::string>;
using time_point = call_supervisor::time_point;

// Scripted calls, in the manner of Boost.Redis's run_fsm tests: each step feeds the supervisor one
// event at an explicit time on a fake clock and compares the actions it returns, rendered as short
// strings, with the list worked out by hand. Times are ms since the script's t0; "arm 5200" means
// "wake me at t0 + 5200 ms".

namespace {

const time_point t0 = time_point(std::chrono::hours(1));

// Round numbers, no jitter: every deadline in the scripts below can be checked by hand.
supervisor_options plain_options() {
  supervisor_options o;
  o.start_timeout = 10s;
  o.media_timeout = 10s;
  o.session_ready_timeout = 5s;
  o.max_duration = 4h;
  o.close_grace = 3s;
  o.reconnect_attempts = 3;
  o.backoff_base = 250ms;
  o.backoff_cap = 5s;
  o.backoff_jitter = 0.0;
  o.rollover_retry = 250ms;
  o.provider = openai_realtime_lifecycle;
  return o;
}

// Caller media is not modelled in the long scripts: a media deadline far away keeps it out of the way.
supervisor_options long_call_options() {
  auto o = plain_options();
  o.media_timeout = 2h;
  return o;
}

std::string ms_since_t0(time_point t) {
  if (t == time_point::max()) return "never";
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t - t0).count());
}

const char* level_name(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "?";
}

std::string describe(const supervisor_action& a) {
  struct visitor {
    std::string operator()(const connect_upstream&) const { return "connect"; }
    std::string operator()(const configure_upstream&) const { return "configure"; }
    std::string operator()(const close_upstream& c) const {
      return std::string("close_upstream ") + (c.mode == close_mode::graceful ? "graceful" : "abort");
    }
    std::string operator()(const pause_relay&) const { return "pause_relay"; }
    std::string operator()(const arm_timer& t) const { return "arm " + ms_since_t0(t.at); }
    std::string operator()(const close_call& c) const {
      return std::string("close_call ") + to_string(c.reason) + " " + std::to_string(c.twilio_close_code) + " '" +
             c.detail + "'";
    }
    std::string operator()(const abort_sockets&) const { return "abort_sockets"; }
    std::string operator()(const log_line& l) const { return std::string("log ") + level_name(l.level) + " '" + l.text + "'"; }
  };
  return std::visit(visitor{}, a);
}

// One call's supervisor and its fake clock. Each event method takes the time in ms since t0 and
// returns that event's actions.
class script {
 public:
  explicit script(supervisor_options options = plain_options(), std::uint64_t seed = 1) : supervisor_(options, seed) {}

  strings opened(std::int64_t ms) { return step(ms, [&](auto now, auto& out) { supervisor_.on_stream_opened(now, out); }); }
  strings started(std::int64_t ms) { return step(ms, [&](auto now, auto& out) { supervisor_.on_stream_started(now, out); }); }
  void media(std::int64_t ms) { supervisor_.on_caller_media(at(ms)); }
  strings connected(std::int64_t ms) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_upstream_connected(now, out); });
  }
  strings connect_failed(std::int64_t ms, std::string_view why) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_upstream_connect_failed(why, now, out); });
  }
  strings ready(std::int64_t ms) { return step(ms, [&](auto now, auto& out) { supervisor_.on_upstream_ready(now, out); }); }
  strings lost(std::int64_t ms, std::string_view why) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_upstream_lost(why, now, out); });
  }
  strings restart_requested(std::int64_t ms, std::string_view why) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_restart_requested(why, now, out); });
  }
  strings renewal_requested(std::int64_t ms, std::string_view why) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_renewal_requested(why, now, out); });
  }
  strings upstream_closed(std::int64_t ms) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_upstream_closed(now, out); });
  }
  strings timer(std::int64_t ms, bool assistant_quiet = true) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_timer(now, assistant_quiet, out); });
  }
  strings end(std::int64_t ms, end_reason reason, std::string detail) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_end_requested(reason, std::move(detail), now, out); });
  }
  strings sockets_closed(std::int64_t ms) {
    return step(ms, [&](auto now, auto& out) { supervisor_.on_sockets_closed(now, out); });
  }

  // Opened at 0, started at 100, connected at 200, ready at 300; returns the actions of the ready,
  // which arm the timer for whichever comes first of the media deadline, the rollover and the
  // maximum duration.
  strings up_and_ready() {
    opened(0);
    started(100);
    connected(200);
    auto actions = ready(300);
    REQUIRE(supervisor_.upstream_open());
    return actions;
  }

  [[nodiscard]] const call_supervisor& supervisor() const { return supervisor_; }

 private:
  static time_point at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

  template <class Event>
  strings step(std::int64_t ms, Event&& event) {
    out_.clear();
    event(at(ms), out_);
    strings rendered;
    for (const auto& a : out_) rendered.push_back(describe(a));
    return rendered;
  }

  call_supervisor supervisor_;
  std::vector<supervisor_action> out_;
};

// The delays of one backoff sequence: the upstream never connects; each failure's arm_timer is read.
std::vector<std::int64_t> backoff_delays(supervisor_options options, std::uint64_t seed, int failures) {
  options.reconnect_attempts = failures;
  options.media_timeout = 2h;
  script s(options, seed);
  s.opened(0);
  s.started(0);
  std::vector<std::int64_t> delays;
  std::int64_t now = 0;
  for (int i = 0; i < failures; ++i) {
    const auto actions = s.connect_failed(now, "refused");
    REQUIRE(actions.size() == 2);
    REQUIRE(actions[1].rfind("arm ", 0) == 0);
    const auto wake = std::stoll(actions[1].substr(4));
    delays.push_back(wake - now);
    now = wake;
    REQUIRE(s.timer(now).at(1) == "connect");
  }
  return delays;
}

}  // namespace

TEST_CASE("supervisor: a stream that sends no start within the start timeout is closed, then aborted after the grace",
          "[call][supervisor]") {
  script s;
  CHECK(s.opened(0) == strings{"arm 10000"});
  // A wake before the deadline (a timer raced with a re-arm) changes nothing.
  CHECK(s.timer(9999).empty());
  // Media before start does not count as the stream being alive.
  s.media(5000);
  CHECK(s.timer(10000) == strings{"close_call timeout 1011 'no start within 10000 ms'", "arm 13000"});
  CHECK(s.supervisor().ending());
  CHECK(s.timer(13000) ==
        strings{"log warn 'peers did not finish closing within 3000 ms; aborting'", "abort_sockets", "arm never"});
  CHECK(s.sockets_closed(13010).empty());
}

TEST_CASE("supervisor: start connects the upstream, which is configured, then ready", "[call][supervisor]") {
  script s;
  CHECK(s.opened(0) == strings{"arm 10000"});
  // Nothing reaches the upstream before the stream is authorised.
  CHECK_FALSE(s.supervisor().upstream_open());
  // The start deadline gives way to the media deadline.
  CHECK(s.started(100) == strings{"connect", "arm 10100"});
  CHECK_FALSE(s.supervisor().upstream_open());
  CHECK(s.connected(200) == strings{"configure", "arm 5200"});
  CHECK(s.supervisor().upstream_open());
  // The session-ready deadline is disarmed; the rollover (at 200 + 55 min) is later than the media deadline.
  CHECK(s.ready(300) == strings{"arm 10100"});
  CHECK(s.supervisor().upstream_open());
  CHECK_FALSE(s.supervisor().ending());
}

TEST_CASE("supervisor: events that do not apply in the current phase are ignored", "[call][supervisor]") {
  script s;
  CHECK(s.started(0).empty());  // before the stream opened
  CHECK(s.opened(0) == strings{"arm 10000"});
  CHECK(s.opened(10).empty());
  CHECK(s.ready(20).empty());  // no session yet
  CHECK(s.lost(20, "x").empty());
  CHECK(s.connected(20).empty());  // no connect was asked for
  CHECK(s.started(100) == strings{"connect", "arm 10100"});
  CHECK(s.started(110).empty());
  CHECK(s.upstream_closed(150).empty());  // nothing is being closed
  CHECK(s.restart_requested(150, "x").empty());  // no session to restart
  CHECK(s.connected(200) == strings{"configure", "arm 5200"});
  CHECK(s.connected(210).empty());
  CHECK(s.connect_failed(210, "x").empty());
  CHECK(s.ready(300) == strings{"arm 10100"});
  CHECK(s.ready(310).empty());
}

TEST_CASE("supervisor: caller media keeps the call alive without actions, media silence ends it",
          "[call][supervisor]") {
  script s;
  s.up_and_ready();
  s.media(5000);
  s.media(10000);
  // The deadline armed at start has gone stale: the timer moves it on instead of ending the call.
  CHECK(s.timer(10100) == strings{"arm 20000"});
  CHECK(s.timer(20000) == strings{"close_call timeout 1011 'Twilio sent no media for 10000 ms'", "arm 23000"});
  CHECK(s.supervisor().ending());
  CHECK_FALSE(s.supervisor().upstream_open());
}

TEST_CASE("supervisor: a session not ready in time is aborted and reconnected after a backoff",
          "[call][supervisor]") {
  script s;
  s.opened(0);
  s.started(100);
  CHECK(s.connected(200) == strings{"configure", "arm 5200"});
  CHECK(s.timer(5200) == strings{"log warn 'restarting the upstream session: upstream session not ready within 5000 ms'",
                                 "close_upstream abort", "pause_relay", "arm 10100"});
  CHECK_FALSE(s.supervisor().upstream_open());
  // A loss reported while the session is being closed on purpose is the same event: nothing more to do.
  CHECK(s.lost(5250, "socket closed").empty());
  CHECK(s.upstream_closed(5300) == strings{"arm 5550"});
  CHECK(s.timer(5550) == strings{"log info 'reconnecting to the upstream (attempt 1 of 3)'", "connect", "arm 10100"});
  CHECK(s.connected(5600) == strings{"configure"});  // its session deadline, 10600, is later than the media deadline
}

TEST_CASE("supervisor: with reconnects disabled, a session never ready ends the call as upstream_connect_failed",
          "[call][supervisor]") {
  auto options = plain_options();
  options.reconnect_attempts = 0;
  script s(options);
  s.opened(0);
  s.started(100);
  s.connected(200);
  CHECK(s.timer(5200) == strings{"log warn 'restarting the upstream session: upstream session not ready within 5000 ms'",
                                 "close_upstream abort",
                                 "close_call upstream_connect_failed 1011 'no upstream session became ready in 1 "
                                 "attempt(s); last: upstream session not ready within 5000 ms'",
                                 "arm 8200"});
}

TEST_CASE("supervisor: connect failures back off, doubling, and give up as upstream_connect_failed",
          "[call][supervisor]") {
  script s;
  s.opened(0);
  CHECK(s.started(100) == strings{"connect", "arm 10100"});
  CHECK(s.connect_failed(200, "refused") == strings{"log warn 'upstream connect failed: refused'", "arm 450"});
  CHECK(s.timer(450) == strings{"log info 'reconnecting to the upstream (attempt 1 of 3)'", "connect", "arm 10100"});
  CHECK(s.connect_failed(500, "refused") == strings{"log warn 'upstream connect failed: refused'", "arm 1000"});
  CHECK(s.timer(1000) == strings{"log info 'reconnecting to the upstream (attempt 2 of 3)'", "connect", "arm 10100"});
  CHECK(s.connect_failed(1100, "refused") == strings{"log warn 'upstream connect failed: refused'", "arm 2100"});
  CHECK(s.timer(2100) == strings{"log info 'reconnecting to the upstream (attempt 3 of 3)'", "connect", "arm 10100"});
  CHECK(s.connect_failed(2200, "TLS handshake failed") ==
        strings{"log warn 'upstream connect failed: TLS handshake failed'",
                "close_call upstream_connect_failed 1011 'no upstream session became ready in 4 attempt(s); last: TLS "
                "handshake failed'",
                "arm 5200"});
}

TEST_CASE("supervisor: the backoff doubles up to its cap", "[call][supervisor]") {
  CHECK(backoff_delays(plain_options(), 1, 8) == std::vector<std::int64_t>{250, 500, 1000, 2000, 4000, 5000, 5000, 5000});
}

TEST_CASE("supervisor: jitter shortens each backoff by at most its fraction, reproducibly per seed",
          "[call][supervisor]") {
  auto options = plain_options();
  options.backoff_jitter = 0.5;
  const std::vector<std::int64_t> full{250, 500, 1000, 2000, 4000, 5000, 5000, 5000};
  const auto delays = backoff_delays(options, 42, 8);
  REQUIRE(delays.size() == full.size());
  bool shortened = false;
  for (std::size_t i = 0; i < full.size(); ++i) {
    INFO("failure " << i + 1);
    CHECK(delays[i] <= full[i]);
    CHECK(delays[i] >= full[i] / 2);
    shortened = shortened || delays[i] < full[i];
  }
  CHECK(shortened);
  CHECK(backoff_delays(options, 42, 8) == delays);
  CHECK(backoff_delays(options, 43, 8) != delays);
}

TEST_CASE("supervisor: a session that worked resets the failure count", "[call][supervisor]") {
  script s(long_call_options());
  s.up_and_ready();
  CHECK(s.lost(1000, "upstream closed the socket (code 1006)") ==
        strings{"log warn 'upstream lost: upstream closed the socket (code 1006)'", "close_upstream abort", "pause_relay",
                "arm 7200100"});
  CHECK(s.upstream_closed(1010) == strings{"arm 1260"});
  CHECK(s.timer(1260) == strings{"log info 'reconnecting to the upstream (attempt 1 of 3)'", "connect", "arm 7200100"});
  CHECK(s.connect_failed(1300, "refused") == strings{"log warn 'upstream connect failed: refused'", "arm 1800"});
  CHECK(s.timer(1800) == strings{"log info 'reconnecting to the upstream (attempt 2 of 3)'", "connect", "arm 7200100"});
  CHECK(s.connected(1900) == strings{"configure", "arm 6900"});
  CHECK(s.ready(2000) == strings{"arm 3301900"});  // the new session's rollover: 1900 + 55 min
  // The next loss starts again at the first attempt and the shortest backoff.
  CHECK(s.lost(3000, "gone") ==
        strings{"log warn 'upstream lost: gone'", "close_upstream abort", "pause_relay", "arm 7200100"});
  CHECK(s.upstream_closed(3000) == strings{"arm 3250"});
  CHECK(s.timer(3250) == strings{"log info 'reconnecting to the upstream (attempt 1 of 3)'", "connect", "arm 7200100"});
}

TEST_CASE("supervisor: after a session that worked, giving up ends the call as upstream_error", "[call][supervisor]") {
  auto options = long_call_options();
  options.reconnect_attempts = 2;
  script s(options);
  s.up_and_ready();
  s.lost(1000, "gone");
  CHECK(s.upstream_closed(1000) == strings{"arm 1250"});
  CHECK(s.timer(1250) == strings{"log info 'reconnecting to the upstream (attempt 1 of 2)'", "connect", "arm 7200100"});
  CHECK(s.connect_failed(1300, "refused") == strings{"log warn 'upstream connect failed: refused'", "arm 1800"});
  CHECK(s.timer(1800) == strings{"log info 'reconnecting to the upstream (attempt 2 of 2)'", "connect", "arm 7200100"});
  CHECK(s.connect_failed(1900, "refused") ==
        strings{"log warn 'upstream connect failed: refused'",
                "close_call upstream_error 1011 'upstream lost and 2 reconnect attempt(s) failed; last: refused'",
                "arm 4900"});
}

TEST_CASE("supervisor: with reconnects disabled, a lost upstream ends the call at once", "[call][supervisor]") {
  auto options = long_call_options();
  options.reconnect_attempts = 0;
  script s(options);
  s.up_and_ready();
  CHECK(s.lost(1000, "gone") ==
        strings{"log warn 'upstream lost: gone'", "close_upstream abort",
                "close_call upstream_error 1011 'upstream lost and 0 reconnect attempt(s) failed; last: gone'",
                "arm 4000"});
  CHECK(s.upstream_closed(1100).empty());
}

TEST_CASE("supervisor: a restart the provider asks for closes gracefully and counts as a failure",
          "[call][supervisor]") {
  script s(long_call_options());
  s.up_and_ready();
  CHECK(s.restart_requested(1000, "upstream error session_expired: Your session hit the maximum duration") ==
        strings{"log warn 'restarting the upstream session: upstream error session_expired: Your session hit the "
                "maximum duration'",
                "close_upstream graceful", "pause_relay", "arm 7200100"});
  CHECK(s.upstream_closed(1100) == strings{"arm 1350"});
  CHECK(s.timer(1350) == strings{"log info 'reconnecting to the upstream (attempt 1 of 3)'", "connect", "arm 7200100"});
}

TEST_CASE("supervisor: the session rolls over before the provider's cap when the assistant is quiet, without counting "
          "a failure",
          "[call][supervisor]") {
  auto options = long_call_options();
  options.reconnect_attempts = 0;  // a rollover is no failure: it reconnects even so
  script s(options);
  s.up_and_ready();  // connected at 200: the 60-minute cap less 5 minutes falls at 3300200
  CHECK(s.timer(3300200) == strings{"log info 'rolling over the upstream session before its 60-minute cap'",
                                    "close_upstream graceful", "pause_relay", "arm 7200100"});
  CHECK_FALSE(s.supervisor().upstream_open());
  CHECK(s.upstream_closed(3300300) == strings{"connect"});
  CHECK(s.connected(3300400) == strings{"configure", "arm 3305400"});
  CHECK(s.ready(3300500) == strings{"arm 6600400"});
}

TEST_CASE("supervisor: a rollover waits for a pause in the assistant's speech", "[call][supervisor]") {
  script s(long_call_options());
  s.up_and_ready();
  CHECK(s.timer(3300200, false) == strings{"arm 3300450"});
  CHECK(s.timer(3300450, false) == strings{"arm 3300700"});
  CHECK(s.supervisor().upstream_open());
  CHECK(s.timer(3300700, true) == strings{"log info 'rolling over the upstream session before its 60-minute cap'",
                                          "close_upstream graceful", "pause_relay", "arm 7200100"});
}

TEST_CASE("supervisor: a renewal the provider announces (Gemini's goAway) rolls over at the next pause, without "
          "counting a failure",
          "[call][supervisor]") {
  auto options = long_call_options();
  options.reconnect_attempts = 0;  // a renewal is no failure: it reconnects even so
  options.provider = mb::upstream::gemini_live_lifecycle;
  script s(options);
  CHECK(s.up_and_ready() == strings{"arm 510200"});  // 200 + 10 min - 90 s
  CHECK(s.renewal_requested(60000, "ends in 50000 ms") == strings{"arm 60000"});
  CHECK(s.timer(60000, false) == strings{"arm 60250"});  // the assistant is speaking: look again
  CHECK(s.supervisor().upstream_open());
  CHECK(s.timer(60250, true) == strings{"log info 'rolling over the upstream session: ends in 50000 ms'",
                                        "close_upstream graceful", "pause_relay", "arm 7200100"});
  CHECK(s.upstream_closed(60300) == strings{"connect"});
  CHECK(s.connected(60400) == strings{"configure", "arm 65400"});
  // The new session's age counts from its own connect, and the renewal's reason is forgotten.
  CHECK(s.ready(60500) == strings{"arm 570400"});
  CHECK(s.timer(570400, true) == strings{"log info 'rolling over the upstream session before its 10-minute cap'",
                                         "close_upstream graceful", "pause_relay", "arm 7200100"});
}

TEST_CASE("supervisor: a renewal is ignored unless a session is ready", "[call][supervisor]") {
  script s(long_call_options());
  CHECK(s.opened(0) == strings{"arm 10000"});
  CHECK(s.renewal_requested(50, "soon").empty());
  s.started(100);
  CHECK(s.renewal_requested(150, "soon").empty());  // connecting
  s.connected(200);
  CHECK(s.renewal_requested(250, "soon").empty());  // configuring: the session is new anyway
}

TEST_CASE("supervisor: the rollover follows the provider's cap, no cap, no rollover", "[call][supervisor]") {
  auto azure = long_call_options();
  azure.provider = azure_realtime_lifecycle;
  script a(azure);
  CHECK(a.up_and_ready() == strings{"arm 1500200"});  // 200 + 30 min - 5 min

  auto uncapped = long_call_options();
  uncapped.provider = provider_lifecycle{std::nullopt};
  script u(uncapped);
  CHECK(u.up_and_ready() == strings{"arm 7200100"});  // only the media deadline is left
}

TEST_CASE("supervisor: the operator's rollover age replaces the provider's when shorter than the cap",
          "[call][supervisor]") {
  auto early = long_call_options();
  early.rollover_after = 600s;
  script e(early);
  e.up_and_ready();  // connected at 200
  CHECK(e.timer(600200) == strings{"log info 'rolling over the upstream session before its 60-minute cap'",
                                   "close_upstream graceful", "pause_relay", "arm 7200100"});

  // At or beyond the cap the setting would be too late: the cap less the margin holds.
  auto late = long_call_options();
  late.rollover_after = 60min;
  script l(late);
  CHECK(l.up_and_ready() == strings{"arm 3300200"});

  // Without a cap the operator's age is the only rollover.
  auto uncapped = long_call_options();
  uncapped.provider = provider_lifecycle{std::nullopt};
  uncapped.rollover_after = 90s;
  script u(uncapped);
  u.up_and_ready();
  CHECK(u.timer(90200) == strings{"log info 'rolling over the upstream session after 90 s'", "close_upstream graceful",
                                  "pause_relay", "arm 7200100"});
}

TEST_CASE("supervisor: the maximum call duration ends the call", "[call][supervisor]") {
  auto options = long_call_options();
  options.max_duration = 60s;
  script s(options);
  CHECK(s.up_and_ready() == strings{"arm 60000"});
  CHECK(s.timer(60000) == strings{"close_call timeout 1011 'maximum call duration of 60 s'", "arm 63000"});
}

TEST_CASE("supervisor: peers that close within the grace are not aborted", "[call][supervisor]") {
  script s;
  s.up_and_ready();
  CHECK(s.end(1000, end_reason::caller_hung_up, "Twilio sent stop") ==
        strings{"close_call caller_hung_up 1000 'Twilio sent stop'", "arm 4000"});
  CHECK_FALSE(s.supervisor().upstream_open());
  CHECK(s.sockets_closed(1500) == strings{"arm never"});
  CHECK(s.timer(4000).empty());
}

TEST_CASE("supervisor: peers that do not close within the grace are aborted", "[call][supervisor]") {
  script s;
  s.up_and_ready();
  CHECK(s.end(1000, end_reason::upstream_closed, "the upstream closed the socket") ==
        strings{"close_call upstream_closed 1000 'the upstream closed the socket'", "arm 4000"});
  // Deadlines of the running call are gone: only the grace is left.
  CHECK(s.timer(3999).empty());
  CHECK(s.timer(4000) ==
        strings{"log warn 'peers did not finish closing within 3000 ms; aborting'", "abort_sockets", "arm never"});
  CHECK(s.sockets_closed(4100).empty());
}

TEST_CASE("supervisor: an end while connecting drops the connect's late result", "[call][supervisor]") {
  script s;
  s.opened(0);
  CHECK(s.started(100) == strings{"connect", "arm 10100"});
  CHECK(s.end(150, end_reason::twilio_closed, "Twilio closed the socket (code 1000)") ==
        strings{"close_call twilio_closed 1000 'Twilio closed the socket (code 1000)'", "arm 3150"});
  // The socket opened anyway: it has no call to serve.
  CHECK(s.connected(200) == strings{"close_upstream abort"});
  CHECK(s.upstream_closed(210).empty());
  CHECK(s.connect_failed(220, "operation aborted").empty());
  CHECK(s.ready(230).empty());
  CHECK_FALSE(s.supervisor().upstream_open());
}

TEST_CASE("supervisor: an end while backing off cancels the reconnect", "[call][supervisor]") {
  script s;
  s.opened(0);
  s.started(100);
  CHECK(s.connect_failed(200, "refused") == strings{"log warn 'upstream connect failed: refused'", "arm 450"});
  CHECK(s.end(300, end_reason::caller_hung_up, "Twilio sent stop") ==
        strings{"close_call caller_hung_up 1000 'Twilio sent stop'", "arm 3300"});
  CHECK(s.timer(450).empty());  // a wake for the old backoff
  CHECK(s.timer(3300) ==
        strings{"log warn 'peers did not finish closing within 3000 ms; aborting'", "abort_sockets", "arm never"});
}

TEST_CASE("supervisor: only the first end counts, shutdown closes Twilio with 1001", "[call][supervisor]") {
  script s;
  s.up_and_ready();
  CHECK(s.end(1000, end_reason::shutdown, "server is shutting down") ==
        strings{"close_call shutdown 1001 'server is shutting down'", "arm 4000"});
  CHECK(s.end(1001, end_reason::slow_peer, "writer queue full").empty());
  CHECK(s.lost(1002, "gone").empty());
  CHECK(s.restart_requested(1003, "server_error").empty());
  CHECK(s.timer(1004).empty());
}

TEST_CASE("supervisor: Twilio's close code follows the end reason", "[call][supervisor]") {
  CHECK(close_code_for(end_reason::caller_hung_up) == 1000);
  CHECK(close_code_for(end_reason::twilio_closed) == 1000);
  CHECK(close_code_for(end_reason::upstream_closed) == 1000);
  CHECK(close_code_for(end_reason::shutdown) == 1001);
  CHECK(close_code_for(end_reason::bad_input) == 1008);
  CHECK(close_code_for(end_reason::bad_media_format) == 1008);
  CHECK(close_code_for(end_reason::upstream_error) == 1011);
  CHECK(close_code_for(end_reason::upstream_connect_failed) == 1011);
  CHECK(close_code_for(end_reason::format_mismatch) == 1011);
  CHECK(close_code_for(end_reason::slow_peer) == 1011);
  CHECK(close_code_for(end_reason::timeout) == 1011);
}
