// The GPT-Live adapter driven by server messages and a clock, as a call drives it, checking after
// every step the promises the call core relies on (docs/protocols.md D5/D6): turns bracketed by
// response_started/response_done, caller_speech_started only right before an assistant turn's close,
// turn ids never reused, finals made of the turn's deltas, no turn left open after session.closed,
// a wakeup that is always in the future after a tick, and tool calls within their bounds whose results
// go back under their ids (I2, I5).
//
// Input: lines separated by '\n', each one step, by its first byte:
//   'w' + digits  the clock jumps that many ms      'o'   a new session (open_session)
//   's'           a SIP call's sideband attaches (attach_sideband: nothing sent)
//   anything else a GPT-Live server message, translated
// Every line first advances the clock by one 20 ms frame and fires a due tick.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "tests/fuzz/adapter_fuzz.hpp"
#include "upstream/live_adapter.hpp"

namespace {

using namespace mb::upstream;

constexpr std::int64_t frame_ms = 20;
constexpr std::int64_t max_jump_ms = 600000;

mb::protocol::session_config live_config() {
  mb::protocol::session_config config;
  config.model = "gpt-live-1";
  config.instructions = "Be brief.";
  config.voice = "marin";
  config.transcription_language = "en";
  return config;
}

class driver {
 public:
  void line(std::string_view text, std::int64_t now_ms) {
    if (text[0] == 'o') {
      std::vector<std::string> commands;
      adapter_.open_session(config_, history_, commands);
      MB_FUZZ_CHECK(commands.size() == 1);
      check_json(commands.front(), "session.start");
      // The adapter forgets the open turns without closing them.
      response_.reset();
      caller_.reset();
      return;
    }
    if (text[0] == 's') {
      adapter_.attach_sideband();
      response_.reset();
      caller_.reset();
      return;
    }
    std::vector<event> out;
    if (mb::fuzz::translate(adapter_, text, now_ms, out)) check(out);
  }

  void tick_if_due(std::int64_t now_ms) {
    const auto wakeup = adapter_.next_wakeup();
    MB_FUZZ_CHECK(wakeup.has_value() == (response_.has_value() || caller_.has_value()));
    std::vector<event> out;
    if (mb::fuzz::tick_if_due(adapter_, now_ms, out)) check(out);
  }

 private:
  static void check_json(const std::string& json, std::string_view type) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(json, ec);
    MB_FUZZ_CHECK(!ec && value.is_object());
    MB_FUZZ_CHECK(value.as_object().at("type").as_string() == type);
  }

  // The call's result goes back under the call's id, whatever the id holds (I2).
  void check_tool_result(const event& e) {
    std::vector<std::string> commands;
    adapter_.send_tool_result(e.tool_call_id, e.tool_name, e.tool_arguments, true, commands);
    MB_FUZZ_CHECK(commands.size() == 2);
    check_json(commands[0], "response.item.create");
    MB_FUZZ_CHECK(mb::fuzz::json_object(commands[0]).at("item").at("call_id").as_string() == e.tool_call_id);
    check_json(commands[1], "response.create");
  }

  void check(const std::vector<event>& out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& e = out[i];
      mb::fuzz::check_views(e);
      switch (e.kind) {
        case event_kind::response_started:
          MB_FUZZ_CHECK(!response_ && !caller_);  // an opening assistant turn closes the caller's
          ids_.check_new(e.response_id, "live_a");
          response_ = mb::fuzz::seen_turn{std::string(e.response_id), {}, false};
          break;
        case event_kind::assistant_audio:
        case event_kind::assistant_transcript_delta:
          MB_FUZZ_CHECK(response_ && e.turn_id == response_->id && e.response_id == response_->id);
          if (e.kind == event_kind::assistant_transcript_delta) response_->text.append(e.text);
          break;
        case event_kind::caller_speech_started:
          // The interruption rule: right before the interrupted turn's close, or, with no assistant
          // turn open, right after the delta that begins a caller turn.
          if (response_)
            MB_FUZZ_CHECK(i + 1 < out.size() && out[i + 1].kind == event_kind::assistant_audio_done);
          else
            MB_FUZZ_CHECK(caller_ && i > 0 && out[i - 1].kind == event_kind::caller_transcript_delta);
          break;
        case event_kind::assistant_audio_done:
          MB_FUZZ_CHECK(response_ && e.turn_id == response_->id);
          MB_FUZZ_CHECK(i + 2 < out.size() && out[i + 1].kind == event_kind::assistant_transcript_final &&
                        out[i + 2].kind == event_kind::response_done);
          break;
        case event_kind::assistant_transcript_final:
          MB_FUZZ_CHECK(response_ && e.turn_id == response_->id);
          MB_FUZZ_CHECK(response_->text.starts_with(e.text));  // the deltas, up to the bound
          break;
        case event_kind::response_done:
          MB_FUZZ_CHECK(response_ && e.response_id == response_->id);
          response_.reset();
          break;
        case event_kind::caller_transcript_delta:
          if (!caller_) {
            ids_.check_new(e.turn_id, "live_c");
            caller_ = mb::fuzz::seen_turn{std::string(e.turn_id), {}, false};
          }
          MB_FUZZ_CHECK(e.turn_id == caller_->id);
          caller_->text.append(e.text);
          break;
        case event_kind::caller_transcript_final:
          MB_FUZZ_CHECK(caller_ && e.turn_id == caller_->id && caller_->text.starts_with(e.text));
          caller_.reset();
          break;
        case event_kind::session_ready:
          MB_FUZZ_CHECK(e.input_format == e.output_format && !e.input_format.empty());
          break;
        case event_kind::session_ended:
          MB_FUZZ_CHECK(!response_ && !caller_ && i + 1 == out.size());
          break;
        case event_kind::error:
        case event_kind::ignored:
        case event_kind::unknown:
          MB_FUZZ_CHECK(out.size() == 1 || i + 1 == out.size());  // after any closes, the message's own
          break;
        case event_kind::tool_call:
          // Its message's only event, after any closes; the turns are left as they were (I2).
          MB_FUZZ_CHECK(i + 1 == out.size());
          mb::fuzz::check_tool_call(e);
          check_tool_result(e);
          break;
        case event_kind::caller_dtmf:
          // A sideband's key (docs/protocols.md J4): its message's only event, after any closes.
          MB_FUZZ_CHECK(is_dtmf_key(e.text) && i + 1 == out.size());
          break;
        case event_kind::caller_transcript_failed:
        case event_kind::caller_speech_stopped:
        case event_kind::heard_report_accepted:
        case event_kind::session_renewal_due:
        case event_kind::tool_call_cancelled:
          MB_FUZZ_CHECK(false);  // GPT-Live has nothing that means these
          break;
      }
    }
  }

  live_adapter adapter_;
  mb::protocol::session_config config_ = live_config();
  std::vector<context_turn> history_{{speaker::caller, "Hello"}, {speaker::assistant, "Hi there"}};
  std::optional<mb::fuzz::seen_turn> response_;
  std::optional<mb::fuzz::seen_turn> caller_;
  mb::fuzz::turn_ids ids_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  driver call;
  mb::fuzz::replay(data, size, call, frame_ms, max_jump_ms);
  return 0;
}
