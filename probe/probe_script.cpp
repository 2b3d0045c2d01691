#include "probe/probe_script.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include <boost/json.hpp>

#include "log/escape.hpp"
#include "protocol/base64.hpp"

namespace mb::probe {
namespace {

using clock = probe_script::clock;
namespace json = boost::json;

// The text turn and the tool turn, as the caller's context with a request to answer now.
constexpr std::string_view text_turn_text = "Say: the probe is complete.";
constexpr std::string_view tool_turn_text =
    "Call the probe_echo tool with the text \"ping\", then say what it returned.";

// The μ-law code of silence (zero amplitude).
constexpr std::uint8_t mulaw_silence = 0xFF;
// probe_run::error_detail holds at most 200 bytes: the escaped text, then log::escape_for_log's
// "...[cut N bytes]" marker when it was cut (at most 35 bytes, N having at most 20 digits).
constexpr std::size_t detail_text_bytes = 200 - 40;

protocol::tool_declaration echo_tool() {
  return {std::string(echo_tool_name), "Returns its text argument unchanged. Call it when asked to.",
          R"({"type":"object","properties":{"text":{"type":"string","description":"The text to return."}},)"
          R"("required":["text"]})"};
}

// The profile's configuration, with server VAD answering by itself and the echo tool declared.
protocol::session_config probe_config(protocol::session_config config) {
  config.turn_detection = protocol::turn_detection_type::server_vad;
  config.vad_create_response = true;
  const bool declared = std::any_of(config.tools.begin(), config.tools.end(),
                                    [](const auto& t) { return t.name == echo_tool_name; });
  if (!declared) config.tools.push_back(echo_tool());
  return config;
}

// What the echo tool returns: {"text": <its text argument>}; "" when the arguments have none.
std::string echo_output(std::string_view arguments) {
  json::string text;
  boost::system::error_code ec;
  const json::value args = json::parse(arguments, ec);
  if (!ec && args.is_object())
    if (const auto* t = args.get_object().if_contains("text"); t && t->is_string()) text = t->get_string();
  return json::serialize(json::object{{"text", text}});
}

// Bytes of the assistant's audio per ms, by the format the session confirmed; 0 when unknown.
double bytes_per_ms(std::string_view output_format) {
  if (output_format == "audio/pcmu" || output_format == "audio/pcma") return 8.0;  // 8 kHz, one byte a sample
  if (output_format == "audio/pcm") return 48.0;  // 24 kHz PCM16 (docs/protocols.md A2)
  return 0.0;
}

// A provider's error that says the key or token was refused (docs/protocols.md K2).
bool is_auth_error(const upstream::provider_error& e) {
  constexpr std::array<std::string_view, 6> auth_names{"invalid_api_key",    "authentication_error",
                                                       "unauthorized",       "UNAUTHENTICATED",
                                                       "PERMISSION_DENIED", "insufficient_permissions"};
  return std::find(auth_names.begin(), auth_names.end(), e.code) != auth_names.end() ||
         std::find(auth_names.begin(), auth_names.end(), e.type) != auth_names.end();
}

double ms_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::int64_t to_ms(clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

struct probe_script::impl {
  // Where the script is; each waiting phase names what it waits for.
  enum class phase {
    connecting,   // the shell connects
    configuring,  // the session configuration is sent: its confirmation
    utterance,    // the caller speaks, then is silent: the answer's first audio
    text_turn,    // the text-only turn is sent: its first audio (optional)
    tool_request, // the turn asking for the echo tool is sent: the tool call (optional)
    tool_result,  // the tool's result is sent: the first audio after it (optional)
    answering,    // an answer's audio flows: its end
    done,
  };

  impl(std::unique_ptr<upstream::adapter> a, protocol::session_config c, script_options o, probe_run identity,
       clock::time_point now)
      : adapter(std::move(a)), config(probe_config(std::move(c))), options(o), run(std::move(identity)),
        deadline(now + o.timeout) {
    const auto audio = options.utterance_mulaw;
    std::string frame;
    for (std::size_t at = 0; at < audio.size(); at += frame_bytes) {
      frame.assign(frame_bytes, static_cast<char>(mulaw_silence));
      const auto n = std::min(frame_bytes, audio.size() - at);
      std::copy_n(audio.begin() + static_cast<std::ptrdiff_t>(at), n, frame.begin());
      utterance_frames.push_back(protocol::base64_encode(frame));
    }
    silence_frame = protocol::base64_encode(std::string(frame_bytes, static_cast<char>(mulaw_silence)));
  }

  std::unique_ptr<upstream::adapter> adapter;
  protocol::session_config config;
  script_options options;
  probe_run run;
  clock::time_point deadline;
  phase at = phase::connecting;

  std::vector<std::string> utterance_frames;  // base64, one per 20 ms
  std::string silence_frame;
  std::string frame_message;  // reused for each frame's message
  std::vector<upstream::event> events;

  clock::time_point session_sent;
  clock::time_point speech_start;  // the first frame was sent
  std::size_t frames_sent = 0;
  double output_bytes_per_ms = 0;

  clock::time_point step_sent;        // the text turn, the tool request or the tool's result
  std::string step_response_id;       // the first response the provider started for the step
  phase answer_of = phase::utterance;  // the step the flowing answer belongs to
  clock::time_point first_chunk, last_chunk;
  std::size_t answer_bytes = 0;
  std::vector<double> chunk_gaps;

  [[nodiscard]] clock::time_point end_of_speech() const {
    return speech_start + frame_period * static_cast<std::int64_t>(utterance_frames.size());
  }
  [[nodiscard]] clock::time_point frame_due() const {
    return speech_start + frame_period * static_cast<std::int64_t>(frames_sent);
  }

  void fail(error_kind kind, std::string_view detail) {
    if (at == phase::done) return;
    run.error = kind;
    run.error_detail = log::escape_for_log(detail, detail_text_bytes);
    at = phase::done;
  }

  void finish() {
    if (!chunk_gaps.empty()) {
      auto middle = chunk_gaps.begin() + static_cast<std::ptrdiff_t>(chunk_gaps.size() / 2);
      std::nth_element(chunk_gaps.begin(), middle, chunk_gaps.end());
      run.set(stage::chunk_gap_p50, *middle);
      run.set(stage::chunk_gap_max, *std::max_element(chunk_gaps.begin(), chunk_gaps.end()));
    }
    at = phase::done;
  }

  // Every frame due by `now`: the utterance's, then silence until the answer comes.
  void send_due_frames(clock::time_point now, std::vector<std::string>& out) {
    while (at == phase::utterance && frame_due() <= now) {
      const auto& frame = frames_sent < utterance_frames.size() ? utterance_frames[frames_sent] : silence_frame;
      frame_message.clear();
      adapter->append_caller_audio(frame_message, frame);
      if (!frame_message.empty()) out.push_back(frame_message);
      ++frames_sent;
    }
  }

  void begin_step(phase step, clock::time_point now) {
    at = step;
    step_sent = now;
    step_response_id.clear();
  }

  void ask(phase step, std::string_view text, clock::time_point now, std::vector<std::string>& out) {
    adapter->add_context_text(text, true, out);
    begin_step(step, now);
  }

  // The step after `step`, once its answer (or the wait for one) is over.
  void next_after(phase step, clock::time_point now, std::vector<std::string>& out) {
    switch (step) {
      case phase::utterance: return ask(phase::text_turn, text_turn_text, now, out);
      case phase::text_turn: return ask(phase::tool_request, tool_turn_text, now, out);
      default: return finish();
    }
  }

  void on_audio(const upstream::event& ev, clock::time_point now) {
    const std::size_t bytes = protocol::is_base64(ev.audio_b64) ? protocol::base64_decoded_size(ev.audio_b64) : 0;
    switch (at) {
      case phase::answering:
        if (chunk_gaps.size() < max_chunk_gaps) chunk_gaps.push_back(ms_between(last_chunk, now));
        last_chunk = now;
        answer_bytes += bytes;
        return;
      case phase::utterance:
        run.set(stage::first_audio, std::max(0.0, ms_between(end_of_speech(), now)));
        break;
      case phase::text_turn: run.set(stage::text_first_audio, ms_between(step_sent, now)); break;
      case phase::tool_result: run.set(stage::tool_answer, ms_between(step_sent, now)); break;
      default: return;  // not an answer the script waits for (e.g. words before a tool call)
    }
    answer_of = at;
    at = phase::answering;
    first_chunk = last_chunk = now;
    answer_bytes = bytes;
  }

  void end_answer(clock::time_point now, std::vector<std::string>& out) {
    if (answer_of == phase::utterance) {
      run.set(stage::audio_span, ms_between(first_chunk, last_chunk));
      if (output_bytes_per_ms > 0) run.set(stage::audio_length, static_cast<double>(answer_bytes) / output_bytes_per_ms);
    }
    next_after(answer_of, now, out);
  }

  void on_tool_call(const upstream::event& ev, clock::time_point now, std::vector<std::string>& out) {
    if (ev.tool_name != echo_tool_name) {
      // One of the profile's own tools: the probe runs none of them.
      adapter->send_tool_result(ev.tool_call_id, ev.tool_name, R"({"error":"not available during a probe"})", false,
                                out);
      return;
    }
    const std::string output = echo_output(ev.tool_arguments);
    if (at != phase::tool_request) {
      // Called unasked: answered, so the model is not left waiting, but measured as nothing.
      adapter->send_tool_result(ev.tool_call_id, ev.tool_name, output, at != phase::answering, out);
      return;
    }
    run.set(stage::tool_call, ms_between(step_sent, now));
    adapter->send_tool_result(ev.tool_call_id, ev.tool_name, output, true, out);
    begin_step(phase::tool_result, now);
  }

  void on_event(const upstream::event& ev, clock::time_point now, std::vector<std::string>& out) {
    using upstream::event_kind;
    switch (ev.kind) {
      case event_kind::session_ready:
        if (at != phase::configuring) return;
        run.set(stage::session, ms_between(session_sent, now));
        output_bytes_per_ms = bytes_per_ms(ev.output_format);
        at = phase::utterance;
        speech_start = now;
        send_due_frames(now, out);
        return;
      case event_kind::error: {
        std::string detail = std::string("provider error ").append(ev.type_name).append(": ").append(ev.error.code);
        // A refused key's message may quote part of the key (OpenAI masks all but a few characters).
        if (is_auth_error(ev.error)) return fail(error_kind::auth, detail);
        return fail(error_kind::protocol, detail.append(" ").append(ev.error.message));
      }
      case event_kind::session_ended:
        return fail(error_kind::protocol,
                    std::string("the provider ended the session: ").append(ev.type_name).append(" ").append(ev.text));
      case event_kind::caller_speech_started:
        if (at == phase::utterance && !run.at(stage::speech_started))
          run.set(stage::speech_started, ms_between(speech_start, now));
        return;
      case event_kind::caller_transcript_delta:
      case event_kind::caller_transcript_final: {
        const auto s = ev.kind == event_kind::caller_transcript_delta ? stage::transcript_partial
                                                                       : stage::transcript_final;
        if (frames_sent > 0 && !run.at(s)) run.set(s, std::max(0.0, ms_between(end_of_speech(), now)));
        return;
      }
      case event_kind::assistant_audio: return on_audio(ev, now);
      case event_kind::response_started:
        if ((at == phase::text_turn || at == phase::tool_result) && step_response_id.empty())
          step_response_id.assign(ev.response_id);
        return;
      case event_kind::response_done:
        if (at == phase::answering) return end_answer(now, out);
        // The step's response ended without audio: nothing more to wait for.
        if ((at == phase::text_turn || at == phase::tool_result) && !step_response_id.empty() &&
            ev.response_id == step_response_id)
          next_after(at, now, out);
        return;
      case event_kind::tool_call: return on_tool_call(ev, now, out);
      default: return;
    }
  }

  void on_events(clock::time_point now, std::vector<std::string>& out) {
    for (const auto& ev : events) {
      on_event(ev, now, out);
      if (at == phase::done) return;
    }
  }

  // What the script waited for when the time ran out, for the run's detail.
  [[nodiscard]] std::string_view awaited() const {
    switch (at) {
      case phase::connecting: return "the connection";
      case phase::configuring: return "the session's confirmation";
      case phase::utterance: return "the answer to the caller's speech";
      case phase::text_turn: return "the text turn's answer";
      case phase::tool_request: return "the echo tool's call";
      case phase::tool_result: return "the answer after the tool's result";
      case phase::answering: return "the end of an answer";
      case phase::done: break;
    }
    return "nothing";
  }

  // When the current optional wait gives up; max() when none runs.
  [[nodiscard]] clock::time_point step_deadline() const {
    switch (at) {
      case phase::text_turn:
      case phase::tool_request:
      case phase::tool_result: return step_sent + options.step_wait;
      case phase::answering: return last_chunk + options.step_wait;
      default: return clock::time_point::max();
    }
  }
};

probe_script::probe_script(std::unique_ptr<upstream::adapter> adapter, protocol::session_config config,
                           script_options options, probe_run identity, clock::time_point now)
    : impl_(std::make_unique<impl>(std::move(adapter), std::move(config), options, std::move(identity), now)) {}
probe_script::~probe_script() = default;
probe_script::probe_script(probe_script&&) noexcept = default;
probe_script& probe_script::operator=(probe_script&&) noexcept = default;

void probe_script::on_connected(const connect_timings& timings, clock::time_point now, std::vector<std::string>& out) {
  auto& s = *impl_;
  if (s.at != impl::phase::connecting) return;
  s.run.set(stage::dns, timings.dns);
  s.run.set(stage::tcp, timings.tcp);
  if (timings.tls) s.run.set(stage::tls, *timings.tls);
  s.run.set(stage::upgrade, timings.upgrade);
  s.run.set(stage::connect, timings.dns + timings.tcp + timings.tls.value_or(0.0) + timings.upgrade);
  s.adapter->open_session(s.config, {}, out);
  s.session_sent = now;
  s.at = impl::phase::configuring;
}

void probe_script::on_connect_failed(error_kind kind, std::string_view detail, clock::time_point /*now*/) {
  impl_->fail(kind, detail);
}

void probe_script::on_message(std::string_view json, std::size_t capacity, clock::time_point now,
                              std::vector<std::string>& out) {
  auto& s = *impl_;
  if (s.at == impl::phase::done) return;
  s.events.clear();
  if (auto error = s.adapter->translate(json, capacity, to_ms(now), s.events))
    return s.fail(error_kind::protocol, "unreadable message: " + error->what);
  s.on_events(now, out);
}

void probe_script::on_tick(clock::time_point now, std::vector<std::string>& out) {
  auto& s = *impl_;
  if (s.at == impl::phase::done) return;
  if (now >= s.deadline) return s.fail(error_kind::timeout, std::string("timed out waiting for ").append(s.awaited()));
  if (const auto wake = s.adapter->next_wakeup(); wake && *wake <= to_ms(now)) {
    s.events.clear();
    s.adapter->on_tick(to_ms(now), s.events);
    s.on_events(now, out);
  }
  s.send_due_frames(now, out);
  if (now < s.step_deadline()) return;
  if (s.at == impl::phase::answering)
    s.end_answer(now, out);
  else
    s.next_after(s.at, now, out);
}

void probe_script::on_closed(std::string_view detail, clock::time_point now) {
  auto& s = *impl_;
  if (now >= s.deadline) return s.fail(error_kind::timeout, std::string("timed out waiting for ").append(s.awaited()));
  s.fail(error_kind::protocol, std::string("the connection closed: ").append(detail));
}

probe_script::clock::time_point probe_script::next_wakeup() const noexcept {
  const auto& s = *impl_;
  if (s.at == impl::phase::done) return clock::time_point::max();
  auto wake = std::min(s.deadline, s.step_deadline());
  if (s.at == impl::phase::utterance) wake = std::min(wake, s.frame_due());
  if (const auto adapter_wake = s.adapter->next_wakeup())
    wake = std::min(wake, clock::time_point(std::chrono::milliseconds(*adapter_wake)));
  return wake;
}

bool probe_script::finished() const noexcept { return impl_->at == impl::phase::done; }
const probe_run& probe_script::result() const noexcept { return impl_->run; }

}  // namespace mb::probe
