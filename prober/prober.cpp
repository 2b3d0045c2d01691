#include "prober/prober.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "bridge/read_end.hpp"
#include "net/ws_writer.hpp"

namespace mb::prober {
namespace {

using namespace asio::experimental::awaitable_operators;
using steady = std::chrono::steady_clock;

double ms_of(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

probe::connect_timings timings_of(const net::connect_timings& t) {
  probe::connect_timings out{.dns = ms_of(t.resolve), .tcp = ms_of(t.tcp), .upgrade = ms_of(t.upgrade), .tls = {}};
  if (t.tls) out.tls = ms_of(*t.tls);
  return out;
}

// A refused upgrade with 401 or 403 is the credential's fault; every other failure to connect is the
// connection's (docs/latency.md "The prober").
probe::error_kind connect_error_kind(const net::connect_result& r) {
  return r.http_status == 401 || r.http_status == 403 ? probe::error_kind::auth : probe::error_kind::connect;
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One probe run: connects, then carries out the script's messages and wake-ups until it is finished,
// then closes. Everything runs on the prober's strand.
class probe_session {
 public:
  probe_session(const probe_target& target, const prober_options& options,
                std::shared_ptr<net::tls_client_context> tls, const asio::any_io_executor& strand, steady::time_point now)
      : target_(target),
        options_(options),
        tls_(std::move(tls)),
        deadline_(now + options.timeout),
        script_(upstream::make_adapter(target.provider), target.session,
                probe::script_options{.utterance_mulaw = options.utterance_mulaw,
                                      .timeout = options.timeout,
                                      .step_wait = options.step_wait},
                probe::probe_run{.provider = std::string(upstream::to_string(target.provider)),
                                 .agent = target.agent,
                                 .started_at_ms = unix_ms_now(),
                                 .error = probe::error_kind::none,
                                 .error_detail = {},
                                 .stages = {}},
                now),
        timer_(strand) {}

  // The finished run; nullopt when stop() interrupted it.
  net::awaitable<std::optional<probe::probe_run>> run() {
    timer_.expires_at(deadline_);
    auto outcome =
        co_await (net::connect_websocket(target_.request, tls_) || timer_.async_wait(net::as_tuple_awaitable));
    if (stopped_) co_return std::nullopt;
    const auto now = steady::now();
    if (outcome.index() == 1) {
      script_.on_connect_failed(probe::error_kind::timeout, "still connecting when the probe's time ran out", now);
      co_return script_.result();
    }
    auto& connected = std::get<0>(outcome);
    if (!connected.socket) {
      script_.on_connect_failed(connect_error_kind(connected), connected.failure, now);
      co_return script_.result();
    }
    socket_ = std::move(connected.socket);
    writer_.emplace(*socket_, options_.writer_queue);
    script_.on_connected(timings_of(connected.timings), now, out_);
    send();
    co_await (reader() && writer_->run() && ticker());
    if (stopped_) co_return std::nullopt;
    co_return script_.result();
  }

  void stop() {
    stopped_ = true;
    timer_.cancel();
  }

 private:
  net::awaitable<void> reader() {
    net::read_result r{};
    for (;;) {
      r = co_await socket_->read(buffer_, simdjson::SIMDJSON_PADDING);
      // No provider's protocol sends binary frames; like a call, the probe skips them (the deadline
      // bounds a provider that sends nothing else).
      if (r.status == net::read_status::binary_message) continue;
      if (r.status != net::read_status::message) break;
      if (script_.finished() || stopped_) continue;  // the close is on its way
      script_.on_message(buffer_, buffer_.capacity(), steady::now(), out_);
      send();
      wake_ticker();
    }
    reader_done_ = true;
    if (!script_.finished() && !stopped_)
      script_.on_closed(bridge::describe_read_end("provider", r, *socket_), steady::now());
    if (r.status == net::read_status::closed)
      writer_->close({1000, "probe finished"});
    else
      writer_->abort_now();
    timer_.cancel();
  }

  // The script's wake-ups, the run's deadline, and the close once the run is over.
  net::awaitable<void> ticker() {
    while (!reader_done_) {
      if (script_.finished() || stopped_) {
        co_await close_socket();
        co_return;
      }
      armed_ = std::min(script_.next_wakeup(), deadline_);
      timer_.expires_at(armed_);
      co_await timer_.async_wait(net::as_tuple_awaitable);
      if (reader_done_ || stopped_ || script_.finished()) continue;
      const auto now = steady::now();
      if (now < armed_) continue;  // woken by a message: the script's next wake-up moved
      script_.on_tick(now, out_);
      send();
      // The script enforces the same deadline; should it not have ended the run, the run ends here.
      if (now >= deadline_ && !script_.finished()) script_.on_closed("no end within the probe's timeout", now);
    }
  }

  // A close frame (1000 after the run, 1001 when the prober stops), the peer's answer awaited for at
  // most close_grace, then the socket is aborted.
  net::awaitable<void> close_socket() {
    closing_ = true;
    writer_->close(stopped_ ? net::close_reason{1001, "prober stopping"} : net::close_reason{1000, "probe finished"});
    timer_.expires_after(options_.close_grace);
    while (!reader_done_) {
      auto [ec] = co_await timer_.async_wait(net::as_tuple_awaitable);
      if (!ec) break;  // the grace ran out; a cancel came from the reader's end or from stop()
    }
    if (!reader_done_) writer_->abort_now();
  }

  void wake_ticker() {
    if (closing_) return;
    if (script_.finished() || std::min(script_.next_wakeup(), deadline_) != armed_) timer_.cancel();
  }

  // Queues what the script wants sent; a provider that lets the queue fill up fails the run.
  void send() {
    for (const auto& message : out_) {
      if (writer_->push(message)) continue;
      if (!script_.finished())
        script_.on_closed(writer_->full() ? "the provider does not read: the send queue is full"
                                          : "the connection failed while sending",
                          steady::now());
      writer_->abort_now();
      break;
    }
    out_.clear();
  }

  const probe_target& target_;
  const prober_options& options_;
  std::shared_ptr<net::tls_client_context> tls_;
  steady::time_point deadline_;
  probe::probe_script script_;
  asio::steady_timer timer_;  // the connect deadline, then the script's wake-ups, then the close grace
  steady::time_point armed_{};
  std::unique_ptr<net::message_socket> socket_;
  std::optional<net::ws_writer> writer_;
  std::string buffer_;
  std::vector<std::string> out_;
  bool reader_done_ = false;
  bool closing_ = false;
  bool stopped_ = false;
};

}  // namespace

struct prober::state {
  state(const asio::any_io_executor& executor, std::vector<probe_target> t, prober_options o,
        std::shared_ptr<net::tls_client_context> c, std::shared_ptr<probe_sink> s)
      : strand(asio::make_strand(executor)),
        targets(std::move(t)),
        options(std::move(o)),
        tls(std::move(c)),
        sink(std::move(s)),
        wake(strand) {}

  asio::any_io_executor strand;
  const std::vector<probe_target> targets;
  const prober_options options;
  const std::shared_ptr<net::tls_client_context> tls;
  const std::shared_ptr<probe_sink> sink;
  // On the strand:
  std::optional<probe::probe_schedule> schedule;
  asio::steady_timer wake;
  std::vector<std::shared_ptr<probe_session>> running;
  bool stopping = false;
};

namespace {

using state_ptr = std::shared_ptr<prober::state>;

void log_failure(const char* what, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const asio::multiple_exceptions& m) {
    log_failure(what, m.first_exception());
  } catch (const std::exception& x) {
    spdlog::error("prober: {} failed: {}", what, x.what());
  } catch (...) {
    spdlog::error("prober: {} failed", what);
  }
}

net::awaitable<void> run_profile(state_ptr s, std::size_t index) {
  const auto& target = s->targets[index];
  auto session = std::make_shared<probe_session>(target, s->options, s->tls, s->strand, steady::now());
  s->running.push_back(session);
  std::optional<probe::probe_run> run;
  try {
    run = co_await session->run();
  } catch (...) {
    log_failure("a probe run", std::current_exception());
  }
  std::erase(s->running, session);
  s->schedule->finished(index);
  if (run && !s->stopping) s->sink->record(*run);
}

net::awaitable<void> schedule_loop(state_ptr s) {
  s->schedule.emplace(s->targets.size(), s->options.schedule, steady::now());
  std::vector<std::size_t> due;
  while (!s->stopping) {
    s->wake.expires_at(s->schedule->next_wakeup());
    co_await s->wake.async_wait(net::as_tuple_awaitable);
    if (s->stopping) break;
    const auto skipped = s->schedule->skipped();
    due.clear();
    s->schedule->take_due(steady::now(), due);
    if (s->schedule->skipped() != skipped)
      spdlog::debug("prober: a profile's run outlasted the interval: its turn was skipped ({} so far)",
                    s->schedule->skipped());
    for (const auto index : due)
      asio::co_spawn(s->strand, run_profile(s, index), [](const std::exception_ptr& e) { log_failure("a probe run", e); });
  }
}

}  // namespace

prober::prober(const asio::any_io_executor& executor, std::vector<probe_target> targets, prober_options options,
               std::shared_ptr<net::tls_client_context> tls, std::shared_ptr<probe_sink> sink)
    : state_(std::make_shared<state>(executor, std::move(targets), std::move(options), std::move(tls),
                                     std::move(sink))) {}

prober::~prober() { stop(); }

void prober::start() {
  asio::co_spawn(state_->strand, schedule_loop(state_),
                 [](const std::exception_ptr& e) { log_failure("the probe schedule", e); });
}

void prober::stop() {
  asio::post(state_->strand, [s = state_] {
    s->stopping = true;
    s->wake.cancel();
    for (const auto& session : s->running) session->stop();
  });
}

}  // namespace mb::prober
