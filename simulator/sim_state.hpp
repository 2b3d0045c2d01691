#pragma once
// State shared by the simulator façade, its acceptors and its sessions. Sessions hold it by
// shared_ptr, so a session may outlive the upstream_simulator object that started it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "net/message_socket.hpp"
#include "simulator/delta_cache.hpp"
#include "simulator/upstream_simulator.hpp"

namespace mb::simulator {

class sim_session;

// A Gemini Live conversation: what continues when a new connection resumes it with a handle.
// Guarded by upstream_simulator::state::mutex (the connections that share it may run on different
// strands while the old one drains its goAway).
struct gemini_conversation {
  std::string id;                 // "conv_<n>"
  std::uint32_t replies = 0;      // replies started; the next one's index
  std::uint32_t user_turns = 0;   // caller turns heard
  std::uint64_t handles = 0;      // handles issued
  std::string latest_handle;      // resumes it ("" before the first)
  // Resumes it too. A dropped connection can lose the update that replaced it while that update is
  // in flight, so the client never saw the newer handle. Older handles are refused.
  std::string previous_handle;
  std::chrono::steady_clock::time_point handle_expires{};
};

// A SIP call's live side (sip_plane.hpp), next to its record (sip_call_snapshot). Guarded by
// upstream_simulator::state::mutex.
struct sip_call_state {
  std::size_t record = 0;               // index in state::sip_records
  std::weak_ptr<sim_session> sideband;  // the open sideband, if any
  std::int64_t clock_ms = 0;            // the simulated conversation clock (GPT-Live start_ms/end_ms)
  std::uint32_t responses = 0;          // assistant responses so far (their texts' numbers)
  std::string pending_answer;           // what the next response.create speaks about a tool result
};

struct upstream_simulator::state {
  state(asio::io_context& context, simulator_options opts)
      : ioc(context), options(std::move(opts)), deltas(options) {
    limits.max_message_bytes = options.max_message_bytes;
    limits.handshake_timeout_ms = options.handshake_timeout_ms;
    limits.idle_timeout_ms = options.idle_timeout_ms;
    tool_replies = options.tool_replies;
    sip_webhook_url = options.sip_webhook_url;
    sip_webhook_secret = options.sip_webhook_secret;
  }

  // Runs f(record) under the lock, then wakes wait_until().
  template <class F>
  void update(std::size_t index, F&& f) {
    {
      std::lock_guard lock(mutex);
      f(records[index]);
    }
    changed.notify_all();
  }

  asio::io_context& ioc;
  const simulator_options options;
  net::socket_limits limits;
  const delta_cache deltas;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  // Guarded by mutex.
  std::vector<session_snapshot> records;
  std::unordered_map<std::uint64_t, std::weak_ptr<sim_session>> live;
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors;
  bool stopping = false;
  std::string url_authority;  // HOST:PORT of the first listen(), for url_for()
  std::vector<tool_request_record> tool_requests;
  std::map<std::string, tool_reply, std::less<>> tool_replies;
  std::vector<std::weak_ptr<asio::steady_timer>> tool_delays;  // scripted reply delays (tools, SIP accepts), cancelled by stop()
  // Gemini Live: resumption handle -> conversation (one live handle per conversation).
  std::unordered_map<std::string, std::shared_ptr<gemini_conversation>> resumption_handles;
  // OpenAI SIP mode: every call placed, and the live side of each by call id.
  std::vector<sip_call_snapshot> sip_records;
  std::unordered_map<std::string, sip_call_state> sip_live;
  // Where incoming-call webhooks go, and their secret: the options', until set_sip_webhook().
  std::string sip_webhook_url;
  std::string sip_webhook_secret;
  std::vector<client_secret_record> client_secret_requests;

  std::atomic<std::uint64_t> next_number{1};
  std::atomic<std::uint64_t> sessions_active{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> audio_deltas_sent{0};
  std::atomic<std::uint64_t> audio_bytes_received{0};
  std::atomic<std::uint64_t> overflows{0};
  std::atomic<std::uint64_t> live_sessions{0};
  std::atomic<std::uint64_t> gemini_sessions{0};
  std::atomic<std::uint64_t> refused_upgrades{0};
  std::atomic<std::uint64_t> next_conversation{1};
};

}  // namespace mb::simulator
