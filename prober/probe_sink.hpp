#pragma once
// Where the prober hands each finished probe run (docs/latency.md "The prober"): the store, /metrics and
// the alert rules sit behind an implementation of this interface.
//
// Thread safety: record() is called on the prober's strand, one run at a time, never concurrently with
// itself. An implementation that touches state owned by another thread or strand posts the run there and
// returns at once: the prober's schedule must not wait on a database or a webhook.

#include "probe/probe_run.hpp"

namespace mb::prober {

class probe_sink {
 public:
  virtual ~probe_sink() = default;
  // One finished run, successful or not (run.error says which); the run is the implementation's to copy.
  virtual void record(const probe::probe_run& run) = 0;

 protected:
  probe_sink() = default;
  probe_sink(const probe_sink&) = default;
  probe_sink& operator=(const probe_sink&) = default;
};

}  // namespace mb::prober
