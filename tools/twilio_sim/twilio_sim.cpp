#include "tools/twilio_sim/twilio_sim.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <random>
#include <thread>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <simdjson.h>

#include "codec/g711.hpp"
#include "net/http_client.hpp"
#include "net/websocket.hpp"
#include "net/ws_writer.hpp"
#include "protocol/base64.hpp"
#include "protocol/twilio_signature.hpp"
#include "tools/twilio_sim/twilio_wire.hpp"

namespace mb::tools::twilio {
namespace {

namespace asio = net::asio;
using std::chrono::milliseconds;

constexpr std::size_t max_invalid_kept = 32;
constexpr std::size_t invalid_text_bytes = 256;

std::string random_sid(std::string_view prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string sid(prefix);
  for (int word = 0; word < 2; ++word) {
    auto v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) sid += hex[v & 0xF];
  }
  return sid;
}

void record(call_report& report, call_event_kind kind, std::string detail = {}) {
  report.events.push_back({clock::now(), kind, std::move(detail)});
}

int ms_until(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
  return static_cast<int>(std::clamp<decltype(left)>(left, 1, 1 << 30));
}

std::string_view silence_frame() {
  static const std::string frame(frame_bytes, static_cast<char>(codec::ulaw_silence));
  return frame;
}

// One connected Media Stream: the reader, the media sender, the playback clock and the socket's
// single writer run as four coroutines on the call's strand, raced against the call's deadline.
class session {
 public:
  session(const call_options& options, call_report& report, net::message_socket& socket, stream_identity id)
      : options_(options),
        report_(report),
        socket_(socket),
        writer_(socket, std::max<std::size_t>(options.send_queue, 4)),
        id_(std::move(id)),
        audio_(options.ulaw_audio ? caller_audio(options.ulaw_audio) : caller_audio(options.script)),
        playout_(options.record_played_audio),
        send_timer_(socket.get_executor()),
        play_timer_(socket.get_executor()) {}

  net::awaitable<void> run(clock::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    co_await ((reader() && sender() && player() && writer_task()) || watchdog(deadline));
    decide_outcome();
  }

 private:
  net::awaitable<void> sender() {
    send([](std::string& s) { build_connected(s); });
    report_.stream_started = clock::now();
    send([this](std::string& s) { build_start(s, ++sequence_, id_, report_.parameters); });
    record(report_, call_event_kind::start_sent);

    const bool hangup_at_audio_end = options_.hangup_when_audio_ends && audio_.total_bytes() > 0;
    std::size_t next_dtmf = 0;
    std::uint64_t chunk = 0;
    auto due = report_.stream_started;
    while (!hanging_up_) {
      // Frame k carries audio [20(k-1), 20k) ms and leaves once that audio has been "captured".
      due += milliseconds(frame_ms);
      const auto leaves = send_time_on_grid(due, options_.send_grid);
      send_timer_.expires_at(leaves);
      co_await send_timer_.async_wait(net::as_tuple_awaitable);
      if (ended_) co_return;
      const auto lag = std::chrono::duration<double, std::milli>(clock::now() - leaves).count();
      report_.max_send_lag_ms = std::max(report_.max_send_lag_ms, lag);

      const auto frame_end_ms = static_cast<std::int64_t>(chunk + 1) * frame_ms;
      for (; next_dtmf < options_.dtmf.size() && options_.dtmf[next_dtmf].at_ms <= frame_end_ms; ++next_dtmf) {
        const char digit = options_.dtmf[next_dtmf].digit;
        send([&](std::string& s) { build_dtmf(s, ++sequence_, id_.stream_sid, digit); });
        record(report_, call_event_kind::dtmf_sent, std::string(1, digit));
      }

      auto frame = audio_.next_frame();
      if (const auto offset = audio_.speech_began_at()) {
        const auto onset = due - milliseconds(frame_ms) + std::chrono::microseconds(static_cast<std::int64_t>(*offset) * 125);
        playout_.watch_stale_audio(onset, clock::now());
      }
      if (frame.empty()) frame = silence_frame();
      ++chunk;
      if (options_.stamp_frame) {
        stamped_.assign(frame);
        options_.stamp_frame(chunk, {reinterpret_cast<std::uint8_t*>(stamped_.data()), stamped_.size()});
        frame = stamped_;
      }
      // Scripted audio repeats the same few frames: encode only when the frame changes.
      if (frame != last_frame_) {
        last_frame_.assign(frame);
        protocol::base64_encode(frame, payload_);
      }
      if (send([&](std::string& s) {
            build_media(s, ++sequence_, id_.stream_sid, chunk, (chunk - 1) * frame_ms, payload_);
          })) {
        ++report_.media_frames_sent;
        if (options_.record_sent_audio) report_.sent_audio.append(frame);
      }
      if ((hangup_at_audio_end && audio_.done()) ||
          (options_.hangup_after_ms > 0 && frame_end_ms >= options_.hangup_after_ms))
        hang_up();
    }
  }

