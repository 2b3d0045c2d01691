// GET /metrics after real calls: the Prometheus text format, and the counters the calls moved.

#include <catch2/catch.hpp>

#include <string>

#include <boost/asio/co_spawn.hpp>

#include "net/http_client.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/text_files.hpp"

using namespace mb;
using test::sample;
using tools::twilio::audio_kind;

namespace {

net::http_response get(const std::string& url) {
  asio::io_context ioc;
  net::http_response response;
  asio::co_spawn(ioc, net::http_request("GET", url, {}, {}, nullptr, 5000),
                 [&](std::exception_ptr, net::http_response r) { response = std::move(r); });
  ioc.run_for(std::chrono::seconds(10));
  return response;
}

}  // namespace

TEST_CASE("metrics: /metrics counts calls, frames, barge-ins and latencies", "[integration][metrics]") {
  test::bridge_harness harness;
  auto call = harness.call({{audio_kind::speech, 600}, {audio_kind::silence, 1200}, {audio_kind::speech, 600},
                            {audio_kind::silence, 1500}});
  const auto reports = harness.run({call});
  REQUIRE(reports.size() == 1);
  REQUIRE(reports[0].ok());
  REQUIRE(harness.events().wait_ended(1));

  const auto base = "http://127.0.0.1:" + std::to_string(harness.port());
  const auto r = get(base + "/metrics");
  REQUIRE(r.status == 200);
  bool text_format = false;
  for (const auto& [k, v] : r.headers)
    if (k == "Content-Type" && v.rfind("text/plain; version=0.0.4", 0) == 0) text_format = true;
  CHECK(text_format);
  const auto& m = r.body;
  INFO(m);
  CHECK(sample(m, "mediabridge_active_calls") == "0");
  CHECK(sample(m, "mediabridge_calls_started_total") == "1");
  CHECK(sample(m, "mediabridge_calls_ended_total{reason=\"caller_hung_up\"}") == "1");
  const auto frames_up = std::stoull(sample(m, "mediabridge_frames_relayed_total{direction=\"caller_to_upstream\"}"));
  CHECK(frames_up == reports[0].media_frames_sent);
  CHECK(std::stoull(sample(m, "mediabridge_audio_relayed_bytes_total{direction=\"caller_to_upstream\"}")) ==
        frames_up * 160);
  CHECK(std::stoull(sample(m, "mediabridge_frames_relayed_total{direction=\"upstream_to_caller\"}")) > 0);
  CHECK(sample(m, "mediabridge_barge_ins_total") == "1");
  CHECK(sample(m, "mediabridge_truncates_total{result=\"sent\"}") == "1");
  CHECK(sample(m, "mediabridge_truncates_total{result=\"accepted\"}") == "1");
  CHECK(sample(m, "mediabridge_truncates_total{result=\"rejected\"}") == "0");
  CHECK(sample(m, "mediabridge_upstream_connect_seconds_count") == "1");
  CHECK(sample(m, "mediabridge_session_update_seconds_count") == "1");
  CHECK(std::stoull(sample(m, "mediabridge_turn_first_delta_seconds_count")) >= 1);
  CHECK(std::stoull(sample(m, "mediabridge_turn_first_audio_seconds_count")) >= 1);
  CHECK(std::stoull(sample(m, "mediabridge_relay_seconds_count{direction=\"caller_to_upstream\"}")) == frames_up);
  CHECK(sample(m, "mediabridge_errors_total{kind=\"upstream_lost\"}") == "0");
  CHECK(!sample(m, "process_resident_memory_bytes").empty());

  CHECK(get(base + "/metrics").status == 200);
}
