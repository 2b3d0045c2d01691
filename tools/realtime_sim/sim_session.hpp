#pragma once
// One simulated Realtime session = one WebSocket: a reader coroutine that executes client events,
// the socket's ws_writer, and a pacer coroutine that releases response audio on a timer. All three
// run on the session's strand and are joined with &&.
//
// @par Thread Safety
// run() and all private state belong to the strand; drop(), close() and inject() may be called
// from any thread (they post to the strand).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "net/message_socket.hpp"
#include "net/ws_writer.hpp"
#include "tools/realtime_sim/energy_vad.hpp"
#include "tools/realtime_sim/sim_state.hpp"
#include "tools/realtime_sim/session_config.hpp"

namespace mb::tools::sim {

class sim_session : public std::enable_shared_from_this<sim_session> {
 public:
  using state_ptr = std::shared_ptr<realtime_simulator::state>;

  sim_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number);

  // Upgrades the socket and serves the session until it closes.
  net::awaitable<void> run(asio::ip::tcp::socket socket);

  void drop();
  void close(net::close_reason reason);
  void inject(std::string text);

 private:
  using clock = std::chrono::steady_clock;

  // A conversation item, as far as truncation needs to know it.
  struct conversation_item {
    conversation_item(std::string item_id, bool model_audio) : id(std::move(item_id)), assistant_audio(model_audio) {}
    std::string id;
    bool assistant_audio;
    std::uint32_t response = 0;  // assistant audio: the response index it belongs to
    std::uint64_t audio_bytes = 0;
    std::optional<std::int64_t> truncated_ms;
  };

  struct finished_item {
    std::string id;
    std::string status;
    std::string transcript;
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
    std::string transcript;        // the current item's canned transcript
    std::vector<std::size_t> word_ends;
    std::uint32_t words_sent = 0;
    std::vector<finished_item> finished;
  };

  net::awaitable<void> read_loop();
  net::awaitable<void> write_loop();
  net::awaitable<void> pace_loop();

  void note_received(std::string_view type);
  void handle_message();
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

  void start_response(std::string_view trigger, std::string instructions);
  void start_item();
  void on_tick();
  void send_words_due();
  void send_delta();
  void finish_item(std::string_view status);
  void finish_response(std::string_view status, std::string_view reason);
  void cancel_response(std::string_view reason);
  [[nodiscard]] boost::json::object response_object(std::string_view status, std::string_view reason) const;

  void send_session_updated();
  void send_error(std::string_view type, std::string_view code, std::string_view message, std::string_view param);

  // Emitters: every server event gets a fresh event_id right after its type.
  template <class Fill>
  void send(Fill&& fill);
  template <class... Args>
  void emit(std::string_view type, fmt::format_string<Args...> rest, Args&&... args);
  void emit_json(std::string_view type, boost::json::object fields);

  [[nodiscard]] std::string next_event_id();
  [[nodiscard]] std::string next_item_id();
  [[nodiscard]] std::string previous_item_json() const;  // id of the last item, quoted, or null
  [[nodiscard]] conversation_item* find_item(std::string_view id);
  [[nodiscard]] std::chrono::microseconds chunk_period() const;
  void schedule_tick(clock::time_point at);
  void overflow();
  void finish_record(net::read_status status);

  state_ptr state_;
  const simulator_options& options_;
  std::uint64_t number_;
  std::size_t record_ = 0;

  std::unique_ptr<net::message_socket> socket_;
  std::optional<net::ws_writer> writer_;
  asio::steady_timer pace_timer_;
  asio::steady_timer delay_timer_;
  clock::time_point next_tick_{};
  clock::time_point started_{};

  std::optional<session_config> config_;
  energy_vad vad_;
  std::string frame_;            // last message read, with simdjson padding
  std::string client_event_id_;  // event_id of the event being handled ("" when none)
  std::string scratch_;          // base64 of uncached chunks
  std::string decoded_;          // the audio of the last append
  std::vector<conversation_item> items_;
  std::optional<response_state> active_;
  std::string speech_item_id_;
  std::uint64_t uncommitted_bytes_ = 0;
  std::uint64_t event_seq_ = 0;
  std::uint64_t item_seq_ = 0;
  std::uint32_t responses_started_ = 0;
  std::uint32_t user_turns_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  net::read_status end_status_ = net::read_status::closed;
  bool update_reply_pending_ = false;
  bool overflowed_ = false;
  bool reader_done_ = false;
  bool ending_ = false;
  bool closed_by_simulator_ = false;
};

}  // namespace mb::tools::sim