  net::awaitable<void> reader() {
    std::string message;
    net::read_result result{};
    for (;;) {
      result = co_await socket_.read(message, simdjson::SIMDJSON_PADDING);
      if (result.status == net::read_status::message) {
        if (options_.on_message) options_.on_message(true, message, clock::now());
        handle(message);
      }
      else if (result.status == net::read_status::binary_message)
        invalid("binary frame (Twilio accepts text only)", message);
      else
        break;
    }
    read_end_ = result;
    bridge_closed_first_ = !hanging_up_ && !ended_;
    ended_ = true;
    const auto peer = socket_.peer_close_reason();
    report_.close_code = peer.code;
    report_.close_reason = peer.reason;
    record(report_, call_event_kind::closed, std::to_string(peer.code));
    if (result.status == net::read_status::closed)
      writer_.close({1000, "call ended"});
    else
      writer_.abort_now();
    send_timer_.cancel();
    play_timer_.cancel();
  }

  // Echoes marks at the moment their audio has played: sleeps until the next pending mark is due,
  // woken early when a mark becomes pending or the call ends.
  net::awaitable<void> player() {
    for (;;) {
      const auto now = clock::now();
      playout_.advance(now);
      if (ended_ || hanging_up_) break;
      echo_due_marks(now);
      const auto next = playout_.next_mark_time();
      play_timer_.expires_at(next ? *next : clock::time_point::max());
      co_await play_timer_.async_wait(net::as_tuple_awaitable);
    }
    playout_.finish_stale_watch(clock::now());
    report_.played_bytes = playout_.played_bytes();
    report_.played_audio = playout_.played_audio();
    for (const auto bytes : playout_.stale_audio())
      report_.stale_audio_ms.push_back(static_cast<double>(bytes) / ulaw_bytes_per_ms);
  }

  net::awaitable<void> writer_task() {
    co_await writer_.run();
    if (!ended_ && writer_.error()) {
      // A write failed: the read would otherwise wait for the idle timeout. After our close
      // completed, the read ends by itself; aborting then could fail a read just being started.
      write_failure_ = writer_.error();
      socket_.abort();
    }
  }

  net::awaitable<void> watchdog(clock::time_point deadline) {
    asio::steady_timer timer(socket_.get_executor(), deadline);
    auto [ec] = co_await timer.async_wait(net::as_tuple_awaitable);
    if (ec) co_return;  // the call finished first
    timed_out_ = true;
    ended_ = true;
    writer_.abort_now();
    send_timer_.cancel();
    play_timer_.cancel();
  }

  void decide_outcome() {
    if (timed_out_) {
      report_.outcome = call_outcome::timed_out;
      report_.failure = "call still running after timeout_ms (" + std::to_string(options_.timeout_ms) + " ms)";
    } else if (read_end_.status != net::read_status::closed) {
      report_.outcome = call_outcome::stream_failed;
      report_.failure = "websocket read: " + read_end_.ec.message();
    } else if (write_failure_) {
      report_.outcome = call_outcome::stream_failed;
      report_.failure = "websocket write/close: " + write_failure_.message();
    } else {
      report_.outcome = bridge_closed_first_ ? call_outcome::bridge_closed : call_outcome::completed;
      if (report_.close_code != call_report::normal_close_code)
        report_.failure = "the bridge closed the stream with code " + std::to_string(report_.close_code) +
                          (report_.close_reason.empty() ? "" : " '" + report_.close_reason + "'") + ", not 1000";
    }
  }

