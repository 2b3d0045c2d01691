#pragma once
// The calls of the process: admission (admission::admission_ledger behind a mutex), the live calls for
// /healthz and shutdown, and the streams still waiting for their authorised start.
//
// @par Thread safety
// All members are thread-safe. The mutex is taken a few times per call (reserve, admit, remove, the
// pending slot) and per health check, never per frame.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "admission/admission_ledger.hpp"
#include "call/control.hpp"
#include "net/asio.hpp"

namespace mb::bridge {

class call_registry {
 public:
  using stop_fn = std::function<void()>;  // runs on the call's executor; asks the call to close cleanly
  // Runs on the call's executor: an operator's command for the call (call_state::on_operator).
  using command_fn = std::function<void(call::operator_command)>;

  // A stream that has been upgraded but has not yet sent an authorised start. Releases its pending
  // place when destroyed or when the stream is admitted, whichever comes first.
  class pending_slot {
   public:
    pending_slot(pending_slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    pending_slot& operator=(pending_slot&&) = delete;
    ~pending_slot() { release(); }
    void release() noexcept;

   private:
    friend class call_registry;
    explicit pending_slot(call_registry* owner) : owner_(owner) {}
    call_registry* owner_;
  };

  struct admit_outcome {
    admission::admit_result result;
    std::uint64_t id = 0;  // for remove(), when admitted
  };

  explicit call_registry(admission::admission_limits limits = {});

  // A webhook is about to announce a stream for `call_sid`: holds a slot for `lifetime` (the stream
  // token's), unless the CallSid is live already or no slot is free.
  admission::reserve_result reserve(std::string_view call_sid, std::chrono::milliseconds lifetime);
  // An authorised stream's start: on `admitted`, the call is registered (reachable by stop_all).
  admit_outcome admit(std::string_view call_sid, asio::any_io_executor ex, stop_fn stop, command_fn command = nullptr);
  // Posts `command` to the live call `call_sid`; false when no such call is live (or it takes none).
  bool send_command(std::string_view call_sid, call::operator_command command);
  void remove(std::uint64_t id);
  // nullopt at MAX_PENDING_STREAMS.
  std::optional<pending_slot> open_pending();

  [[nodiscard]] std::size_t active() const noexcept { return active_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t reserved() const;  // unexpired reservations not yet converted
  [[nodiscard]] std::size_t pending() const;
  [[nodiscard]] bool full() const;            // live calls plus reservations at MAX_CONCURRENT_CALLS
  // Asks every call to end (close frames on both sides).
  void stop_all();
  // Runs `fn` (on an unspecified thread) once no call is active; at once if none is.
  void on_idle(std::function<void()> fn);

 private:
  struct entry {
    asio::any_io_executor executor;
    stop_fn stop;
    command_fn command;
    std::string call_sid;
  };
  static std::int64_t now_ms();

  mutable std::mutex mutex_;
  mutable admission::admission_ledger ledger_;  // its reads forget expired reservations
  std::unordered_map<std::uint64_t, entry> calls_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::size_t> active_{0};
  std::function<void()> idle_;
};

}  // namespace mb::bridge
