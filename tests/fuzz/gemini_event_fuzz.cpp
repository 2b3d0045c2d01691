// The Gemini Live adapter driven by server messages, caller audio and a clock, as a call drives it,
// checking after every step the promises the call core relies on (docs/protocols.md F3–F6): turns
// bracketed by response_started/response_done with one assistant_audio_done each, model audio only in
// whole 20 ms μ-law frames, turn ids never reused, finals made of the turn's chunks, caller audio sent
// as valid realtimeInput, a setup that resumes exactly when it replays nothing, a wakeup that is
// always in the future after a tick, and tool calls and cancellations within their bounds, the calls'
// results going back under their ids (docs/protocols.md I3, I5).
//
// Input: lines separated by '\n', each one step, by its first byte:
//   'w' + digits  the clock jumps that many ms      'o'   a new session (open_session)
//   'a'           a caller frame                    'c'   the caller's playback is cleared
//   anything else a Gemini server message, translated
// Every line first advances the clock by one 20 ms frame and fires a due tick.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "codec/transcoder.hpp"
#include "protocol/base64.hpp"
#include "protocol/gemini_events.hpp"
#include "tests/fuzz/adapter_fuzz.hpp"
#include "upstream/gemini_adapter.hpp"

namespace {

using namespace mb::upstream;

constexpr std::int64_t frame_ms = 20;
constexpr std::int64_t max_jump_ms = 600000;
// One 20 ms μ-law frame of a quiet caller, as Twilio sends it.
const std::string caller_frame = mb::protocol::base64_encode(std::string(mb::codec::phone_frame_bytes, '\x7e'));

mb::protocol::session_config gemini_config() {
  mb::protocol::session_config config;
  config.model = "gemini-3.8-live";
  config.instructions = "Be brief.";
  config.voice = "Kore";
  return config;
}

// JSON as deep as simdjson accepts it (args may nest deeper than Boost.JSON's default of 32).
boost::json::value deep_json(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = mb::protocol::max_json_depth + 16;  // and the toolResponse around them
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  MB_FUZZ_CHECK(!ec);
  return value;
}

class driver {
 public:
  void line(std::string_view text, std::int64_t now_ms) {
    switch (text[0]) {
      case 'o': open(); return;
      case 'a': caller_audio(); return;
      case 'c': adapter_.playback_cleared(); return;
      default: break;
    }
    std::vector<event> out;
    if (mb::fuzz::translate(adapter_, text, now_ms, out)) check(out);
  }

  void tick_if_due(std::int64_t now_ms) {
    const auto wakeup = adapter_.next_wakeup();
    if (caller_) MB_FUZZ_CHECK(wakeup.has_value());  // an open caller turn always ends by its gap
    if (wakeup) MB_FUZZ_CHECK(response_ || caller_);
    std::vector<event> out;
    if (mb::fuzz::tick_if_due(adapter_, now_ms, out)) check(out);
  }

 private:
  void open() {
    std::vector<std::string> commands;
    adapter_.open_session(config_, history_, commands);
    MB_FUZZ_CHECK(commands.size() == 1 || commands.size() == 2);
    const auto setup = mb::fuzz::json_object(commands.front());
    MB_FUZZ_CHECK(setup.contains("setup"));
    // A resumed session has the conversation; a fresh one is told it (the history is never empty).
    const bool resumes = setup.at("setup").at("sessionResumption").as_object().contains("handle");
    MB_FUZZ_CHECK(resumes == (commands.size() == 1));
    if (!resumes) MB_FUZZ_CHECK(mb::fuzz::json_object(commands.back()).contains("clientContent"));
    // The adapter forgets the open assistant turn without closing it; the caller's goes on.
    response_.reset();
  }

  void caller_audio() {
    std::string message;
    adapter_.append_caller_audio(message, caller_frame);
    if (message.empty()) return;  // the resampler is gathering a block: nothing to send yet
    const auto audio = mb::fuzz::json_object(message).at("realtimeInput").at("audio").as_object();
    MB_FUZZ_CHECK(audio.at("mimeType").as_string() == mb::protocol::gemini_input_mime);
    const auto pcm = mb::protocol::base64_decode(audio.at("data").as_string());
    MB_FUZZ_CHECK(pcm && pcm->size() % 2 == 0);
  }

