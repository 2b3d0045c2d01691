#pragma once
// What a replay saw, as entries of the recording's log format (record/log_format.hpp) with
// directions from the bridge's point of view: twilio_in is what the simulated Twilio sent, twilio_out
// what it received, upstream_out what the replay provider received, upstream_in what it sent, event
// what the listener got. Entries keep their steady-clock time until the stream's start is known,
// which is the log's t = 0.
//
// @par Thread Safety
// Not thread-safe: a replay runs on one thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "record/log_format.hpp"

namespace mb::tools::replay {

using clock = std::chrono::steady_clock;

class observed_log {
 public:
  // A message: JSON is minified into the entry, anything else is kept as raw text. Twilio's start
  // loses its stream token, as in a recording (docs/recording.md "Privacy").
  void message(record::direction dir, std::string_view text, clock::time_point at);
  void connection(record::direction dir, std::uint64_t number, std::string detail, clock::time_point at);

  // The entries with t counted from `zero`; anything earlier gets t = 0, as a recording has nothing
  // before its stream's start.
  [[nodiscard]] std::vector<record::log_entry> entries(clock::time_point zero) const;

 private:
  struct timed_entry {
    clock::time_point at;
    record::log_entry entry;
  };
  std::vector<timed_entry> entries_;
};

}  // namespace mb::tools::replay
