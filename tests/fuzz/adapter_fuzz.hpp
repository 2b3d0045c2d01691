#pragma once
// Shared by the targets that drive an upstream adapter as a call does (live_event, gemini_event): the
// replay of their input lines on a clock, the steps an adapter takes with the checks every adapter
// must pass, and the bookkeeping of the turns a driver has seen.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/tool_calls.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "upstream/event.hpp"

namespace mb::fuzz {

// A turn a driver has seen open, with its text deltas concatenated.
struct seen_turn {
  std::string id;
  std::string text;
  bool audio_done = false;
};

// Every turn id a call has handed out.
class turn_ids {
 public:
  // A new turn's id: never seen before in this call, of its speaker's form.
  void check_new(std::string_view id, std::string_view prefix) {
    MB_FUZZ_CHECK(id.starts_with(prefix) && id.size() > prefix.size());
    MB_FUZZ_CHECK(ids_.emplace(id).second);
  }

 private:
  std::set<std::string, std::less<>> ids_;
};

// Translates one server message into `out`; false when it is rejected, which yields nothing, while an
// accepted one yields at least one event.
template <class Adapter>
bool translate(Adapter& adapter, std::string_view text, std::int64_t now_ms, std::vector<upstream::event>& out) {
  const padded_input input(text);
  if (adapter.translate(input.view(), input.capacity(), now_ms, out)) {
    MB_FUZZ_CHECK(out.empty());
    return false;
  }
  MB_FUZZ_CHECK(!out.empty());
  return true;
}

// Fires the adapter's tick when it is due, into `out`: a tick that was asked for yields events, and
// the next wakeup is in the future.
template <class Adapter>
bool tick_if_due(Adapter& adapter, std::int64_t now_ms, std::vector<upstream::event>& out) {
  const auto wakeup = adapter.next_wakeup();
  if (!wakeup || *wakeup > now_ms) return false;
  adapter.on_tick(now_ms, out);
  MB_FUZZ_CHECK(!out.empty());
  const auto next = adapter.next_wakeup();
  MB_FUZZ_CHECK(!next || *next > now_ms);
  return true;
}

// Every view of `e` must still be readable (ASan reports a dangling one).
inline void check_views(const upstream::event& e) {
  const std::string copies = std::string(e.type_name) + std::string(e.turn_id) + std::string(e.response_id) +
                             std::string(e.audio_b64) + std::string(e.text) + std::string(e.input_format) +
                             std::string(e.output_format) + std::string(e.error.type) + std::string(e.error.code) +
                             std::string(e.error.message) + std::string(e.error.client_event_id) +
                             std::string(e.tool_call_id) + std::string(e.tool_name) + std::string(e.tool_arguments);
  MB_FUZZ_CHECK(copies.size() < (std::size_t{64} << 20));
}

// A tool call the core gets is within every bound (docs/protocols.md I5).
inline void check_tool_call(const upstream::event& e) {
  MB_FUZZ_CHECK(!protocol::check_tool_call(e.tool_call_id, e.tool_name, e.tool_arguments.size()));
}

// A cancellation names an id a call could have had.
inline void check_tool_call_cancelled(const upstream::event& e) {
  MB_FUZZ_CHECK(!e.tool_call_id.empty() && e.tool_call_id.size() <= protocol::max_tool_call_id_bytes);
}

// Replays the input's lines: each first advances the clock by one frame (`frame_ms`), a "w<digits>"
// line by that many ms more (at most `max_jump_ms`), and fires a due tick (call.tick_if_due); every
// other non-empty line is then a step of the call (call.line).
template <class Call>
void replay(const std::uint8_t* data, std::size_t size, Call& call, std::int64_t frame_ms, std::int64_t max_jump_ms) {
  line_reader lines(data, size);
  std::int64_t now_ms = 1000;
  while (!lines.done()) {
    const auto line = lines.next();
    now_ms += frame_ms;
    if (!line.empty() && line[0] == 'w') now_ms += jump_ms(line.substr(1), max_jump_ms);
    call.tick_if_due(now_ms);
    if (!line.empty() && line[0] != 'w') call.line(line, now_ms);
  }
}

}  // namespace mb::fuzz
