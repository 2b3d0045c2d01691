// call_state driven by parsed Twilio messages and Realtime events, as the bridge drives it, checking
// the promises its I/O shell relies on after every step.
//
// Input: lines separated by '\n'. The first line holds option letters (see options_from); the call
// then gets a valid Twilio start, and each further line is one step, by its first byte:
//   't' + JSON    a Twilio message          'r' + JSON    a Realtime event
//   'w' + digits  the clock jumps that many ms (the pacing timer fires if due)
//   'x'           the upstream session is lost, and reconnected
// Every line first advances the clock by one 20 ms frame and fires a due pacing tick. The driver
// plays the bridge's part too: it connects the upstream when asked to open or restart it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "call/call_state.hpp"
#include "protocol/base64.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace proto = mb::protocol;
using namespace mb::call;

constexpr std::string_view start_message =
    R"({"event":"start","sequenceNumber":"1","streamSid":"MZ00000000000000000000000000000001",)"
    R"("start":{"streamSid":"MZ00000000000000000000000000000001","accountSid":"AC1","callSid":"CA1",)"
    R"("tracks":["inbound"],"customParameters":{"tenant":"acme"},)"
    R"("mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}})";
constexpr std::int64_t frame_ms = 20;
constexpr std::int64_t max_jump_ms = 600000;

struct setup {
  proto::session_config session;
  call_options options;
};

// Letters switch on the paths the defaults rarely reach.
setup options_from(std::string_view letters) {
  setup s;
  for (const char c : letters) {
    switch (c) {
      case 'p': s.options.pacing_lead_ms = 0; break;                 // no pacing
      case 'l': s.options.pacing_lead_ms = 20; break;                // pacing with short deltas
      case 'i': s.session.vad_interrupt_response = false; break;     // we send response.cancel
      case 'g': s.options.greeting = "Greet the caller."; break;
      case 'q': s.options.max_queued_audio_ms = 500; break;          // slow_peer comes quickly
      case 'b': s.options.pre_connect_buffer_ms = 60; break;         // pre-connect overflow
      case 'c': s.options.max_chunk_bytes = 160; break;              // many small chunks
      default: break;
    }
  }
  return s;
}

// What the ledger knew about one item before a step: a truncate must stay within it.
struct item_snapshot {
  std::string item_id;
  std::int64_t content_index = 0;
  std::uint64_t sent_bytes = 0;
  std::uint64_t played_bytes = 0;
};

// Shared by every input, as a bridge keeps its parsers for the whole call; also saves allocations.
proto::twilio_parser twilio_parser;

class driver {
 public:
  explicit driver(const setup& s) : call_(s.session, s.options), max_chunk_bytes_(s.options.max_chunk_bytes) {}

  void start(std::int64_t now_ms) {
    const mb::fuzz::padded_input input(start_message);
    proto::twilio_message msg;
    MB_FUZZ_CHECK(!twilio_parser.parse(input.view(), input.capacity(), msg));
    step([&](std::vector<action>& out) { call_.on_twilio(msg, now_ms, out); });
    MB_FUZZ_CHECK(call_.started());
    reconnect_if_asked(now_ms);
  }

  void line(std::string_view text, std::int64_t now_ms) {
    const mb::fuzz::padded_input input(text.substr(1));
    if (text[0] == 't') {
      proto::twilio_message msg;
      if (twilio_parser.parse(input.view(), input.capacity(), msg)) return;  // the bridge logs and goes on
      step([&](std::vector<action>& out) { call_.on_twilio(msg, now_ms, out); });
    } else if (text[0] == 'r') {
      events_.clear();
      if (call_.upstream().translate(input.view(), input.capacity(), now_ms, events_)) return;
      for (const auto& ev : events_) {
        if (ev.kind == mb::upstream::event_kind::assistant_audio) ++deltas_fed_;
        step([&](std::vector<action>& out) { call_.on_upstream(ev, now_ms, out); });
      }
    } else if (text[0] == 'x' && !ended_) {
      restart_asked_ = true;
    }
    reconnect_if_asked(now_ms);
  }

  // The bridge's timer: pacing, a DTMF string's gap, a hang-up's grace. A tick handles what was due, so
  // the timer never spins: the next wake-up, if any, is later.
  void tick_if_due(std::int64_t now_ms) {
    const auto wakeup = call_.next_wakeup();
    if (wakeup && *wakeup <= now_ms) {
      step([&](std::vector<action>& out) { call_.on_tick(now_ms, out); });
      const auto next = call_.next_wakeup();
      MB_FUZZ_CHECK(!next || *next > now_ms);
    }
    reconnect_if_asked(now_ms);
  }

  void finish() {
    std::vector<action> out;
    call_.finish(out);
    for (const auto& a : out) {
      const auto* p = std::get_if<publish>(&a);
      MB_FUZZ_CHECK(p != nullptr && std::holds_alternative<transcript_final>(p->event));
      check_event(p->event);
    }
  }

 private:
  template <class Step>
  void step(Step&& run) {
    const auto items = ledger_items();
    std::vector<action> out;
    run(out);
    if (ended_) MB_FUZZ_CHECK(out.empty());  // nothing happens after end_call
    check(out, items);
    MB_FUZZ_CHECK(call_.stats().assistant_bytes == media_bytes_);
    MB_FUZZ_CHECK(call_.stats().caller_bytes == caller_bytes_);
  }

  // Serials are handed out from 1, one per new (item, content index) run of deltas, so they are
  // bounded by the deltas fed so far.
  std::vector<item_snapshot> ledger_items() const {
    std::vector<item_snapshot> items;
    for (std::uint64_t serial = 1; serial <= deltas_fed_; ++serial)
      if (const auto* it = call_.ledger().find(serial))
        items.push_back({it->item_id, it->content_index, it->sent_bytes, it->played_bytes});
    return items;
  }

