#pragma once
// The upstream simulator (simulator/) on its own io_context thread, and a test-side client of it
// over a real loopback WebSocket, for the simulator's own integration tests (Realtime and GPT-Live).

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "net/websocket.hpp"
#include "net/ws_writer.hpp"
#include "simulator/upstream_simulator.hpp"

namespace mb::test {

// The simulator on its own io_context thread, as the bridge tests run it.
struct running_simulator {
  explicit running_simulator(simulator::simulator_options options = {});
  ~running_simulator();
  running_simulator(const running_simulator&) = delete;
  running_simulator& operator=(const running_simulator&) = delete;

  [[nodiscard]] std::string realtime_url() const;  // with ?model=gpt-realtime
  [[nodiscard]] std::string live_url() const;
  [[nodiscard]] std::string gemini_url() const;

  asio::io_context ioc;
  simulator::upstream_simulator simulator;
  std::thread thread;
};

// One coroutine reads and writes in turn, so no writer is needed.
struct sim_client {
  std::unique_ptr<net::message_socket> ws;
  std::string buffer;
  std::vector<boost::json::object> events;  // every event received, in order

  net::awaitable<void> send(const boost::json::value& event);
  // Raw JSON text. Events are spelled as literals or built by helper functions: g++ 12 cannot compile
  // a braced json::object temporary inside a co_await expression ("array used as initializer").
  net::awaitable<void> send_text(std::string_view text);
  net::awaitable<std::string> next_text();
  net::awaitable<boost::json::object> next();
  // Sends `audio` in 20 ms frames of μ-law, as the bridge forwards Twilio media, each as an event of
  // `type` (input_audio_buffer.append, session.input_audio.append) with base64 `audio`.
  net::awaitable<void> append_audio(std::string_view type, const std::string& audio);
  // Reads until an event of `type` arrives and returns it.
  net::awaitable<boost::json::object> until(std::string_view type);
  // Reads until the peer closes (failing on any message) and returns its close code.
  net::awaitable<std::uint16_t> closed_by_peer();

  // Index in `events` of the first event of `type`, or -1.
  [[nodiscard]] long index_of(std::string_view type) const;
  [[nodiscard]] std::size_t count(std::string_view type) const;
};

// Upgrade request headers. Tests name them in variables: g++ 12 cannot compile a braced temporary
// inside a co_await expression.
using upgrade_headers = std::vector<std::pair<std::string, std::string>>;

// Connects; reads nothing yet.
net::awaitable<sim_client> open_client(const std::string& url, bool with_key = true);
// Connects with these upgrade headers (e.g. Azure's api-key, Gemini's x-goog-api-key).
net::awaitable<sim_client> open_client(const std::string& url, upgrade_headers headers);
// Tries to connect with these headers and returns the HTTP status the upgrade was refused with
// (0 when it was accepted).
net::awaitable<int> refused_status(const std::string& url, upgrade_headers headers);

// Runs a client coroutine on the test thread, bounded in time; rethrows its failures.
template <class F>
void run_client(F&& body, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  asio::io_context ioc;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
    done = true;
    error = std::move(e);
  });
  ioc.run_for(timeout);
  if (error) std::rethrow_exception(error);
  if (!done) throw std::runtime_error("the client coroutine did not finish in time");
}

// `ms` of μ-law: a loud 440 Hz tone (about -13 dBFS RMS) or digital silence.
std::string ulaw(int ms, bool loud);
// The same as 16-bit little-endian PCM at `rate_hz` (Gemini Live's input, GPT-Live's audio/pcm).
std::string pcm16(int ms, bool loud, std::uint32_t rate_hz);

// The audio of a delta event, base64-decoded.
std::string decode_delta(const boost::json::object& event);

// Whether `bytes` are the simulator's audio of response `response` from pattern offset `offset`.
bool matches_pattern(std::uint32_t response, std::uint64_t offset, const std::string& bytes);

}  // namespace mb::test