  // A call's arguments are an object (I3), and its result goes back under its id and name; the
  // arguments stand in for a result.
  void check_tool_result(const event& e) {
    MB_FUZZ_CHECK(deep_json(e.tool_arguments).is_object());
    std::vector<std::string> commands;
    adapter_.send_tool_result(e.tool_call_id, e.tool_name, e.tool_arguments, true, commands);
    MB_FUZZ_CHECK(commands.size() == 1);
    const auto message = deep_json(commands.front());
    const auto& response = message.at("toolResponse").at("functionResponses").at(0);
    MB_FUZZ_CHECK(response.at("id").as_string() == e.tool_call_id);
    MB_FUZZ_CHECK(response.at("name").as_string() == e.tool_name);
    MB_FUZZ_CHECK(response.at("response").at("output").is_object());
  }

  void check(const std::vector<event>& out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto& e = out[i];
      mb::fuzz::check_views(e);
      switch (e.kind) {
        case event_kind::response_started:
          MB_FUZZ_CHECK(!response_ && !caller_);  // an opening assistant turn closes the caller's
          ids_.check_new(e.response_id, "gm_a");
          response_ = mb::fuzz::seen_turn{std::string(e.response_id), {}, false};
          break;
        case event_kind::assistant_audio: {
          MB_FUZZ_CHECK(response_ && !response_->audio_done);
          MB_FUZZ_CHECK(e.turn_id == response_->id && e.response_id == response_->id);
          const auto ulaw = mb::protocol::base64_decode(e.audio_b64);
          MB_FUZZ_CHECK(ulaw && !ulaw->empty() && ulaw->size() % mb::codec::phone_frame_bytes == 0);
          break;
        }
        case event_kind::assistant_transcript_delta:
          MB_FUZZ_CHECK(response_ && e.turn_id == response_->id && e.response_id == response_->id);
          response_->text.append(e.text);
          break;
        case event_kind::assistant_audio_done:
          MB_FUZZ_CHECK(response_ && e.turn_id == response_->id && !response_->audio_done);
          response_->audio_done = true;
          break;
        case event_kind::assistant_transcript_final:
          MB_FUZZ_CHECK(response_ && e.turn_id == response_->id && response_->audio_done);
          MB_FUZZ_CHECK(response_->text.starts_with(e.text));  // the chunks, up to the bound
          MB_FUZZ_CHECK(i + 1 < out.size() && out[i + 1].kind == event_kind::response_done);
          break;
        case event_kind::response_done:
          MB_FUZZ_CHECK(response_ && e.response_id == response_->id);
          MB_FUZZ_CHECK(i > 0 && out[i - 1].kind == event_kind::assistant_transcript_final);
          response_.reset();
          break;
        case event_kind::caller_transcript_delta:
          if (!caller_) {
            ids_.check_new(e.turn_id, "gm_c");
            caller_ = mb::fuzz::seen_turn{std::string(e.turn_id), {}, false};
          }
          MB_FUZZ_CHECK(e.turn_id == caller_->id && !e.text.empty());
          caller_->text.append(e.text);
          break;
        case event_kind::caller_transcript_final:
          MB_FUZZ_CHECK(caller_ && e.turn_id == caller_->id && caller_->text.starts_with(e.text));
          caller_.reset();
          break;
        case event_kind::session_ready:
          MB_FUZZ_CHECK(e.input_format == "audio/pcmu" && e.output_format == "audio/pcmu");
          break;
        case event_kind::session_renewal_due:
          MB_FUZZ_CHECK(e.time_left_ms >= 0 && e.time_left_ms <= mb::protocol::max_gemini_time_left_ms);
          break;
        case event_kind::error:
          MB_FUZZ_CHECK(e.error.message.size() <= 256 || e.error.type.empty());  // ours are short
          break;
        case event_kind::tool_call:
          mb::fuzz::check_tool_call(e);
          check_tool_result(e);
          break;
        case event_kind::tool_call_cancelled:
          mb::fuzz::check_tool_call_cancelled(e);
          break;
        case event_kind::caller_speech_started:
        case event_kind::ignored:
        case event_kind::unknown:
          break;
        case event_kind::caller_transcript_failed:
        case event_kind::caller_dtmf:
        case event_kind::caller_speech_stopped:
        case event_kind::heard_report_accepted:
        case event_kind::session_ended:
          MB_FUZZ_CHECK(false);  // Gemini has nothing that means these
          break;
      }
    }
  }

  gemini_adapter adapter_;
  mb::protocol::session_config config_ = gemini_config();
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
