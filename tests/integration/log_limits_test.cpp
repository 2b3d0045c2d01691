// Log lines that peers cause are bounded per connection and process-wide, cut to a sane length, and
// can never forge a line: what one socket or many sockets send shows up as a few lines and a count.

#include <catch2/catch.hpp>

#include <chrono>
#include <sstream>

#include <boost/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "log/line_budget.hpp"
#include "protocol/twilio_signature.hpp"
#include "server/logging.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/text_files.hpp"
#include "tests/integration/support/raw_stream.hpp"

using namespace mb;
using steady = std::chrono::steady_clock;

namespace {

std::string call_sid(int i) {
  auto digits = std::to_string(i);
  return "CA" + std::string(32 - digits.size(), '5') + digits;
}

std::string unknown_event(std::size_t name_bytes) {
  return R"({"event":")" + std::string(name_bytes, 'x') + R"(","streamSid":"MZ55"})";
}

// Opens a stream and has its start authorised, so that what follows is a started call's traffic.
std::unique_ptr<test::raw_stream> started_stream(test::bridge_harness& h, const std::string& sid) {
  auto s = std::make_unique<test::raw_stream>(h.port());
  REQUIRE(s->connected());
  REQUIRE(s->send(test::raw_stream::start_message(
      sid, "MZ55", {{std::string(protocol::stream_token_parameter), h.context().tokens.issue(sid)}})));
  REQUIRE(h.logs().wait_for("call " + sid + ": stream MZ55 started"));
  return s;
}

bool is_flood_line(const std::string& line) {
  return line.find("ignoring unknown Twilio event") != std::string::npos ||
         line.find("ignoring a second Twilio start") != std::string::npos;
}

// The number after `name=` in a summary line.
std::uint64_t field(const std::string& line, const std::string& name) {
  const auto at = line.find(" " + name + "=");
  REQUIRE(at != std::string::npos);
  return std::stoull(line.substr(at + name.size() + 2));
}

std::int64_t ms(steady::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// Lines a budget can let through in `elapsed`: its burst, plus one per refill interval begun.
std::uint64_t allowed(const log::budget_options& budget, steady::duration elapsed) {
  return budget.burst + static_cast<std::uint64_t>(ms(elapsed) / budget.refill_interval_ms) + 1;
}

std::uint64_t suppressed_metric(test::bridge_harness& h) {
  return std::stoull(test::sample(h.metrics().render(), "mediabridge_log_lines_suppressed_total"));
}

}  // namespace

TEST_CASE("one Twilio stream flooding unknown events and repeated starts causes a bounded number of log lines",
          "[integration][log-limits]") {
  test::bridge_harness h;
  const auto sid = call_sid(1);
  auto s = started_stream(h, sid);

  const auto begun = steady::now();
  constexpr int floods = 3000;
  for (int i = 0; i < floods; ++i) {
    // Long names from the start, so that some reach the log (cut) before the budget is spent.
    const auto message = i % 10 == 1  ? unknown_event(60 * 1024)
                         : i % 7 == 0 ? test::raw_stream::start_message(sid, "MZ55", {})
                                      : unknown_event(8);
    REQUIRE(s->send(message));
  }
  REQUIRE(s->send(test::raw_stream::stop_message("MZ55")));
  CHECK(s->wait_closed(std::chrono::seconds(20)) == 1000);  // the stop was read after every flood message
  REQUIRE(h.logs().wait_for("call " + sid + ": ended reason=caller_hung_up"));
  const auto elapsed = steady::now() - begun;

  std::uint64_t written = 0;
  std::string summary;
  for (const auto& line : h.logs().lines()) {
    if (line.find(sid) == std::string::npos) continue;
    CHECK(line.size() < 1024);  // a 60 KiB event name is cut
    if (is_flood_line(line)) ++written;
    if (line.find(": ended reason=") != std::string::npos) summary = line;
  }
  INFO("written " << written << " in " << ms(elapsed) << " ms");
  CHECK(written >= log::per_connection_budget.burst);
  CHECK(written <= allowed(log::per_connection_budget, elapsed));
  // Every flood message is accounted for: written, or counted in the call's summary line.
  CHECK(written + field(summary, "log_lines_suppressed") == floods);
  CHECK(h.logs().contains("ignoring unknown Twilio event 'xxxxxxxx"));
  CHECK(h.logs().contains("...[cut 61240 bytes]'"));
  CHECK(suppressed_metric(h) == floods - written);
}

TEST_CASE("many Twilio streams flooding at once stay within the process-wide log budget",
          "[integration][log-limits]") {
  test::bridge_harness h;
  constexpr int streams = 40;
  constexpr int floods_each = 200;
  std::vector<std::unique_ptr<test::raw_stream>> sockets;
  for (int i = 0; i < streams; ++i) sockets.push_back(started_stream(h, call_sid(100 + i)));

  const auto begun = steady::now();
  for (int round = 0; round < floods_each; ++round)
    for (auto& s : sockets) REQUIRE(s->send(unknown_event(16)));
  for (auto& s : sockets) REQUIRE(s->send(test::raw_stream::stop_message("MZ55")));
  for (auto& s : sockets) CHECK(s->wait_closed(std::chrono::seconds(20)) == 1000);
  REQUIRE(h.events().wait_ended(streams));
  const auto elapsed = steady::now() - begun;

  std::uint64_t written = 0, suppressed = 0, summaries = 0;
  for (const auto& line : h.logs().lines()) {
    if (is_flood_line(line)) ++written;
    if (line.find(": ended reason=") != std::string::npos) {
      ++summaries;
      suppressed += field(line, "log_lines_suppressed");
    }
  }
  INFO("written " << written << " in " << ms(elapsed) << " ms");
  CHECK(summaries == streams);  // a started call's summary is always written
  CHECK(written <= allowed(log::process_budget, elapsed));
  CHECK(written + suppressed == std::uint64_t{streams} * floods_each);
}

TEST_CASE("signed webhooks are logged in full, beyond the peer budgets", "[integration][log-limits]") {
  const std::string auth_token = "0123456789abcdef";
  test::harness_options o;
  o.tweak = [&](config::settings& s, bridge::bridge_context&) { s.twilio_auth_token = config::secret(auth_token); };
  test::bridge_harness h(o);
  // More than the process-wide burst: a busy Twilio account (or one proxy connection reused for many
  // calls) must not lose the line that says where each call went.
  constexpr int requests = 2 * static_cast<int>(log::process_budget.burst);
  for (int i = 0; i < requests; ++i) {
    const auto sid = call_sid(1000 + i);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"X-Twilio-Signature", protocol::twilio_signature(auth_token, h.webhook_url(), {{"CallSid", sid}})}};
    REQUIRE(test::http("POST", h.webhook_url(), headers, "CallSid=" + sid).status == 200);
  }
  std::uint64_t written = 0;
  for (const auto& line : h.logs().lines())
    if (line.find("webhook: call CA") != std::string::npos) ++written;
  CHECK(written == requests);
  CHECK(suppressed_metric(h) == 0);
}