  template <class Fill>
  bool send(Fill&& fill) {
    const bool queued = options_.on_message ? writer_.emplace([&](std::string& s) {
      fill(s);
      options_.on_message(false, s, clock::now());
    })
                                            : writer_.emplace(std::forward<Fill>(fill));
    if (queued) return true;
    ++report_.send_queue_drops;
    return false;
  }

  // Twilio plays until the call ends: once we hang up (or the socket ends) audio is counted, not played.
  [[nodiscard]] bool playing() const noexcept { return !hanging_up_ && !ended_; }

  void hang_up() {
    if (ended_ || hanging_up_) return;
    send([this](std::string& s) { build_stop(s, ++sequence_, id_); });
    record(report_, call_event_kind::stop_sent);
    hanging_up_ = true;
    writer_.close({1000, "call ended"});
    play_timer_.cancel();  // playback ends with the call
  }

  void handle(const std::string& message) {
    const auto now = clock::now();
    bridge_message msg;
    parse_bridge_message(message, message.capacity(), msg);
    if (msg.kind == bridge_message_kind::invalid) return invalid(msg.error, message);
    if (msg.stream_sid != id_.stream_sid) return invalid("wrong streamSid", message);
    switch (msg.kind) {
      case bridge_message_kind::media: {
        if (!protocol::is_base64(msg.payload)) return invalid("media.payload is not base64", message);
        const auto bytes = protocol::base64_decoded_size(msg.payload);
        ++report_.media_frames_received;
        report_.media_bytes_received += bytes;
        if (report_.media_frames_received == 1) record(report_, call_event_kind::first_media_received);
        if (options_.on_media) options_.on_media(msg.payload, now, playout_.played_bytes() + playout_.queued_bytes());
        if (options_.record_media_arrivals)
          report_.media_arrivals.push_back({now, static_cast<std::uint32_t>(bytes)});
        if (!playing()) return;
        if (options_.record_played_audio)
          playout_.add_audio(bytes, protocol::base64_decode(msg.payload).value_or(std::string()), now);
        else
          playout_.add_audio(bytes, {}, now);
        break;
      }
      case bridge_message_kind::mark: {
        ++report_.marks_received;
        if (!playing()) return;
        const bool was_idle = playout_.pending_marks() == 0;
        playout_.add_mark(std::string(msg.mark_name), now);
        if (was_idle && playout_.pending_marks() > 0) play_timer_.cancel();  // a new earliest due time
        break;
      }
      case bridge_message_kind::clear: {
        record(report_, call_event_kind::clear_received);
        if (!playing()) return;
        const auto stats = playout_.clear(now);
        if (options_.on_clear) options_.on_clear(now, playout_.played_bytes());
        report_.clears.push_back({now, static_cast<double>(stats.played_bytes) / ulaw_bytes_per_ms,
                                  static_cast<double>(stats.discarded_bytes) / ulaw_bytes_per_ms, stats.marks_flushed});
        break;
      }
      case bridge_message_kind::invalid:
        break;
    }
    echo_due_marks(now);
  }

  void echo_due_marks(clock::time_point now) {
    auto& due = playout_.due_marks();
    for (auto& m : due) {
      send([&](std::string& s) { build_mark_echo(s, ++sequence_, id_.stream_sid, m.name); });
      ++report_.marks_echoed;
      if (options_.record_marks) report_.marks.push_back({std::move(m.name), m.received, now, m.cleared});
    }
    due.clear();
  }

  void invalid(std::string_view reason, std::string_view text) {
    ++report_.invalid_count;
    if (report_.invalid_messages.size() < max_invalid_kept)
      report_.invalid_messages.push_back(
          {clock::now(), std::string(reason), std::string(text.substr(0, invalid_text_bytes))});
  }

