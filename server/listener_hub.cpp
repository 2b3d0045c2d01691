#include "server/listener_hub.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "call/backfill_log.hpp"
#include "call/event_json.hpp"
#include "net/ws_writer.hpp"
#include "server/sse_socket.hpp"
#include "store/call_store.hpp"

namespace mb::server {

namespace {

using namespace asio::experimental::awaitable_operators;
using call::event_kind;

// Messages a listener's writer holds; the rest of its queue waits as shared events, so a backfill
// costs a pointer per event, not a copy of its JSON.
constexpr std::size_t writer_window = 16;

std::int64_t unix_ms_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Runs f(listener) on the listener's executor, if it still exists by then.
template <class Subscriber, class F>
void post_to(const Subscriber& s, F f) {
  asio::post(s.executor, [target = s.target, f = std::move(f)]() mutable {
    if (auto l = target.lock()) f(*l);
  });
}

}  // namespace

hub_options with_settings(hub_options base, const config::settings& s) {
  base.listener_queue = static_cast<std::size_t>(s.listener_queue_size);
  base.backfill = {static_cast<std::size_t>(s.listener_backfill_events),
                   static_cast<std::size_t>(s.listener_backfill_bytes)};
  return base;
}

// One connected listener. Everything but construction runs on its connection's executor.
class listener_hub::listener {
 public:
  listener(std::uint64_t id, std::unique_ptr<net::message_socket> socket, bool sse, bool per_call,
           const hub_options& options, std::atomic<std::uint64_t>& slow_dropped)
      : id_(id),
        socket_(std::move(socket)),
        sse_(sse),
        per_call_(per_call),
        options_(options),
        slow_dropped_(slow_dropped),
        start_signal_(socket_->get_executor()),
        guard_(socket_->get_executor()) {
    start_signal_.expires_at(asio::steady_timer::time_point::max());
  }

  // The hub's answer to the subscription: the backfill, or why the listener is refused.
  void start(std::vector<event_ptr> backfill, std::optional<net::close_reason> refusal) {
    // Room for the whole backfill, so that a call with a long backfill does not make a new listener look slow.
    queue_limit_ = backfill.size() + options_.listener_queue;
    pending_.assign(std::make_move_iterator(backfill.begin()), std::make_move_iterator(backfill.end()));
    writer_.emplace(*socket_, writer_window);
    writer_->refill_with([this] { feed_writer(); });
    feed_writer();
    if (refusal) request_close(std::move(*refusal));
    start_signal_.cancel();
  }

  void deliver(const event_ptr& e) {
    if (!writer_ || closing_ || writer_->done()) return;
    if (pending_.size() + writer_->queued() >= queue_limit_) {
      ++slow_dropped_;
      spdlog::warn("listener {}: more than {} events behind; disconnecting it", id_, options_.listener_queue);
      request_close({1008, "listener too slow"});
      return;
    }
    pending_.push_back(e);
    feed_writer();
    if (per_call_ && e->kind == event_kind::ended) request_close({1000, "call ended"});
  }

  // Events already queued are sent first, then the close.
  void request_close(net::close_reason reason) {
    if (!writer_ || closing_) return;
    closing_ = true;
    close_ = std::move(reason);
    feed_writer();
    guard_.cancel();
  }

  net::awaitable<void> run() {
    if (!writer_) co_await start_signal_.async_wait(net::as_tuple_awaitable);
    if (!writer_) co_return;
    co_await (reader() && write_all() && guard());
  }

 private:
  // Moves what fits from pending_ into the writer; once pending_ is empty, a requested close follows.
  void feed_writer() {
    while (!pending_.empty() && writer_->accepting()) {
      writer_->push(pending_.front()->json);
      pending_.pop_front();
    }
    if (pending_.empty() && close_) writer_->close(*std::exchange(close_, std::nullopt));
  }

  // Listeners only listen: what they send is read (to see control frames and the end) and ignored.
  net::awaitable<void> reader() {
    std::string ignored;
    for (;;) {
      const auto r = co_await socket_->read(ignored, 0);
      if (r.status == net::read_status::message || r.status == net::read_status::binary_message) continue;
      if (r.status == net::read_status::closed) {
        request_close({1000, {}});
      } else {
        writer_->abort_now();
        guard_.cancel();
      }
      co_return;
    }
  }

  net::awaitable<void> write_all() {
    co_await writer_->run();
    // A failed write leaves a broken connection: make sure the reader sees its end too.
    if (writer_->error()) socket_->abort();
    guard_.cancel();
  }

