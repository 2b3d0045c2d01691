#pragma once
// The OpenAI Realtime API (GA subset, protocols.md A) on one simulated session: session.update,
// input audio with server VAD, responses made of audio items, cancel, truncate and conversation
// items, and scripted tool calls (tool_script.hpp) as function_call output items (protocols.md A6).
// upstream_simulator.hpp lists its behaviour where the service's is not documented.
//
// @par Thread Safety
// As sim_session: everything runs on the session's strand.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulator/canned_speech.hpp"
#include "simulator/energy_vad.hpp"
#include "simulator/realtime_config.hpp"
#include "simulator/sim_session.hpp"
#include "simulator/tool_script.hpp"

namespace mb::simulator {

class realtime_session final : public sim_session {
 public:
  // `provider`: OpenAI's or Azure's (the path the client connected to); the protocol is the same.
  realtime_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number, upstream::provider_kind provider);

 private:
  // A conversation item, as far as truncation needs to know it.
  struct conversation_item {
    conversation_item(std::string item_id, bool model_audio) : id(std::move(item_id)), assistant_audio(model_audio) {}
    std::string id;
    bool assistant_audio;
    std::uint32_t response = 0;  // assistant audio: the response index it belongs to
    std::uint64_t audio_bytes = 0;
    std::optional<std::int64_t> truncated_ms;
  };


  struct response_state {
    std::string id;
    std::uint32_t index = 0;       // audio pattern response index
    std::size_t record_slot = 0;   // in session_snapshot::responses
    std::uint32_t item = 0;        // output_index of the current item
    std::string item_id;
    std::size_t conversation_index = 0;
    std::uint32_t chunk = 0;       // next chunk of the current item
    std::uint64_t item_bytes = 0;  // sent for the current item
    std::uint64_t total_bytes = 0; // sent for the whole response
    std::uint64_t words_total = 0; // transcript words of finished items
    canned_speech transcript;      // the current item's
    std::string first_text;        // what the first item says, instead of the numbered reply ("" for that)
    std::optional<scripted_tool_call> call_after_audio;  // end_call: called once the goodbye is said
    boost::json::array output;     // finished output items, as response.done lists them
  };

  void open(session_snapshot& record) override;
  void opened() override;
  void handle_event(std::string_view type, simdjson::dom::object event) override;
  void on_tick() override;
  void send_error(std::string_view type, std::string_view code, std::string_view message,
                  std::string_view param) override;

  void on_append(std::string_view audio_b64);
  void on_session_update();
  void on_response_create(std::string instructions);
  void on_response_cancel(std::optional<std::string_view> response_id);
  void on_truncate(std::optional<std::string_view> item_id, std::optional<std::int64_t> content_index,
                   std::optional<std::int64_t> audio_end_ms);
  void on_item_create();
  void on_commit();
  void on_clear();

  void on_speech_started(std::int64_t window_start_ms);
  void on_speech_stopped(std::int64_t end_ms);
  void commit_user_audio(const std::string& item_id);

  void start_response(std::string_view trigger, std::string instructions, std::string first_text = {});
  // After caller turn N: the scripted call, or the usual answer.
  void answer_turn();
  void call_tool(const scripted_tool_call& call);
  void start_item();
  void send_words_due();
  void send_delta();
  void finish_item(std::string_view status);
  void finish_response(std::string_view status, std::string_view reason);
  void cancel_response(std::string_view reason);
  [[nodiscard]] boost::json::object response_object(std::string_view status, std::string_view reason) const;
  void send_session_updated();

  [[nodiscard]] std::string next_item_id();
  [[nodiscard]] std::string previous_item_json() const;  // id of the last item, quoted, or null
  [[nodiscard]] conversation_item* find_item(std::string_view id);

  std::optional<realtime_config> config_;
  energy_vad vad_;
  std::vector<conversation_item> items_;
  std::optional<response_state> active_;
  std::string speech_item_id_;
  std::uint64_t uncommitted_bytes_ = 0;
  std::uint64_t item_seq_ = 0;
  std::uint32_t user_turns_ = 0;
  std::vector<scripted_tool_call> script_;
  std::vector<declared_tool> declared_;
  std::uint32_t tool_calls_made_ = 0;
  std::string answer_text_;  // what the next client-asked response says: about the last tool result
};

}  // namespace mb::simulator
