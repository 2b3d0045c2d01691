// mediabridge-call as its users run it: the real binary against a bridge, judged by its exit code and
// its JSON report (tools/twilio_sim/main.cpp; what counts as a successful call: call_report.hpp).

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"

using namespace mb;

namespace {

struct cli_result {
  int exit_code = -1;  // -1: did not exit normally within the bound
  std::string output;
  boost::json::value report;  // the output parsed; null when it is not JSON
};

// Runs mediabridge-call against `webhook` with `script`, in an empty environment (no auth token).
cli_result run_mediabridge_call(const std::string& webhook, const std::string& script) {
  test::temp_dir dir;
  const auto log = dir.file("mediabridge-call.out");
  test::server_process cli(MB_MEDIABRIDGE_CALL_BINARY, {"--webhook", webhook, "--script", script, "--json"}, {}, log);
  cli_result result;
  if (const auto status = cli.wait_exit(std::chrono::seconds(30)); status && WIFEXITED(*status))
    result.exit_code = WEXITSTATUS(*status);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  boost::system::error_code ec;
  result.report = boost::json::parse(result.output, ec);
  return result;
}

const boost::json::object& only_call(const boost::json::value& report) {
  const auto& calls = report.at("calls").as_array();
  REQUIRE(calls.size() == 1);
  return calls[0].as_object();
}

bool mentions(const boost::json::array& problems, std::string_view text) {
  for (const auto& p : problems)
    if (std::string_view(p.as_string()).find(text) != std::string_view::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("mediabridge-call exits 1 when the bridge cuts the call with 1011 format_mismatch and sends no audio",
          "[integration][mediabridge_call]") {
  mb::simulator::simulator_options sim;
  sim.force_output_format = "audio/pcm";  // session.updated confirms PCM: the bridge must refuse the session
  test::bridge_harness h({.simulator = sim});
  const auto result = run_mediabridge_call(h.webhook_url(), "speech:300,silence:2500");
  INFO(result.output);
  CHECK(result.exit_code == 1);
  REQUIRE(result.report.is_object());
  CHECK(result.report.at("ok") == false);
  const auto& call = only_call(result.report);
  CHECK(call.at("outcome") == "bridge_closed");
  CHECK(call.at("close_code") == 1011);
  CHECK(call.at("close_reason") == "format_mismatch");
  CHECK(call.at("media_frames_received") == 0);
  const auto& problems = call.at("problems").as_array();
  CHECK(mentions(problems, "closed the stream with code 1011 'format_mismatch'"));
  CHECK(mentions(problems, "no answer"));
}

TEST_CASE("mediabridge-call exits 0 for a call that is answered and hung up normally", "[integration][mediabridge_call]") {
  const auto provider = GENERATE(from_range(std::begin(upstream::all_providers), std::end(upstream::all_providers)));
  INFO(upstream::to_string(provider));
  mb::simulator::simulator_options sim;
  sim.response_ms = 500;
  test::bridge_harness h({.simulator = sim, .provider = provider});
  const auto result = run_mediabridge_call(h.webhook_url(), "speech:300,silence:2500");
  INFO(result.output);
  CHECK(result.exit_code == 0);
  REQUIRE(result.report.is_object());
  CHECK(result.report.at("ok") == true);
  const auto& call = only_call(result.report);
  CHECK(call.at("outcome") == "completed");
  CHECK(call.at("close_code") == 1000);
  CHECK(call.at("media_frames_received").to_number<double>() > 0);
  CHECK(call.at("problems").as_array().empty());
}
