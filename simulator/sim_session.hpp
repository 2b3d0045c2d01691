#pragma once
// One simulated upstream session = one WebSocket, whatever its protocol: a reader coroutine that
// hands each client event to the protocol (realtime_session.hpp, live_session.hpp), the socket's
// ws_writer, and a pacer coroutine that releases response audio on a timer. All three run on the
// session's strand and are joined with &&. This class owns the transport, the session's record
// and the emitters; a protocol subclass owns the events.
//
// @par Thread Safety
// run() and all protected state belong to the strand; drop(), close(), inject() and
// inject_error() may be called from any thread (they post to the strand).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <fmt/format.h>
#include <simdjson.h>

#include "net/message_socket.hpp"
#include "net/websocket.hpp"
#include "net/ws_writer.hpp"
#include "simulator/config_error.hpp"
#include "simulator/sim_state.hpp"

namespace mb::simulator {

// An "Authorization: Bearer <non-empty token>" header value (the scheme in any case).
[[nodiscard]] bool has_bearer_token(std::string_view authorization) noexcept;

class sim_session : public std::enable_shared_from_this<sim_session> {
 public:
  using state_ptr = std::shared_ptr<upstream_simulator::state>;

  sim_session(state_ptr state, asio::any_io_executor strand, std::uint64_t number, upstream::provider_kind provider);
  virtual ~sim_session() = default;
  sim_session(const sim_session&) = delete;
  sim_session& operator=(const sim_session&) = delete;

  // Serves an upgraded socket until it closes.
  net::awaitable<void> run(net::accept_result accepted);

  [[nodiscard]] upstream::provider_kind provider() const noexcept { return provider_; }

  void drop();
  void close(net::close_reason reason);
  void inject(std::string text);
  void inject_error(std::string type, std::string code, std::string message);

 protected:
  using clock = std::chrono::steady_clock;

  // --- the protocol's part ---
  // Fills the protocol's fields of the record before it is published.
  virtual void open(session_snapshot& record) = 0;
  // Right after the record is published: the events a session begins with.
  virtual void opened() = 0;
  // A client message that is a JSON object. The OpenAI protocols' default reads its type and
  // event_id (a message without a type is rejected) and hands it to handle_event; a protocol whose
  // messages are keyed otherwise (Gemini Live) overrides it and records the message itself.
  virtual void handle_message(simdjson::dom::object message);
  // A client event with a type; client_event_id_ holds its event_id and frame_ its text.
  virtual void handle_event(std::string_view /*type*/, simdjson::dom::object /*event*/) {}
  // A message that is not a client event: unparsable, without a type, or binary.
  virtual void reject_event(std::string_view message, std::string_view param);
  // The pacing timer fired (and the client keeps up with what was sent).
  virtual void on_tick() = 0;
  // An `error` event in the protocol's shape, recorded in session_snapshot::errors.
  virtual void send_error(std::string_view type, std::string_view code, std::string_view message,
                          std::string_view param) = 0;
  // Whether an injected error may go out now.
  [[nodiscard]] virtual bool accepts_injected_errors() const { return true; }
  // The client's reading ended (close, drop or error): cancel the protocol's own timers.
  virtual void reading_ended() {}

