#include "call/stats_progress.hpp"

#include <catch2/catch.hpp>

using namespace mb::call;

TEST_CASE("stats progress: each look returns what was counted since the last", "[call][stats_progress]") {
  stats_progress progress;
  call_stats st;

  const auto nothing = progress.advance(st);
  CHECK(nothing.caller_frames == 0);
  CHECK(nothing.assistant_chunks == 0);

  st.caller_frames = 3;
  st.caller_bytes = 480;
  st.assistant_chunks = 2;
  st.assistant_bytes = 2400;
  st.barge_ins = 1;
  st.truncates_sent = 1;
  st.late_deltas_dropped = 4;
  st.dtmf_dropped = 5;
  st.invalid_frames = 7;  // logged in the call's summary, not a metric
  auto d = progress.advance(st);
  CHECK(d.caller_frames == 3);
  CHECK(d.caller_bytes == 480);
  CHECK(d.assistant_chunks == 2);
  CHECK(d.assistant_bytes == 2400);
  CHECK(d.barge_ins == 1);
  CHECK(d.truncates_sent == 1);
  CHECK(d.late_deltas_dropped == 4);
  CHECK(d.dtmf_dropped == 5);

  st.caller_frames = 4;
  st.caller_bytes = 640;
  d = progress.advance(st);
  CHECK(d.caller_frames == 1);
  CHECK(d.caller_bytes == 160);
  CHECK(d.assistant_chunks == 0);
  CHECK(d.assistant_bytes == 0);
  CHECK(d.barge_ins == 0);
  CHECK(d.late_deltas_dropped == 0);

  d = progress.advance(st);
  CHECK(d.caller_frames == 0);
  CHECK(d.caller_bytes == 0);
}