  const call_options& options_;
  call_report& report_;
  net::message_socket& socket_;
  net::ws_writer writer_;
  stream_identity id_;
  caller_audio audio_;
  playout playout_;
  asio::steady_timer send_timer_;
  asio::steady_timer play_timer_;
  std::string last_frame_;       // the frame sent last, and its base64
  std::string payload_;
  std::string stamped_;          // the frame as call_options::stamp_frame rewrote it
  std::uint64_t sequence_ = 0;   // Twilio's sequenceNumber: `start` is 1, then every message
  bool hanging_up_ = false;      // stop and close are queued
  bool ended_ = false;           // the socket is finished: read ended, or aborted by the watchdog
  bool bridge_closed_first_ = false;
  bool timed_out_ = false;
  net::read_result read_end_{net::read_status::error, {}};
  net::error_code write_failure_;
};

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown exception";
  }
}

// <Dial><Sip>: rings the simulated OpenAI SIP endpoint the URI names (simulator/sip_control.hpp) and
// reports the call id it answers; what follows happens between the endpoint and the bridge.
net::awaitable<void> dial_sip(const call_options& options, call_report& report, std::string uri,
                              clock::time_point deadline) {
  report.sip_uri = std::move(uri);
  const auto finish = [&report](call_outcome outcome, std::string failure) {
    report.outcome = outcome;
    report.failure = std::move(failure);
    report.ended = clock::now();
  };
  const auto invite_url = sim_sip_invite_url(report.sip_uri);
  if (!invite_url) co_return finish(call_outcome::connect_failed, "SIP URI names no simulated endpoint (host:port)");
  const std::string body = boost::json::serialize(
      boost::json::object{{"uri", report.sip_uri}, {"from", options.from}, {"to", options.to}});
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
  const auto response = co_await net::http_request("POST", *invite_url, std::move(headers), body, nullptr,
                                                   std::min(options.webhook_timeout_ms, ms_until(deadline)));
  if (!response.failure.empty()) co_return finish(call_outcome::connect_failed, "SIP invite: " + response.failure);
  if (response.status != 200)
    co_return finish(call_outcome::connect_failed, "SIP invite answered HTTP " + std::to_string(response.status));
  boost::system::error_code ec;
  const auto reply = boost::json::parse(response.body, ec);
  const auto* id = !ec && reply.is_object() ? reply.as_object().if_contains("call_id") : nullptr;
  if (!id || !id->is_string()) co_return finish(call_outcome::connect_failed, "SIP invite answered no call_id");
  report.sip_call_id = id->as_string();
  record(report, call_event_kind::sip_dialed, report.sip_call_id);
  finish(call_outcome::sip_dialed, {});
}

}  // namespace

