// The Twilio simulator against a fake bridge on loopback: a raw-socket HTTP responder for the voice
// webhook and a WebSocket server (net::accept_websocket) whose per-test script plays the bridge.
// Every test runs its io_context for a bounded time; scenario pauses are part of the script (they
// make time pass for the playback clock), synchronisation is on messages only.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <simdjson.h>

#include "net/http_client.hpp"
#include "net/websocket.hpp"
#include "net/ws_writer.hpp"
#include "protocol/base64.hpp"
#include "protocol/form.hpp"
#include "protocol/twilio_signature.hpp"
#include "routing/route.hpp"
#include "tools/twilio_sim/twilio_sim.hpp"

namespace {

namespace asio = mb::net::asio;
namespace json = boost::json;
namespace net = mb::net;
using namespace mb::tools::twilio;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using net::awaitable;

constexpr auto tuple = net::as_tuple_awaitable;

double ms_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 37 + seed * 101 + i / 7) & 0xFF);
  return s;
}

struct http_seen {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (std::equal(k.begin(), k.end(), name.begin(), name.end(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
        return v;
    return {};
  }
};

// One Media Stream as the fake bridge sees it.
struct stream_conn {
  explicit stream_conn(std::unique_ptr<net::message_socket> s, net::upgrade_request r)
      : socket(std::move(s)), request(std::move(r)), writer(*socket, 512), changed(socket->get_executor()) {
    changed.expires_at(clock::time_point::max());
  }
  struct message {
    clock::time_point at;
    json::value value;
  };

  std::unique_ptr<net::message_socket> socket;
  net::upgrade_request request;
  net::ws_writer writer;
  asio::steady_timer changed;  // cancelled whenever a message arrives or the stream ends
  std::vector<message> received;
  std::string stream_sid;
  bool closed = false;

  // Waits until pred() holds; false if the stream ended first.
  awaitable<bool> wait_until(std::function<bool()> pred) {
    while (!pred()) {
      if (closed) co_return false;
      co_await changed.async_wait(tuple);
    }
    co_return true;
  }
  awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(changed.get_executor(), d);
    co_await t.async_wait(tuple);
  }
  std::vector<const message*> events(std::string_view name) const {
    std::vector<const message*> out;
    for (const auto& m : received)
      if (m.value.at("event").as_string() == name) out.push_back(&m);
    return out;
  }
  const message* mark_echo(std::string_view name) const {
    for (const auto* m : events("mark"))
      if (m->value.at("mark").at("name").as_string() == name) return m;
    return nullptr;
  }
  void send_media(std::string_view ulaw) {
    json::object o{{"event", "media"}, {"streamSid", stream_sid}, {"media", {{"payload", mb::protocol::base64_encode(ulaw)}}}};
    REQUIRE(writer.push(json::serialize(o)));
  }
  void send_mark(std::string_view name) {
    REQUIRE(writer.push(json::serialize(json::object{{"event", "mark"}, {"streamSid", stream_sid}, {"mark", {{"name", name}}}})));
  }
  void send_clear() {
    REQUIRE(writer.push(json::serialize(json::object{{"event", "clear"}, {"streamSid", stream_sid}})));
  }
};

using bridge_script = std::function<awaitable<void>(stream_conn&)>;

// The fake bridge: webhook responder + Media Streams server, both on 127.0.0.1 with ephemeral ports.
class fake_bridge {
 public:
  explicit fake_bridge(asio::io_context& ioc)
      : ioc_(ioc),
        http_(ioc, {asio::ip::address_v4::loopback(), 0}),
        ws_(ioc, {asio::ip::address_v4::loopback(), 0}),
        webhook_url_("http://127.0.0.1:" + std::to_string(http_.local_endpoint().port()) + "/voice?tenant=acme"),
        stream_url_("ws://127.0.0.1:" + std::to_string(ws_.local_endpoint().port()) + std::string(mb::routing::media_stream_path)) {}

  const std::string& webhook_url() const { return webhook_url_; }
  const std::string& stream_url() const { return stream_url_; }
  std::string connect_twiml() const {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"" + stream_url() +
           "\"><Parameter name=\"tenant\" value=\"acme &amp; co\"/><Parameter name=\"session\" value=\"s-1\"/>"
           "</Stream></Connect></Response>";
  }

