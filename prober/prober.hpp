#pragma once
// The prober (docs/latency.md "The prober"): every interval, for each probed agent profile, it opens a
// session to the profile's provider as a call would (same URL, credential header, socket limits),
// timing DNS, TCP, TLS and the WebSocket upgrade one by one, then plays probe::probe_script's
// scripted exchange over it and hands the finished probe::probe_run to a probe_sink. probe_schedule
// decides when each profile runs; probe_script decides what to send and what it measured; this class
// only carries it out.
//
// Bounds: a run ends within its timeout (connecting included) plus close_grace; at most one run per
// profile at a time; one write in flight per socket, at most writer_queue messages queued (a provider
// that does not read fails the run); messages up to the request's socket_limits.
//
// @par Thread Safety
// start() and stop() may be called from any thread: the prober lives on its own strand of the
// executor it was given, and the sink is called there. Runs that stop() interrupts are not recorded.

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "net/asio.hpp"
#include "net/websocket.hpp"
#include "probe/probe_schedule.hpp"
#include "probe/probe_script.hpp"
#include "probe/utterance.hpp"
#include "prober/probe_sink.hpp"
#include "protocol/session_config.hpp"
#include "upstream/provider.hpp"

namespace mb::prober {

// One probed agent profile, with what a call of it connects to.
struct probe_target {
  std::string agent;
  upstream::provider_kind provider = upstream::provider_kind::openai_realtime;
  net::connect_request request;      // URL, credential headers (never logged), limits, connect timeout
  protocol::session_config session;  // the profile's, as a call gets it
};

struct prober_options {
  probe::schedule_options schedule;
  std::chrono::milliseconds timeout{20000};       // PROBE_TIMEOUT_MS: a run's whole budget, connecting included
  std::chrono::milliseconds close_grace{2000};    // after a run: for the close handshake, then the socket is aborted
  std::size_t writer_queue = 256;                 // messages
  // How long the script awaits an optional step (probe::script_options::step_wait).
  std::chrono::milliseconds step_wait = probe::script_options{}.step_wait;
  std::span<const std::uint8_t> utterance_mulaw = probe::utterance();  // the caller's speech, 8 kHz μ-law;
                                                                      // must outlive the prober
};

class prober {
 public:
  // `targets` must not be empty.
  prober(const asio::any_io_executor& executor, std::vector<probe_target> targets, prober_options options,
         std::shared_ptr<net::tls_client_context> tls, std::shared_ptr<probe_sink> sink);
  ~prober();  // stop()
  prober(const prober&) = delete;
  prober& operator=(const prober&) = delete;

  // Starts the schedule: the first runs begin options.schedule.first_delay from now.
  void start();
  // Stops scheduling and closes the runs in progress (1001, then aborted after close_grace); the
  // strand then runs out of work.
  void stop();

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace mb::prober