TEST_CASE("unsigned webhooks from many connections stay within the process-wide log budget",
          "[integration][log-limits]") {
  test::harness_options o;
  o.tweak = [](config::settings& s, bridge::bridge_context&) {
    s.twilio_auth_token = config::secret("0123456789abcdef");
  };
  test::bridge_harness h(o);
  constexpr int requests = 400;
  const auto begun = steady::now();
  for (int i = 0; i < requests; ++i)
    REQUIRE(test::http("POST", h.webhook_url(), {}, "CallSid=" + call_sid(i)).status == 403);
  const auto elapsed = steady::now() - begun;

  std::uint64_t written = 0;
  for (const auto& line : h.logs().lines())
    if (line.find("refused voice webhook from 127.0.0.1") != std::string::npos) ++written;
  INFO("written " << written << " in " << ms(elapsed) << " ms");
  CHECK(written >= 1);
  CHECK(written <= allowed(log::process_budget, elapsed));
  // Each of these connections refused one request: what the others lost is noted on a later line.
  CHECK(h.logs().contains("(log lines suppressed: "));
  CHECK(h.logs().contains(" from all peers)"));
  CHECK(suppressed_metric(h) == requests - written);
}

TEST_CASE("a CallSid with a newline in the webhook cannot forge a log line", "[integration][log-limits]") {
  test::bridge_harness h;
  h.context().draining.store(true);  // the fallback answer logs the CallSid before it is validated
  const auto reply = test::http("POST", h.webhook_url(), {{"Content-Type", "application/x-www-form-urlencoded"}},
                                "CallSid=CA1%0A2030-01-01%2000:00:00.000%20error%20forged%0D%1B%5B2J");
  REQUIRE(reply.status == 200);
  REQUIRE(h.logs().wait_for("answered with fallback TwiML"));
  for (const auto& line : h.logs().lines()) {
    INFO(line);
    CHECK(line.find_first_of("\n\r\x1b") == line.size() - 1);  // only the line's own end
  }
  CHECK(h.logs().contains("webhook: call CA1\\n2030-01-01 00:00:00.000 error forged\\r\\x1b[2J answered"));
}

TEST_CASE("the text log format writes one physical line per message, JSON keeps the message intact",
          "[integration][log-limits]") {
  const std::string message = "call CA1: ignoring unknown Twilio event 'a\nERROR forged\r\x1b[31m'";
  for (const auto format : {config::log_format::text, config::log_format::json}) {
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    sink->set_formatter(server::make_log_formatter(format));
    spdlog::logger logger("format-test", sink);
    logger.warn(message);
    const auto text = out.str();
    INFO(text);
    REQUIRE(!text.empty());
    CHECK(text.find('\n') == text.size() - 1);
    CHECK(text.find('\r') == std::string::npos);
    CHECK(text.find('\x1b') == std::string::npos);
    if (format == config::log_format::text) {
      CHECK(text.find("event 'a\\nERROR forged\\r\\x1b[31m'") != std::string::npos);
    } else {
      const auto parsed = boost::json::parse(text);
      CHECK(parsed.at("msg").as_string() == boost::json::string_view(message.data(), message.size()));
    }
  }
}
