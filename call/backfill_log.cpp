#include "call/backfill_log.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "call/event_json.hpp"

namespace mb::call {

backfill_log::backfill_log(shared_event_ptr started, backfill_limits limits)
    : limits_(limits), started_(std::move(started)), bytes_(started_->json.size()) {}

void backfill_log::drop_front(std::deque<entry>& from) {
  bytes_ -= from.front().event->json.size();
  from.pop_front();
  ++left_out_;
}

std::size_t backfill_log::add(shared_event_ptr event) {
  if (event->kind == event_kind::final_line) {
    // The final replaces its turn's deltas: they are not left out, so not counted.
    std::erase_if(others_, [&](const entry& e) {
      const auto& x = *e.event;
      const bool replaced = x.kind == event_kind::delta && x.speaker == event->speaker && x.item_id == event->item_id;
      if (replaced) bytes_ -= x.json.size();
      return replaced;
    });
  }
  bytes_ += event->json.size();
  auto& into = event->kind == event_kind::final_line ? finals_ : others_;
  into.push_back({next_order_++, std::move(event)});

  const auto before = left_out_;
  while (size() > limits_.max_events || bytes_ > limits_.max_bytes) {
    if (!others_.empty()) {
      drop_front(others_);
    } else if (!finals_.empty()) {
      drop_front(finals_);
      ++finals_left_out_;
    } else {
      break;  // call.started alone: kept whatever its size
    }
  }
  return static_cast<std::size_t>(left_out_ - before);
}

void backfill_log::append_to(std::vector<shared_event_ptr>& out, std::int64_t unix_ms) const {
  out.reserve(out.size() + size() + 1);
  out.push_back(started_);
  if (left_out_ > 0) {
    auto marker = std::make_shared<shared_event>();
    marker->call_sid = started_->call_sid;
    marker->json = backfill_truncated_json(started_->call_sid, unix_ms, left_out_, finals_left_out_);
    out.push_back(std::move(marker));
  }
  auto f = finals_.begin();
  auto o = others_.begin();
  while (f != finals_.end() || o != others_.end()) {
    const bool final_first = o == others_.end() || (f != finals_.end() && f->order < o->order);
    out.push_back(final_first ? (f++)->event : (o++)->event);
  }
}

std::string backfill_truncated_json(std::string_view call_sid, std::int64_t unix_ms, std::uint64_t left_out,
                                    std::uint64_t finals_left_out) {
  boost::json::object o;
  o["type"] = "backfill.truncated";
  o["call_sid"] = call_sid;
  o["time"] = format_utc(unix_ms);
  o["left_out"] = left_out;
  o["transcript_finals_left_out"] = finals_left_out;
  return boost::json::serialize(o);
}

}  // namespace mb::call
