#pragma once
// A probe_sink that writes one info line per run: the stages it measured, or its error.

#include "prober/probe_sink.hpp"

namespace mb::prober {

class log_sink final : public probe_sink {
 public:
  void record(const probe::probe_run& run) override;
};

}  // namespace mb::prober
