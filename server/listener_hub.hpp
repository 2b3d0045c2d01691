#pragma once
// Live events for listeners (docs/events.md): every call's events fan out to WebSocket and SSE
// subscribers of that call (/v1/calls/{sid}/events) or of all calls (/v1/events).
//
// Threads. publish() runs on a call's thread: it serialises the event once, queues it for the store,
// and posts the JSON to the hub's own thread. The hub thread keeps each running call's backfill
// (call.started and its transcript so far) and the subscriber list, and posts each event to every
// matching listener's executor. A listener lives on its connection's executor with its own bounded
// writer: one that falls more than `listener_queue` events behind is closed with 1008 "listener too
// slow", and no call or other listener waits for it.
//
// No gaps, no duplicates: a subscription is handled on the hub thread, which posts the backfill to
// the listener and adds it to the list in one step. Every later event is posted after the backfill,
// and posts to one executor run in order. Each call's backfill is a call::backfill_log, bounded in
// events and bytes (what it keeps and leaves out: call/backfill_log.hpp).
//
// Memory: an event is serialised once and shared, immutable, by the backfill and every listener's
// queue; a listener's writer holds copies of only the next few messages.
//
// @par Thread Safety
// publish(), call_ended(), close_all() and stats() from any thread; serve_*() on the connection's executor.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "bridge/event_sink.hpp"
#include "call/backfill_log.hpp"
#include "config/settings.hpp"
#include "net/message_socket.hpp"
#include "net/window_timer.hpp"

namespace mb::store {
class call_store;
}

namespace mb::server {

struct hub_options {
  std::size_t listener_queue = 256;             // events a listener may fall behind, beyond its backfill
  std::chrono::milliseconds close_grace{5000};  // a closing listener that does not drain its queue is aborted
  std::chrono::milliseconds keep_alive{15000};  // SSE comment interval (WebSocket listeners get pings)
  std::size_t ended_calls_remembered = 1024;    // subscribing to one of these is answered "call has ended"
  call::backfill_limits backfill{};             // per running call
};

// `base` with the bounds LISTENER_QUEUE_SIZE and LISTENER_BACKFILL_* set.
[[nodiscard]] hub_options with_settings(hub_options base, const config::settings& s);

struct hub_stats {
  std::uint64_t listeners = 0;               // connected now
  std::uint64_t slow_listeners_dropped = 0;  // closed because their queue overflowed
  std::uint64_t events = 0;                  // published
  std::uint64_t backfill_left_out = 0;       // events that calls' backfills left out to stay within their bounds
};

// WebSocket limits for listeners: they send nothing but control frames.
inline constexpr net::socket_limits listener_socket_limits{
    .max_message_bytes = 4096, .handshake_timeout_ms = 10000, .idle_timeout_ms = 60000};

class listener_hub final : public bridge::event_sink {
 public:
  // `store` (may be null) receives every event before any listener sees it.
  listener_hub(hub_options options, store::call_store* store);
  ~listener_hub() override;  // stop()
  listener_hub(const listener_hub&) = delete;
  listener_hub& operator=(const listener_hub&) = delete;

  void publish(const bridge::call_identity& call, const call::call_event& event) override;
  void call_ended(const bridge::call_identity& call, const bridge::call_summary& summary) override;

  // Serve one listener until it disconnects, falls behind, its call ends (per-call listeners) or
  // close_all(). An empty call_sid subscribes to all calls.
  net::awaitable<void> serve_websocket(std::unique_ptr<net::message_socket> socket, std::string call_sid);
  // Takes over a socket whose GET request has been read, and answers it with an event stream.
  net::awaitable<void> serve_sse(asio::ip::tcp::socket socket, std::string call_sid);

  // Shutdown: refuses new listeners, closes the others with 1001, and runs `done` (on the hub thread)
  // once none is left; each is aborted at most close_grace after its close.
  void close_all(std::function<void()> done);
  // Stops the hub thread. Call once no call or listener runs any more.
  void stop();

  [[nodiscard]] hub_stats stats() const;

 private:
  class listener;
  struct state;
  using event_ptr = call::shared_event_ptr;

  net::awaitable<void> serve(std::unique_ptr<net::message_socket> socket, std::string call_sid, bool sse);
  // Events wait in pending_ for up to delivery_window_ (20 ms), then the hub thread takes them all at once: one
  // wake-up of the hub thread per window instead of one per event (measured: per-event posts made
  // about 5 futex calls per call-second; docs/performance.md, "Relay engine at the system-call floor").
  void dispatch(event_ptr e);
  // On the hub thread:
  void deliver_pending();
  void on_event(const event_ptr& e);
  void subscribe(std::uint64_t id, std::string call_sid, std::weak_ptr<listener> target, asio::any_io_executor ex);
  void unsubscribe(std::uint64_t id);

  hub_options options_;
  store::call_store* store_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  net::window_timer delivery_window_{ioc_, std::chrono::milliseconds(20), [this] { deliver_pending(); }};  // hub thread only
  std::mutex pending_mutex_;
  std::vector<event_ptr> pending_;  // guarded by pending_mutex_
  std::unique_ptr<state> state_;  // hub thread only
  std::thread thread_;
  std::atomic<std::uint64_t> next_listener_id_{1};
  std::atomic<std::uint64_t> listeners_{0};
  std::atomic<std::uint64_t> slow_dropped_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> backfill_left_out_{0};
};

}  // namespace mb::server