  // --- helpers for the protocol ---
  // The event being handled as a Boost.JSON object, its raw text first kept in `log` of the record.
  // nullopt, and the event rejected, should Boost.JSON refuse what simdjson accepted.
  std::optional<boost::json::object> event_object(std::vector<std::string> session_snapshot::*log);
  void send_config_error(const config_error& e);
  [[nodiscard]] asio::any_io_executor strand() { return pace_timer_.get_executor(); }
  // Decodes the base64 audio of an append into decoded_, shows it to the probe and records it;
  // false (nothing recorded) when it is not base64.
  bool take_audio(std::string_view audio_b64);
  // Counts a client message of `type` ("" when it has none) in the record and the totals.
  void note_received(std::string_view type);
  // Base64 of chunk `chunk` of item `item` of response `response`, after the probe had its say.
  [[nodiscard]] std::string_view audio_chunk(std::uint32_t response, std::uint32_t item, std::uint32_t chunk);
  // Base64 of `samples` samples of response `response`'s PCM16 pattern at `rate_hz` from sample
  // `offset` (audio_pattern.hpp). Not shown to the probe: its stamps are μ-law bytes.
  [[nodiscard]] std::string_view pcm_chunk(std::uint32_t response, std::uint64_t offset, std::uint64_t samples,
                                           std::uint32_t rate_hz);
  // Sends `reply` now, or after session_updated_delay_ms with every later event held back (the
  // service handles events in order, so a slow reply delays what follows); then closes the session
  // when close_after_configuration says so.
  void reply_to_configuration(std::function<void()> reply);
  // Closes the socket after what is queued (the protocol's own closes count as the simulator's).
  void close_now(net::close_reason reason);
  // Schedules the first audio tick of a response or turn: one chunk period plus first_audio_delay_ms.
  void schedule_first_chunk();
  // Schedules the next audio tick one chunk period after the last (no drift; after a stall, from now).
  void schedule_next_chunk();
  // Schedules the next tick at `at` (a protocol that waits for the client's playback).
  void schedule_tick(clock::time_point at);
  [[nodiscard]] std::chrono::microseconds chunk_period() const noexcept { return chunk_period_; }
  // A protocol whose chunks are not chunk_bytes of μ-law: `audio_ms` of audio per chunk, sent
  // `speed` times faster than real time.
  void set_chunk_audio_ms(double audio_ms);
  // The client let its queue fill up half way.
  [[nodiscard]] bool client_lagging() const noexcept;
  // Every server event gets a fresh event_id right after its type.
  template <class Fill>
  void send(Fill&& fill);
  template <class... Args>
  void emit(std::string_view type, fmt::format_string<Args...> rest, Args&&... args);
  void emit_json(std::string_view type, boost::json::object fields);
  template <class F>
  void update_record(F&& f) {
    state_->update(record_, std::forward<F>(f));
  }

  state_ptr state_;
  const simulator_options& options_;
  const std::uint64_t number_;
  std::unique_ptr<net::message_socket> socket_;
  std::optional<net::ws_writer> writer_;
  std::string frame_;            // last message read, with simdjson padding
  std::string client_event_id_;  // event_id of the event being handled ("" when none)
  std::string decoded_;          // the audio of the last append
  clock::time_point started_{};
  std::uint32_t responses_started_ = 0;

 private:
  net::awaitable<void> read_loop();
  net::awaitable<void> write_loop();
  net::awaitable<void> pace_loop();
  void handle_frame();
  [[nodiscard]] std::string next_event_id();
  void overflow();
  void finish_record(net::read_status status);

  const upstream::provider_kind provider_;
  std::size_t record_ = 0;
  asio::steady_timer pace_timer_;
  asio::steady_timer delay_timer_;
  clock::time_point next_tick_{};
  std::chrono::microseconds chunk_period_{};
  std::string scratch_;  // base64 of uncached chunks
  std::string pcm_;      // the PCM of the chunk being encoded
  std::function<void()> delayed_reply_;
  std::uint64_t event_seq_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  net::read_status end_status_ = net::read_status::closed;
  bool overflowed_ = false;
  bool reader_done_ = false;
  bool ending_ = false;
  bool closed_by_simulator_ = false;
};

template <class Fill>
void sim_session::send(Fill&& fill) {
  if (overflowed_) return;
  if (writer_->full()) return overflow();
  if (!writer_->emplace(std::forward<Fill>(fill))) return;  // closing: the service says nothing after a close
  ++sent_;
  state_->messages_sent.fetch_add(1, std::memory_order_relaxed);
}

template <class... Args>
void sim_session::emit(std::string_view type, fmt::format_string<Args...> rest, Args&&... args) {
  send([&](std::string& s) {
    auto out = std::back_inserter(s);
    fmt::format_to(out, R"({{"type":"{}","event_id":"event_{}_{}")", type, number_, ++event_seq_);
    fmt::format_to(out, rest, std::forward<Args>(args)...);
    s.push_back('}');
  });
}

}  // namespace mb::simulator