  std::string twiml;             // the webhook's answer; connect_twiml() when empty
  bool answer_webhook = true;    // false: read the request, then never answer
  bridge_script script;          // run per stream after `start` arrived
  std::vector<http_seen> webhooks;
  std::vector<std::unique_ptr<stream_conn>> streams;

  void start() {
    asio::co_spawn(ioc_, serve_http(), asio::detached);
    asio::co_spawn(ioc_, serve_ws(), asio::detached);
  }
  void stop() {
    error_code ignored;
    http_.close(ignored);
    ws_.close(ignored);
    for (auto& s : parked_) s.close(ignored);
  }

 private:
  using error_code = net::error_code;

  awaitable<void> serve_http() {
    for (;;) {
      auto [ec, socket] = co_await http_.async_accept(tuple);
      if (ec) co_return;
      std::string data;
      auto [rec, head] = co_await asio::async_read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n", tuple);
      if (rec) continue;
      http_seen req;
      std::string_view text(data.data(), head);
      auto line_end = text.find("\r\n");
      const auto request_line = text.substr(0, line_end);
      req.method = std::string(request_line.substr(0, request_line.find(' ')));
      req.target = std::string(request_line.substr(req.method.size() + 1, request_line.rfind(' ') - req.method.size() - 1));
      std::size_t content_length = 0;
      for (auto pos = line_end + 2; pos < head - 2;) {
        const auto end = text.find("\r\n", pos);
        const auto line = text.substr(pos, end - pos);
        const auto colon = line.find(':');
        std::string value(line.substr(colon + 1));
        value.erase(0, value.find_first_not_of(' '));
        req.headers.emplace_back(line.substr(0, colon), value);
        pos = end + 2;
      }
      if (auto cl = req.header("Content-Length"); !cl.empty()) content_length = std::stoul(cl);
      if (data.size() < head + content_length)
        co_await asio::async_read(socket, asio::dynamic_buffer(data), asio::transfer_exactly(head + content_length - data.size()), tuple);
      req.body = data.substr(head, content_length);
      webhooks.push_back(std::move(req));
      if (!answer_webhook) {
        parked_.push_back(std::move(socket));
        continue;
      }
      const std::string body = twiml.empty() ? connect_twiml() : twiml;
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      co_await asio::async_write(socket, asio::buffer(response), tuple);
      error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
  }

  awaitable<void> serve_ws() {
    for (;;) {
      auto [ec, socket] = co_await ws_.async_accept(tuple);
      if (ec) co_return;
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> session(tcp::socket socket) {
    auto accepted = co_await net::accept_websocket(std::move(socket), net::socket_limits{});
    if (!accepted.socket) co_return;
    auto& conn = *streams.emplace_back(std::make_unique<stream_conn>(std::move(accepted.socket), std::move(accepted.request)));
    using namespace asio::experimental::awaitable_operators;
    co_await (read_loop(conn) && conn.writer.run() && run_script(conn));
    // Release the stream now rather than with the fixture: a Beast stream that failed (EOF without a
    // close frame) keeps its idle-timeout timer armed while it lives, which keeps io_context::run busy.
    conn.socket.reset();
  }

  static awaitable<void> read_loop(stream_conn& conn) {
    std::string text;
    for (;;) {
      auto r = co_await conn.socket->read(text, 0);
      if (r.status != net::read_status::message) break;
      auto value = json::parse(text);
      if (value.at("event") == "start") conn.stream_sid = json::value_to<std::string>(value.at("streamSid"));
      conn.received.push_back({clock::now(), std::move(value)});
      conn.changed.cancel();
    }
    conn.closed = true;
    conn.writer.close({1000, ""});
    conn.changed.cancel();
  }

  awaitable<void> run_script(stream_conn& conn) {
    if (!co_await conn.wait_until([&] { return !conn.stream_sid.empty(); })) co_return;
    if (script) co_await script(conn);
  }

  asio::io_context& ioc_;
  tcp::acceptor http_;
  tcp::acceptor ws_;
  std::string webhook_url_;
  std::string stream_url_;
  std::vector<tcp::socket> parked_;
};

// Runs one simulated call against `bridge` (started here) for at most `bound`.
call_report run_one(asio::io_context& ioc, fake_bridge& bridge, call_options options,
                    std::chrono::milliseconds bound = 10s) {
  bridge.start();
  std::optional<call_report> report;
  asio::co_spawn(asio::make_strand(ioc), run_call(std::move(options)),
                 [&](std::exception_ptr e, call_report r) {
                   if (e) std::rethrow_exception(e);
                   report = std::move(r);
                   bridge.stop();
                 });
  ioc.run_for(bound);
  REQUIRE(report);
  INFO("failure: " << report->failure);
  return std::move(*report);
}

std::string text_of(const json::value& v) { return json::value_to<std::string>(v); }

}  // namespace

TEST_CASE("twilio sim: webhook, signatures, start, paced media, dtmf, stop", "[integration][twilio_sim]") {
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  call_options options;
  options.webhook_url = bridge.webhook_url();
  options.auth_token = "12345";
  options.from = "+14158675309";
  options.script = {{audio_kind::speech, 300}, {audio_kind::silence, 200}, {audio_kind::speech, 100}};
  options.dtmf = {{100, '5'}};
  const auto report = run_one(ioc, bridge, options);

  CHECK(report.outcome == call_outcome::completed);
  CHECK(report.ok());
  CHECK(report.close_code == 1000);  // the bridge's reply to our close

  // The webhook: a signed form POST with Twilio's fields.
  REQUIRE(bridge.webhooks.size() == 1);
  const auto& hook = bridge.webhooks[0];
  CHECK(hook.method == "POST");
  CHECK(hook.target == "/voice?tenant=acme");
  CHECK(hook.header("Content-Type") == "application/x-www-form-urlencoded");
  const auto fields = mb::protocol::parse_form(hook.body);
  REQUIRE(fields);
  using mb::protocol::form_value;
  CHECK(form_value(*fields, "CallSid") == report.call_sid);
  CHECK(report.call_sid.starts_with("CA"));
  CHECK(report.call_sid.size() == 34);
  CHECK(form_value(*fields, "AccountSid") == report.account_sid);
  CHECK(form_value(*fields, "From") == "+14158675309");
  CHECK(form_value(*fields, "To") == options.to);
  CHECK(form_value(*fields, "Direction") == "inbound");
  CHECK(form_value(*fields, "CallStatus") == "ringing");
  CHECK(form_value(*fields, "ApiVersion") == "2010-04-01");
  CHECK(hook.header("X-Twilio-Signature") == mb::protocol::twilio_signature("12345", options.webhook_url, *fields));
  CHECK(mb::protocol::validate_twilio_signature("12345", options.webhook_url, *fields, hook.header("X-Twilio-Signature")));

  // The TwiML was read; the WebSocket upgrade is signed for the stream URL with no params.
  CHECK(report.stream_url == bridge.stream_url());
  CHECK(report.parameters == std::vector<stream_parameter>{{"tenant", "acme & co"}, {"session", "s-1"}});
  REQUIRE(bridge.streams.size() == 1);
  const auto& conn = *bridge.streams[0];
  CHECK(conn.request.target == mb::routing::media_stream_path);
  CHECK(conn.request.header("x-twilio-signature") == mb::protocol::twilio_signature("12345", bridge.stream_url(), {}));
  CHECK(mb::protocol::validate_twilio_stream_signature("12345", bridge.stream_url(), conn.request.header("x-twilio-signature")));

  // connected, start, 30 media with one dtmf among them, stop; sequenceNumber counts from start = 1.
  const auto& rx = conn.received;
  REQUIRE(rx.size() == 1 + 1 + 30 + 1 + 1);
  CHECK(rx[0].value == json::parse(R"({"event":"connected","protocol":"Call","version":"1.0.0"})"));
  const auto& start = rx[1].value;
  CHECK(start.at("event") == "start");
  CHECK(start.at("sequenceNumber") == "1");
  CHECK(text_of(start.at("streamSid")) == report.stream_sid);
  CHECK(report.stream_sid.starts_with("MZ"));
  CHECK(start.at("start").at("streamSid") == start.at("streamSid"));
  CHECK(text_of(start.at("start").at("callSid")) == report.call_sid);
  CHECK(text_of(start.at("start").at("accountSid")) == report.account_sid);
  CHECK(start.at("start").at("tracks") == json::parse(R"(["inbound"])"));
  CHECK(start.at("start").at("customParameters") == json::parse(R"({"tenant":"acme & co","session":"s-1"})"));
  CHECK(start.at("start").at("mediaFormat") == json::parse(R"({"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1})"));

  std::string sent;
  std::uint64_t chunk = 0;
  for (std::size_t i = 2; i < rx.size(); ++i) {
    const auto& v = rx[i].value;
    INFO("message " << i << ": " << json::serialize(v));
    CHECK(text_of(v.at("sequenceNumber")) == std::to_string(i));
    CHECK(text_of(v.at("streamSid")) == report.stream_sid);
    if (v.at("event") == "dtmf") {
      CHECK(v.at("dtmf") == json::parse(R"({"track":"inbound_track","digit":"5"})"));
      CHECK(chunk == 4);  // sent with the frame covering 80..100 ms
      continue;
    }
    if (v.at("event") == "stop") {
      CHECK(i == rx.size() - 1);
      CHECK(text_of(v.at("stop").at("callSid")) == report.call_sid);
      CHECK(text_of(v.at("stop").at("accountSid")) == report.account_sid);
      continue;
    }
    REQUIRE(v.at("event") == "media");
    ++chunk;
    const auto& m = v.at("media");
    CHECK(m.at("track") == "inbound");
    CHECK(text_of(m.at("chunk")) == std::to_string(chunk));
    CHECK(text_of(m.at("timestamp")) == std::to_string((chunk - 1) * 20));
    const auto payload = mb::protocol::base64_decode(text_of(m.at("payload")));
    REQUIRE(payload);
    CHECK(payload->size() == 160);
    sent += *payload;
    // Real-time pace from absolute deadlines: frame k leaves at start + 20k ms, never earlier.
    const double at = report.ms_since_start(rx[i].at);
    CHECK(at >= chunk * 20.0 - 0.5);
    CHECK(at < chunk * 20.0 + 150);
  }
  CHECK(chunk == 30);
  CHECK(report.media_frames_sent == 30);
  CHECK(sent == report.sent_audio);
  CHECK(sent.substr(0, 160) == speech_frame());
  CHECK(sent.substr(2400, 160) == std::string(160, '\xFF'));
  // No drift: the last frame is not later than the first by much more than the schedule says.
  const double span = ms_between(rx[2].at, rx[rx.size() - 2].at);
  CHECK(span > 29 * 20 - 25);
  CHECK(span < 29 * 20 + 100);
  CHECK(report.invalid_count == 0);
  CHECK(report.send_queue_drops == 0);
}

TEST_CASE("twilio sim: marks echo when the audio before them has played", "[integration][twilio_sim]") {
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  const auto audio_a = pattern(3200, 1);  // 400 ms in 5 chunks
  const auto audio_b = pattern(1600, 2);  // 200 ms
  clock::time_point sent_a, sent_b, sent_c;
  bridge.script = [&](stream_conn& c) -> awaitable<void> {
    sent_a = clock::now();
    for (std::size_t i = 0; i < audio_a.size(); i += 640) c.send_media(std::string_view(audio_a).substr(i, 640));
    c.send_mark("m1");
    c.send_media(audio_b);
    c.send_mark("m2");
    if (!co_await c.wait_until([&] { return c.mark_echo("m2"); })) co_return;
    // Nothing is queued any more: the echo comes at once.
    sent_c = clock::now();
    c.send_mark("m3");
    co_await c.wait_until([&] { return c.mark_echo("m3"); });
  };
  call_options options;
  options.webhook_url = bridge.webhook_url();
  options.script = {{audio_kind::silence, 1000}};
  const auto report = run_one(ioc, bridge, options);
  CHECK(report.outcome == call_outcome::completed);

  REQUIRE(bridge.streams.size() == 1);
  const auto& conn = *bridge.streams[0];
  const auto* m1 = conn.mark_echo("m1");
  const auto* m2 = conn.mark_echo("m2");
  const auto* m3 = conn.mark_echo("m3");
  REQUIRE(m1);
  REQUIRE(m2);
  REQUIRE(m3);
  CHECK(ms_between(sent_a, m1->at) >= 400 - 5);
  CHECK(ms_between(sent_a, m1->at) < 400 + 150);
  CHECK(ms_between(sent_a, m2->at) >= 600 - 5);
  CHECK(ms_between(sent_a, m2->at) < 600 + 150);
  CHECK(ms_between(sent_c, m3->at) < 50);
  const auto echo = m1->value;
  CHECK(text_of(echo.at("streamSid")) == report.stream_sid);
  CHECK(echo.at("sequenceNumber").is_string());

  CHECK(report.marks_received == 3);
  CHECK(report.marks_echoed == 3);
  REQUIRE(report.marks.size() == 3);
  REQUIRE(report.media_arrivals.size() == 6);
  CHECK(report.marks[0].name == "m1");
  CHECK_FALSE(report.marks[0].cleared);
  // The simulator's own clock: playback started when the first chunk arrived.
  INFO("mark m1 arrived " << ms_between(report.media_arrivals[0].at, report.marks[0].received) << " ms after the audio");
  CHECK(ms_between(report.media_arrivals[0].at, report.marks[0].echoed) >= 400 - 5);
  CHECK(ms_between(report.media_arrivals[0].at, report.marks[1].echoed) >= 600 - 5);
  CHECK(report.marks[2].echoed == report.marks[2].received);

  CHECK(report.media_frames_received == 6);
  CHECK(report.media_bytes_received == 4800);
  CHECK(report.media_arrivals[0].bytes == 640);
  CHECK(report.played_bytes == 4800);
  CHECK(report.played_audio == audio_a + audio_b);
  CHECK(report.clears.empty());
}

TEST_CASE("twilio sim: clear flushes pending marks and records the audio actually played", "[integration][twilio_sim]") {
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  const auto audio_a = pattern(16000, 3);  // 2 s
  const auto audio_b = pattern(800, 4);    // 100 ms
  clock::time_point sent_clear, sent_c;
  bridge.script = [&](stream_conn& c) -> awaitable<void> {
    c.send_media(audio_a);
    c.send_mark("a");
    c.send_mark("b");
    co_await c.pause(300ms);  // the caller hears 300 ms, then barges in
    sent_clear = clock::now();
    c.send_clear();
    if (!co_await c.wait_until([&] { return c.mark_echo("b"); })) co_return;
    sent_c = clock::now();
    c.send_media(audio_b);
    c.send_mark("c");
    co_await c.wait_until([&] { return c.mark_echo("c"); });
  };
  call_options options;
  options.webhook_url = bridge.webhook_url();
  options.script = {{audio_kind::silence, 1200}};
  const auto report = run_one(ioc, bridge, options);
  CHECK(report.outcome == call_outcome::completed);

  REQUIRE(bridge.streams.size() == 1);
  const auto& conn = *bridge.streams[0];
  const auto* a = conn.mark_echo("a");
  const auto* b = conn.mark_echo("b");
  const auto* c = conn.mark_echo("c");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->at >= sent_clear);
  CHECK(ms_between(sent_clear, b->at) < 50);
  CHECK(ms_between(sent_c, c->at) >= 100 - 5);
  CHECK(ms_between(sent_c, c->at) < 100 + 150);

  REQUIRE(report.clears.size() == 1);
  const auto& clear = report.clears[0];
  CHECK(clear.played_ms >= 300 - 5);
  CHECK(clear.played_ms < 300 + 150);
  CHECK(clear.played_ms + clear.discarded_ms == Approx(2000));
  CHECK(clear.marks_flushed == 2);
  REQUIRE(report.marks.size() == 3);
  CHECK(report.marks[0].cleared);
  CHECK(report.marks[1].cleared);
  CHECK(report.marks[0].echoed == clear.at);
  CHECK_FALSE(report.marks[2].cleared);

  const auto played_a = static_cast<std::size_t>(clear.played_ms * 8);
  CHECK(report.played_audio == audio_a.substr(0, played_a) + audio_b);
  CHECK(report.played_bytes == played_a + audio_b.size());
}

TEST_CASE("twilio sim: fallback TwiML is reported as rejected", "[integration][twilio_sim]") {
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  bridge.twiml = "<Response><Say>All lines are busy.</Say><Hangup/></Response>";
  call_options options;
  options.webhook_url = bridge.webhook_url();
  options.script = {{audio_kind::speech, 100}};
  const auto report = run_one(ioc, bridge, options);
  CHECK(report.outcome == call_outcome::rejected);
  CHECK_FALSE(report.ok());
  CHECK(report.failure.find("Say, Hangup") != std::string::npos);
  CHECK(bridge.streams.empty());
}

TEST_CASE("twilio sim: the bridge closing the stream ends the call, a success only with code 1000",
          "[integration][twilio_sim]") {
  const std::uint16_t code = GENERATE(1000, 1011);
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  bridge.script = [&](stream_conn& c) -> awaitable<void> {
    if (!co_await c.wait_until([&] { return c.events("media").size() >= 3; })) co_return;
    c.writer.close({code, "upstream failed"});
  };
  call_options options;
  options.webhook_url = bridge.webhook_url();
  options.hangup_when_audio_ends = false;
  const auto report = run_one(ioc, bridge, options);
  CHECK(report.outcome == call_outcome::bridge_closed);
  CHECK(report.close_code == code);
  CHECK(report.close_reason == "upstream failed");
  if (code == 1000) {
    CHECK(report.ok());
  } else {
    CHECK_FALSE(report.ok());
    CHECK(report.failure == "the bridge closed the stream with code 1011 'upstream failed', not 1000");
  }
  CHECK(report.media_frames_sent >= 3);
  REQUIRE(bridge.streams.size() == 1);
  CHECK(bridge.streams[0]->events("stop").empty());
  REQUIRE_FALSE(report.events.empty());
  CHECK(report.events.back().kind == call_event_kind::closed);
}

TEST_CASE("twilio sim: invalid messages from the bridge are recorded", "[integration][twilio_sim]") {
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  bridge.script = [&](stream_conn& c) -> awaitable<void> {
    c.writer.push("hello");
    c.writer.push(json::serialize(json::object{{"event", "bogus"}, {"streamSid", c.stream_sid}}));
    c.writer.push(R"({"event":"media","streamSid":"MZwrong","media":{"payload":"/w=="}})");
    c.writer.push(json::serialize(json::object{{"event", "media"}, {"streamSid", c.stream_sid}, {"media", {{"payload", "!!!"}}}}));
    c.send_mark("after-invalid");
    co_await c.wait_until([&] { return c.mark_echo("after-invalid"); });
    c.writer.close({1000, ""});
  };
  call_options options;
  options.webhook_url = bridge.webhook_url();
  options.hangup_when_audio_ends = false;
  const auto report = run_one(ioc, bridge, options);
  CHECK(report.outcome == call_outcome::bridge_closed);
  REQUIRE(report.invalid_count == 4);
  CHECK(report.invalid_messages[0].reason == "not a JSON object");
  CHECK(report.invalid_messages[0].text == "hello");
  CHECK(report.invalid_messages[1].reason == "unknown event");
  CHECK(report.invalid_messages[2].reason == "wrong streamSid");
  CHECK(report.invalid_messages[3].reason == "media.payload is not base64");
  CHECK(report.media_frames_received == 0);
}

TEST_CASE("twilio sim: every stage is bounded by its timeout", "[integration][twilio_sim]") {
  SECTION("webhook never answered") {
    asio::io_context ioc;
    fake_bridge bridge(ioc);
    bridge.answer_webhook = false;
    call_options options;
    options.webhook_url = bridge.webhook_url();
    options.webhook_timeout_ms = 300;
    const auto report = run_one(ioc, bridge, options, 5s);
    CHECK(report.outcome == call_outcome::webhook_failed);
    CHECK(ms_between(report.started, report.ended) < 2000);
  }
  SECTION("call that never hangs up") {
    asio::io_context ioc;
    fake_bridge bridge(ioc);
    call_options options;
    options.webhook_url = bridge.webhook_url();
    options.hangup_when_audio_ends = false;
    options.timeout_ms = 600;
    const auto report = run_one(ioc, bridge, options, 5s);
    CHECK(report.outcome == call_outcome::timed_out);
    CHECK(ms_between(report.started, report.ended) >= 600);
    CHECK(ms_between(report.started, report.ended) < 2000);
  }
  SECTION("nothing listening for the stream") {
    asio::io_context ioc;
    fake_bridge bridge(ioc);
    bridge.twiml = "<Response><Connect><Stream url=\"ws://127.0.0.1:1/none\"/></Connect></Response>";
    call_options options;
    options.webhook_url = bridge.webhook_url();
    const auto report = run_one(ioc, bridge, options, 5s);
    CHECK(report.outcome == call_outcome::connect_failed);
  }
}

TEST_CASE("twilio sim: run_calls runs calls concurrently with hang-up after N ms", "[integration][twilio_sim]") {
  asio::io_context bridge_ioc;
  fake_bridge bridge(bridge_ioc);
  bridge.start();
  std::thread bridge_thread([&] { bridge_ioc.run_for(10s); });

  std::vector<call_options> calls(5);
  for (auto& c : calls) {
    c.webhook_url = bridge.webhook_url();
    c.ulaw_audio = std::make_shared<const std::string>(pattern(8000, 9));  // 1 s, but hang up first
    c.hangup_after_ms = 300;
    c.record_sent_audio = false;
  }
  const auto reports = run_calls(std::move(calls), 8000, 2);
  asio::post(bridge_ioc, [&] { bridge.stop(); });
  bridge_thread.join();

  REQUIRE(reports.size() == 5);
  for (const auto& r : reports) {
    INFO(r.failure);
    CHECK(r.outcome == call_outcome::completed);
    CHECK(r.media_frames_sent == 15);
    CHECK(r.sent_audio.empty());
    CHECK(ms_between(r.stream_started, r.ended) >= 300);
  }
  CHECK(bridge.webhooks.size() == 5);
  CHECK(reports[0].call_sid != reports[1].call_sid);
}

TEST_CASE("http client: response, and failures as values", "[integration][twilio_sim]") {
  asio::io_context ioc;
  fake_bridge bridge(ioc);
  bridge.twiml = "<Response/>";
  bridge.start();
  std::vector<net::http_response> responses;
  asio::co_spawn(
      ioc,
      [&]() -> awaitable<void> {
        std::vector<std::pair<std::string, std::string>> headers;  // not braced in the call: g++ 12 coroutine bug
        headers.emplace_back("X-Custom", "1");
        responses.push_back(co_await net::http_request("POST", bridge.webhook_url(), headers, "a=b", nullptr, 2000));
        responses.push_back(co_await net::http_request("GET", "ftp://127.0.0.1/x", {}, "", nullptr, 2000));
        responses.push_back(co_await net::http_request("GET", "https://127.0.0.1:1/x", {}, "", nullptr, 2000));
        responses.push_back(co_await net::http_request("GET", "http://127.0.0.1:1/x", {}, "", nullptr, 2000));
        bridge.stop();
      },
      asio::detached);
  ioc.run_for(5s);
  REQUIRE(responses.size() == 4);
  CHECK(responses[0].failure.empty());
  CHECK(responses[0].status == 200);
  CHECK(responses[0].body == "<Response/>");
  CHECK(std::find(responses[0].headers.begin(), responses[0].headers.end(),
                  std::pair<std::string, std::string>{"Content-Type", "text/xml"}) != responses[0].headers.end());
  REQUIRE(bridge.webhooks.size() == 1);
  CHECK(bridge.webhooks[0].header("x-custom") == "1");
  CHECK(bridge.webhooks[0].body == "a=b");
  CHECK(bridge.webhooks[0].header("Host") == bridge.webhook_url().substr(7, bridge.webhook_url().find('/', 7) - 7));
  CHECK(responses[1].failure.find("invalid URL") != std::string::npos);
  CHECK(responses[2].failure.find("TLS context") != std::string::npos);
  CHECK(responses[3].failure.find("connect") != std::string::npos);
  CHECK(responses[3].status == 0);
}