  // SSE keep-alive comments, and the deadline of a close that cannot drain.
  net::awaitable<void> guard() {
    for (;;) {
      if (writer_->done()) co_return;
      const bool was_closing = closing_;
      if (was_closing)
        guard_.expires_after(options_.close_grace);
      else if (sse_)
        guard_.expires_after(options_.keep_alive);
      else
        guard_.expires_at(asio::steady_timer::time_point::max());
      auto [ec] = co_await guard_.async_wait(net::as_tuple_awaitable);
      if (writer_->done()) co_return;
      if (ec) continue;  // woken: closing began
      if (was_closing) {
        spdlog::warn("listener {}: did not take its close within {} ms; aborting", id_, options_.close_grace.count());
        writer_->abort_now();
        co_return;
      }
      writer_->push("");  // a full queue needs no keep-alive
    }
  }

  std::uint64_t id_;
  std::unique_ptr<net::message_socket> socket_;
  bool sse_;
  bool per_call_;
  hub_options options_;
  std::atomic<std::uint64_t>& slow_dropped_;
  std::optional<net::ws_writer> writer_;  // created by start()
  std::deque<event_ptr> pending_;          // queued for the writer, oldest first
  std::size_t queue_limit_ = 0;            // pending_ plus the writer's queue; beyond it the listener is too slow
  std::optional<net::close_reason> close_;  // requested; sent once pending_ is empty
  asio::steady_timer start_signal_;
  asio::steady_timer guard_;
  bool closing_ = false;
};

struct listener_hub::state {
  struct call_log {
    std::uint64_t order = 0;  // calls' backfills go out in the order they started
    call::backfill_log events;
  };
  struct subscriber {
    std::uint64_t id = 0;
    std::string call_sid;  // empty: all calls
    std::weak_ptr<listener> target;
    asio::any_io_executor executor;
  };
  std::unordered_map<std::string, call_log> calls;
  std::uint64_t next_order = 0;
  std::vector<subscriber> subscribers;
  std::deque<std::string> ended;
  bool closing = false;
  std::function<void()> on_closed;
};

listener_hub::listener_hub(hub_options options, store::call_store* store)
    : options_(options), store_(store), work_(asio::make_work_guard(ioc_)), state_(std::make_unique<state>()) {
  thread_ = std::thread([this] { ioc_.run(); });
}

listener_hub::~listener_hub() { stop(); }

void listener_hub::stop() {
  work_.reset();
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

hub_stats listener_hub::stats() const {
  return {listeners_.load(), slow_dropped_.load(), events_.load(), backfill_left_out_.load()};
}

void listener_hub::publish(const bridge::call_identity& call, const call::call_event& event) {
  if (call.call_sid.empty()) return;  // before Twilio's start: not attributable to a call
  const call::event_context context{call.call_sid, call.stream_sid, call.from, call.to, unix_ms_now()};
  // The store first: whatever a listener sees has been queued for the history.
  if (store_) store_->record(context, event);
  auto e = std::make_shared<call::shared_event>();
  e->call_sid = call.call_sid;
  e->json = call::event_json(context, event);
  if (std::holds_alternative<call::call_started>(event)) e->kind = event_kind::started;
  if (const auto* d = std::get_if<call::transcript_delta>(&event)) {
    e->kind = event_kind::delta;
    e->speaker = d->speaker;
    e->item_id = d->item_id;
  }
  if (const auto* f = std::get_if<call::transcript_final>(&event)) {
    e->kind = event_kind::final_line;
    e->speaker = f->speaker;
    e->item_id = f->item_id;
  }
  dispatch(std::move(e));
}

void listener_hub::call_ended(const bridge::call_identity& call, const bridge::call_summary& summary) {
  if (call.call_sid.empty()) return;
  const call::event_context context{call.call_sid, call.stream_sid, call.from, call.to, unix_ms_now()};
  const call::call_end end{summary.reason, summary.detail, summary.duration.count(), summary.usage};
  if (store_) store_->record(context, end);
  auto e = std::make_shared<call::shared_event>();
  e->kind = event_kind::ended;
  e->call_sid = call.call_sid;
  e->json = call::event_json(context, end);
  dispatch(std::move(e));
}

void listener_hub::dispatch(event_ptr e) {
  ++events_;
  bool first = false;
  {
    std::lock_guard lock(pending_mutex_);
    first = pending_.empty();
    pending_.push_back(std::move(e));
  }
  if (first) asio::post(ioc_, [this] { delivery_window_.arm(); });
}

void listener_hub::deliver_pending() {
  std::vector<event_ptr> batch;
  {
    std::lock_guard lock(pending_mutex_);
    batch.swap(pending_);
  }
  for (const auto& e : batch) on_event(e);
}

void listener_hub::on_event(const event_ptr& e) {
  auto& st = *state_;
  auto it = st.calls.find(e->call_sid);
  if (e->kind == event_kind::ended) {
    if (it != st.calls.end()) st.calls.erase(it);
    st.ended.push_back(e->call_sid);
    if (st.ended.size() > options_.ended_calls_remembered) st.ended.pop_front();
  } else if (it != st.calls.end()) {
    if (const auto dropped = it->second.events.add(e)) backfill_left_out_ += dropped;
  } else if (e->kind == event_kind::started) {
    st.calls.emplace(e->call_sid, state::call_log{st.next_order++, call::backfill_log(e, options_.backfill)});
  }
  for (const auto& s : st.subscribers)
    if (s.call_sid.empty() || s.call_sid == e->call_sid) post_to(s, [e](listener& l) { l.deliver(e); });
}

void listener_hub::subscribe(std::uint64_t id, std::string call_sid, std::weak_ptr<listener> target,
                             asio::any_io_executor ex) {
  auto& st = *state_;
  state::subscriber sub{id, std::move(call_sid), std::move(target), std::move(ex)};
  // Pointers to the shared events: a backfill copies no JSON.
  std::vector<event_ptr> backfill;
  std::optional<net::close_reason> refusal;
  const auto now = unix_ms_now();
  if (st.closing) {
    refusal = net::close_reason{1001, "server shutting down"};
  } else if (sub.call_sid.empty()) {
    std::vector<const state::call_log*> logs;
    for (const auto& [sid, log] : st.calls) logs.push_back(&log);
    std::sort(logs.begin(), logs.end(), [](const auto* a, const auto* b) { return a->order < b->order; });
    for (const auto* log : logs) log->events.append_to(backfill, now);
  } else if (const auto it = st.calls.find(sub.call_sid); it != st.calls.end()) {
    it->second.events.append_to(backfill, now);
  } else if (std::find(st.ended.begin(), st.ended.end(), sub.call_sid) != st.ended.end()) {
    refusal = net::close_reason{1000, "call has ended; GET /v1/calls/" + sub.call_sid + " has its transcript"};
  }
  post_to(sub, [backfill = std::move(backfill), refusal](listener& l) mutable {
    l.start(std::move(backfill), std::move(refusal));
  });
  if (!refusal) st.subscribers.push_back(std::move(sub));
}

void listener_hub::unsubscribe(std::uint64_t id) {
  auto& st = *state_;
  std::erase_if(st.subscribers, [id](const auto& s) { return s.id == id; });
  if (st.closing && st.subscribers.empty() && st.on_closed) std::exchange(st.on_closed, nullptr)();
}

void listener_hub::close_all(std::function<void()> done) {
  asio::post(ioc_, [this, done = std::move(done)]() mutable {
    deliver_pending();  // what calls published before the shutdown still reaches the listeners
    auto& st = *state_;
    st.closing = true;
    st.on_closed = std::move(done);
    for (const auto& s : st.subscribers) post_to(s, [](listener& l) { l.request_close({1001, "server shutting down"}); });
    if (st.subscribers.empty()) std::exchange(st.on_closed, nullptr)();
  });
}

net::awaitable<void> listener_hub::serve(std::unique_ptr<net::message_socket> socket, std::string call_sid, bool sse) {
  const auto id = next_listener_id_++;
  auto ex = socket->get_executor();
  auto l = std::make_shared<listener>(id, std::move(socket), sse, !call_sid.empty(), options_, slow_dropped_);
  ++listeners_;
  spdlog::info("listener {}: {} subscribed to {}", id, sse ? "SSE" : "WebSocket",
               call_sid.empty() ? std::string("all calls") : "call " + call_sid);
  asio::post(ioc_, [this, id, call_sid, target = std::weak_ptr<listener>(l), ex] {
    subscribe(id, call_sid, target, ex);
  });
  co_await l->run();
  asio::post(ioc_, [this, id] { unsubscribe(id); });
  --listeners_;
  spdlog::info("listener {}: disconnected", id);
}

net::awaitable<void> listener_hub::serve_websocket(std::unique_ptr<net::message_socket> socket, std::string call_sid) {
  co_await serve(std::move(socket), std::move(call_sid), false);
}

net::awaitable<void> listener_hub::serve_sse(asio::ip::tcp::socket socket, std::string call_sid) {
  auto sse = co_await sse_socket::accept(std::move(socket));
  if (sse) co_await serve(std::move(sse), std::move(call_sid), true);
}

}  // namespace mb::server