  // What the bridge does for open_upstream and restart_upstream; an ending call reconnects nothing.
  void reconnect_if_asked(std::int64_t now_ms) {
    while (!ended_ && (open_asked_ || restart_asked_)) {
      if (restart_asked_) step([&](std::vector<action>& out) { call_.on_upstream_lost(now_ms, out); });
      open_asked_ = restart_asked_ = false;
      if (!ended_) step([&](std::vector<action>& out) { call_.on_upstream_connected(out); });
    }
  }

  void check(const std::vector<action>& out, const std::vector<item_snapshot>& items) {
    std::optional<std::pair<std::string, std::int64_t>> first_truncate;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& a = out[i];
      if (const auto* m = std::get_if<send_twilio_media>(&a)) {
        MB_FUZZ_CHECK(!m->payload_b64.empty() && proto::is_base64(m->payload_b64));
        const auto bytes = proto::base64_decoded_size(m->payload_b64);
        MB_FUZZ_CHECK(bytes <= max_chunk_bytes_);
        media_bytes_ += bytes;
        // Every chunk is followed by the mark that tells us when it has played.
        MB_FUZZ_CHECK(i + 1 < out.size());
        const auto* mark = std::get_if<send_twilio_mark>(&out[i + 1]);
        MB_FUZZ_CHECK(mark != nullptr && !mark->name.empty());
        MB_FUZZ_CHECK(mark->name.find_first_not_of("0123456789.") == std::string::npos);
      } else if (const auto* u = std::get_if<send_upstream_audio>(&a)) {
        MB_FUZZ_CHECK(proto::is_base64(u->payload_b64));
        caller_bytes_ += proto::base64_decoded_size(u->payload_b64);
      } else if (const auto* e = std::get_if<send_upstream_event>(&a)) {
        const auto truncate = check_upstream_event(e->json, items);
        if (truncate && !first_truncate) first_truncate = truncate;
      } else if (std::holds_alternative<end_call>(a)) {
        MB_FUZZ_CHECK(!ended_);
        ended_ = true;
      } else if (const auto* p = std::get_if<publish>(&a)) {
        check_event(p->event);
        // The barge-in event reports the playing item's cut, which is truncated first.
        if (const auto* b = std::get_if<barge_in>(&p->event))
          MB_FUZZ_CHECK(first_truncate && first_truncate->first == b->item_id &&
                        first_truncate->second == b->audio_end_ms);
      } else if (std::holds_alternative<open_upstream>(a)) {
        open_asked_ = true;
      } else if (std::holds_alternative<restart_upstream>(a)) {
        restart_asked_ = true;
      }
    }
  }

  // Returns (item_id, audio_end_ms) for a truncate.
  std::optional<std::pair<std::string, std::int64_t>> check_upstream_event(const std::string& json,
                                                                           const std::vector<item_snapshot>& items) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec);
    MB_FUZZ_CHECK(!ec && value.is_object());
    const auto& obj = value.as_object();
    const auto* type = obj.if_contains("type");
    MB_FUZZ_CHECK(type != nullptr && type->is_string());
    if (*type != "conversation.item.truncate") return std::nullopt;
    const std::string item_id(obj.at("item_id").as_string());
    const auto content_index = obj.at("content_index").as_int64();
    const auto audio_end_ms = obj.at("audio_end_ms").as_int64();
    // The API rejects a truncate beyond the audio it generated; we promise not to exceed what was
    // sent to Twilio, and not to fall short of what Twilio confirmed played.
    const bool within_an_item = std::any_of(items.begin(), items.end(), [&](const item_snapshot& it) {
      return it.item_id == item_id && it.content_index == content_index && audio_end_ms >= 0 &&
             static_cast<std::uint64_t>(audio_end_ms) <= it.sent_bytes / ulaw_bytes_per_ms &&
             static_cast<std::uint64_t>(audio_end_ms) >= it.played_bytes / ulaw_bytes_per_ms;
    });
    MB_FUZZ_CHECK(within_an_item);
    return std::pair{item_id, audio_end_ms};
  }

  static void check_event(const call_event& event) {
    if (const auto* f = std::get_if<transcript_final>(&event)) {
      if (f->speaker == role::caller) MB_FUZZ_CHECK(!f->interrupted);
      MB_FUZZ_CHECK(f->interrupted ? f->heard_ms >= 0 : f->heard_ms == -1);
      // What the caller heard is a prefix of what was generated, and only cut turns have it.
      MB_FUZZ_CHECK(f->text.starts_with(f->heard_text));
      MB_FUZZ_CHECK(f->interrupted || (f->heard_text.empty() && !f->heard_text_estimated));
    }
  }

  call_state call_;
  std::uint64_t max_chunk_bytes_;
  std::uint64_t deltas_fed_ = 0;
  std::vector<mb::upstream::event> events_;  // one provider message, translated
  std::uint64_t media_bytes_ = 0;
  std::uint64_t caller_bytes_ = 0;
  bool ended_ = false;
  bool open_asked_ = false;
  bool restart_asked_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mb::fuzz::line_reader lines(data, size);
  const auto s = options_from(lines.next());
  driver call(s);
  std::int64_t now_ms = 1000;
  call.start(now_ms);
  while (!lines.done()) {
    const auto line = lines.next();
    now_ms += frame_ms;
    if (!line.empty() && line[0] == 'w') now_ms += mb::fuzz::jump_ms(line.substr(1), max_jump_ms);
    call.tick_if_due(now_ms);
    if (!line.empty()) call.line(line, now_ms);
  }
  call.finish();
  return 0;
}
