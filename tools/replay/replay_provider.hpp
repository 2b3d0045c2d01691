#pragma once
// The provider side of a replay: a WebSocket server that accepts the bridge's upstream connection on
// any path (every provider protocol: it only replays messages verbatim, so Realtime, GPT-Live, Azure
// and Gemini alike) and plays the recorded connection's script (record/replay_script.hpp): each
// recorded provider message sent its recorded delay after its trigger arrives, in order, and a
// recorded drop reproduced. The n-th connection the bridge opens plays the recording's n-th.
// Everything it receives and sends goes into the observed log.
//
// @par Thread Safety
// Runs on one single-threaded io_context (the replay's); all members are called from that thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "record/replay_script.hpp"
#include "tools/replay/observed_log.hpp"

namespace mb::tools::replay {

class replay_provider {
 public:
  // `script` and `log` outlive the provider.
  replay_provider(asio::io_context& ioc, const record::replay_script& script, observed_log& log);
  ~replay_provider();
  replay_provider(const replay_provider&) = delete;
  replay_provider& operator=(const replay_provider&) = delete;

  // Binds and starts accepting; returns the port (useful with port 0). Throws on a bind failure.
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  // Stops accepting and drops every connection still open.
  void stop();

  [[nodiscard]] std::uint64_t connections_accepted() const noexcept;
  [[nodiscard]] bool all_closed() const noexcept;
  // Runs (on the io_context) whenever a connection closes.
  void on_closed(std::function<void()> callback);
  // One line per connection whose script did not play to its end, or that the recording lacks.
  [[nodiscard]] std::vector<std::string> unfinished() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace mb::tools::replay
