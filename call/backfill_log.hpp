#pragma once
// What a listener that subscribes to a running call receives first (docs/events.md, "Order, backfill
// and slow listeners"), kept within a bound per call: a peer that makes a call publish without end
// (a DTMF flood, endless deltas) must not make the process grow without end.
//
// The log keeps the call's call.started, its transcript.final lines, its barge-ins and DTMF keys,
// and the deltas of turns that are not final yet (a final replaces its turn's deltas). Beyond
// `max_events` events or `max_bytes` of JSON it leaves out the oldest events, in this order: first
// barge-ins, DTMF and deltas, then transcript.final lines; never call.started. A backfill with events
// left out carries a `backfill.truncated` event right after call.started that says how many; the
// stored history (GET /v1/calls/{sid}) still has every transcript line.
//
// @par Thread Safety
// None: one owner (the listener hub's thread). Events are immutable once shared.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "call/events.hpp"

namespace mb::call {

// How an event changes its call's backfill.
enum class event_kind { started, delta, final_line, other, ended };

// One published event, serialised once and then shared, read-only, by the backfill and by every
// listener's queue.
struct shared_event {
  event_kind kind = event_kind::other;
  std::string call_sid;
  role speaker = role::caller;  // delta and final_line
  std::string item_id;          // delta and final_line
  std::string json;             // what listeners receive
};
using shared_event_ptr = std::shared_ptr<const shared_event>;

struct backfill_limits {
  std::size_t max_events = 1024;       // call.started included
  std::size_t max_bytes = 256 * 1024;  // of JSON
};

class backfill_log {
 public:
  // `started` is the call's call.started; it is always kept.
  backfill_log(shared_event_ptr started, backfill_limits limits);

  // Adds a delta, final_line or other event; returns how many events it left out to make room.
  std::size_t add(shared_event_ptr event);

  // The backfill in publication order, appended to `out`: call.started, then a backfill.truncated
  // event dated `unix_ms` if any event was left out, then the rest.
  void append_to(std::vector<shared_event_ptr>& out, std::int64_t unix_ms) const;

  [[nodiscard]] std::size_t size() const noexcept { return 1 + finals_.size() + others_.size(); }
  [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::uint64_t left_out() const noexcept { return left_out_; }
  [[nodiscard]] std::uint64_t finals_left_out() const noexcept { return finals_left_out_; }

 private:
  struct entry {
    std::uint64_t order;
    shared_event_ptr event;
  };
  void drop_front(std::deque<entry>& from);

  backfill_limits limits_;
  shared_event_ptr started_;
  // Split by what goes first, each in publication order: dropping the oldest is a pop_front.
  std::deque<entry> finals_;
  std::deque<entry> others_;  // deltas, barge-ins, DTMF
  std::uint64_t next_order_ = 0;
  std::size_t bytes_ = 0;
  std::uint64_t left_out_ = 0;
  std::uint64_t finals_left_out_ = 0;
};

// {"type":"backfill.truncated","call_sid":…,"time":…,"left_out":N,"transcript_finals_left_out":M}
[[nodiscard]] std::string backfill_truncated_json(std::string_view call_sid, std::int64_t unix_ms,
                                                  std::uint64_t left_out, std::uint64_t finals_left_out);

}  // namespace mb::call