net::awaitable<call_report> run_call(call_options options) {
  call_report report;
  report.started = clock::now();
  const auto deadline = report.started + milliseconds(options.timeout_ms);
  report.account_sid = options.account_sid.empty() ? random_sid("AC") : options.account_sid;
  report.call_sid = options.call_sid.empty() ? random_sid("CA") : options.call_sid;
  const auto finish = [&report](call_outcome outcome, std::string failure) {
    report.outcome = outcome;
    report.failure = std::move(failure);
    report.ended = clock::now();
  };

  // The voice webhook, with the fields every Twilio voice request carries.
  const protocol::form_fields fields{
      {"AccountSid", report.account_sid}, {"ApiVersion", "2010-04-01"}, {"CallSid", report.call_sid},
      {"CallStatus", "ringing"},          {"Direction", "inbound"},     {"From", options.from},
      {"To", options.to},
  };
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/x-www-form-urlencoded"}};
  if (!options.auth_token.empty())
    headers.emplace_back("X-Twilio-Signature", protocol::twilio_signature(options.auth_token, options.webhook_url, fields));
  auto response = co_await net::http_request("POST", options.webhook_url, std::move(headers), protocol::encode_form(fields),
                                             options.tls, std::min(options.webhook_timeout_ms, ms_until(deadline)));
  report.webhook_status = response.status;
  if (!response.failure.empty()) {
    finish(call_outcome::webhook_failed, "webhook: " + response.failure);
    co_return report;
  }
  record(report, call_event_kind::webhook_answered, std::to_string(response.status));
  report.twiml = std::move(response.body);
  if (response.status < 200 || response.status > 299) {
    finish(call_outcome::webhook_failed, "webhook answered HTTP " + std::to_string(response.status));
    co_return report;
  }
  auto twiml = read_twiml(report.twiml);
  if (!twiml.error.empty()) {
    finish(call_outcome::webhook_failed, "webhook TwiML: " + twiml.error);
    co_return report;
  }
  if (!twiml.stream && twiml.sip_uri) {
    co_await dial_sip(options, report, std::move(*twiml.sip_uri), deadline);
    co_return report;
  }
  if (!twiml.stream) {
    std::string verbs;
    for (const auto& v : twiml.verbs) verbs += (verbs.empty() ? "" : ", ") + v;
    finish(call_outcome::rejected, "TwiML without <Connect><Stream> (verbs: " + verbs + ")");
    co_return report;
  }
  report.stream_url = std::move(twiml.stream->url);
  report.parameters = std::move(twiml.stream->parameters);

  if (options.before_stream) options.before_stream(report);
  if (options.stream_delay_ms > 0) {
    asio::steady_timer gap(co_await asio::this_coro::executor,
                           milliseconds(std::min(options.stream_delay_ms, ms_until(deadline))));
    co_await gap.async_wait(net::as_tuple_awaitable);
  }

  // The Media Streams WebSocket. Twilio signs the URL it connects to, with no params (protocols.md C5).
  net::connect_request request;
  request.url = report.stream_url;
  request.limits = options.limits;
  request.limits.handshake_timeout_ms = std::min(request.limits.handshake_timeout_ms, ms_until(deadline));
  request.connect_timeout_ms = ms_until(deadline);
  if (!options.auth_token.empty())
    request.headers.emplace_back("X-Twilio-Signature",
                                 protocol::twilio_signature(options.auth_token, report.stream_url, {}));
  auto connection = co_await net::connect_websocket(request, options.tls);
  if (!connection.socket) {
    finish(call_outcome::connect_failed, "media stream: " + connection.failure);
    co_return report;
  }
  record(report, call_event_kind::stream_connected);
  report.stream_sid = random_sid("MZ");
  {
    session s(options, report,
              *connection.socket, stream_identity{report.stream_sid, report.call_sid, report.account_sid});
    co_await s.run(deadline);
  }
  report.ended = clock::now();
  co_return report;
}

std::vector<call_report> run_calls(std::vector<call_options> calls, int run_timeout_ms, int threads) {
  std::vector<std::optional<call_report>> finished(calls.size());
  {
    asio::io_context ioc(std::max(threads, 1));
    for (std::size_t i = 0; i < calls.size(); ++i) {
      asio::co_spawn(asio::make_strand(ioc), run_call(std::move(calls[i])),
                     [&finished, i](std::exception_ptr e, call_report report) {
                       if (e) {
                         report.outcome = call_outcome::stream_failed;
                         report.failure = "exception: " + describe(e);
                       }
                       finished[i] = std::move(report);
                     });
    }
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([&ioc, run_timeout_ms] { ioc.run_for(milliseconds(run_timeout_ms)); });
    ioc.run_for(milliseconds(run_timeout_ms));
    for (auto& t : pool) t.join();
    // Destroying the io_context here destroys calls still running, before `finished` is read.
  }
  std::vector<call_report> reports(calls.size());
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (finished[i]) {
      reports[i] = std::move(*finished[i]);
    } else {
      reports[i].outcome = call_outcome::timed_out;
      reports[i].failure = "still running when run_calls' run_timeout_ms expired";
    }
  }
  return reports;
}

}  // namespace mb::tools::twilio
