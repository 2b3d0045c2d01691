// mediabridge-replay against the real server binary (docs/recording.md "Replay"): the committed
// recordings (tests/recordings/*.jsonl) replay without differences, a replay's own observed log
// replays the same, a moved barge-in is caught, and the tool's exit codes.

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "protocol/base64.hpp"
#include "record/replay_diff.hpp"
#include "simulator/upstream_simulator.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tools/replay/replay_run.hpp"

using namespace mb;
using tools::replay::recorded_log;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where the demo tool's webhook is answered, as demo mode has the built-in simulator answer it (the
// recordings were made in demo mode): an in-process simulator that serves only that.
class tool_webhook_server {
 public:
  tool_webhook_server() : sim_(ioc_, {}) {
    sim_.listen("127.0.0.1", 0);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~tool_webhook_server() {
    sim_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string tool_url() const { return sim_.tool_url("lookup_order"); }

 private:
  asio::io_context ioc_;
  simulator::upstream_simulator sim_;
  std::thread thread_;
};

// The profiles scripts/record-fixtures records with (tests/recordings/agents.json), each declaring
// the demo tool as demo mode does.
std::string agents_json(const std::string& tool_url) {
  auto agents = boost::json::parse(read_file(std::string(MB_RECORDINGS_DIR) + "/agents.json"));
  const boost::json::array tools{boost::json::object{
      {"name", "lookup_order"},
      {"url", tool_url},
      {"parameters", boost::json::parse(R"({"type":"object","properties":{"order_id":{"type":"string"}}})")}}};
  for (auto& [name, profile] : agents.at("agents").as_object()) profile.as_object()["tools"] = tools;
  return boost::json::serialize(agents);
}

struct replay_run {
  tools::replay::replay_result result;
  record::replay_report report;
  std::string server_log;
};

// Replays `log` against a fresh server whose every provider is the replay's provider.
replay_run replay_against_server(const recorded_log& log) {
  const test::temp_dir dir;
  const tool_webhook_server tools;
  const auto port = test::free_port();
  const auto base = "http://127.0.0.1:" + std::to_string(port);
  tools::replay::replay_session session(
      log.header, log.entries, {.webhook_url = base + "/voice?agent=" + log.header.agent, .provider_port = 0});
  const auto provider = "127.0.0.1:" + std::to_string(session.provider_port());

  std::vector<std::string> env{"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(port), "PUBLIC_URL=" + base,
                               "WORKER_THREADS=1", "DATABASE_PATH=:memory:", "LOG_LEVEL=info",
                               "AGENTS_FILE=" + dir.write("agents.json", agents_json(tools.tool_url()))};
  for (const auto* name : {"openai-realtime", "openai-live", "azure-realtime", "gemini"})
    for (const auto& [key, value] : tools::replay::bridge_settings_for(name, provider))
      if (key != "PROVIDER") env.push_back(key + "=" + value);
  const auto log_path = dir.file("mediabridge.log");
  test::server_process server(env, log_path);
  replay_run run;
  if (!test::wait_healthy(port, std::chrono::seconds(10))) {
    run.server_log = read_file(log_path);
    run.result.setup_failure = "the server did not come up";
    return run;
  }
  run.result = session.run();
  run.report = record::compare_runs(log.entries, run.result.observed, {});
  run.server_log = read_file(log_path);
  return run;
}

void require_replayed(const replay_run& run) {
  INFO(run.server_log);
  REQUIRE(run.result.setup_failure.empty());
}

std::string describe(const replay_run& run) {
  std::string text = record::format_report(run.report);
  for (const auto& note : run.result.notes) text += "note: " + note + "\n";
  return text;
}

// A Realtime call written by hand: the caller speaks, the model answers for 1.5 s, the caller talks
// over the answer (a barge-in: clear and truncate), then hangs up. Provider messages follow the bridge's
// appends as they would a real service's VAD.
recorded_log handmade_call() {
  recorded_log log;
  log.header = {.call_sid = "CA" + std::string(32, '0'), .stream_sid = "MZ" + std::string(32, '0'), .agent = "realtime-listening",
                .provider = "openai-realtime", .started_at = 1765000000000, .dtmf_masked = false};
  auto add = [&](double t, record::direction dir, std::string msg) {
    record::log_entry e;
    e.t_ms = t;
    e.dir = dir;
    e.kind = record::payload_kind::json;
    e.payload = std::move(msg);
    log.entries.push_back(std::move(e));
  };
  using record::direction;
  record::log_entry open;
  open.t_ms = 3;
  open.dir = direction::upstream_open;
  open.number = 1;
  log.entries.push_back(open);
  add(5, direction::upstream_in, R"({"type":"session.created","session":{"type":"realtime"}})");
  add(6, direction::upstream_out, R"({"type":"session.update"})");
  add(8, direction::upstream_in,
      R"({"type":"session.updated","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"}},"output":{"format":{"type":"audio/pcmu"}}}}})");
  const std::string speech = protocol::base64_encode(std::string(160, '\x10'));
  const std::string silence = protocol::base64_encode(std::string(160, '\xFF'));
  for (int k = 0; k < 200; ++k) {
    const double t = 20.0 * (k + 1);
    const bool speaking = (k >= 25 && k < 60) || (k >= 120 && k < 140);
    add(t, direction::twilio_in,
        R"({"event":"media","media":{"timestamp":")" + std::to_string(20 * k) + R"(","payload":")" +
            (speaking ? speech : silence) + R"("}})");
    add(t + 0.2, direction::upstream_out, R"({"type":"input_audio_buffer.append"})");
    if (k == 27) add(t + 1, direction::upstream_in, R"({"type":"input_audio_buffer.speech_started","audio_start_ms":500,"item_id":"u1"})");
    if (k == 65) {
      add(t + 1, direction::upstream_in, R"({"type":"input_audio_buffer.speech_stopped","audio_end_ms":1300,"item_id":"u1"})");
      add(t + 2, direction::upstream_in, R"({"type":"response.created","response":{"id":"r1","status":"in_progress"}})");
      for (int j = 0; j < 15; ++j)
        add(t + 10 + j * 10, direction::upstream_in,
            R"({"type":"response.output_audio.delta","response_id":"r1","item_id":"a1","output_index":0,"content_index":0,"delta":")" +
                protocol::base64_encode(std::string(800, static_cast<char>(0x20 + j))) + R"("})");
    }
    if (k == 122) add(t + 1, direction::upstream_in, R"({"type":"input_audio_buffer.speech_started","audio_start_ms":2400,"item_id":"u2"})");
  }
  add(4020, direction::twilio_in, R"({"event":"stop"})");
  return log;
}

recorded_log as_recording(const tools::replay::replay_result& observed) {
  return {observed.header, observed.observed};
}

}  // namespace

TEST_CASE("a replay's observed log replays against the real server without differences, a moved barge-in fails",
          "[integration][replay]") {
  const auto first = replay_against_server(handmade_call());
  require_replayed(first);
  INFO(describe(first));
  REQUIRE(first.result.call.ok());
  REQUIRE(first.result.call.clears.size() == 1);  // the caller's second turn barged in

  // The first replay's observed log is a recording of that call: replaying it must reproduce it.
  const auto recorded = as_recording(first.result);
  const auto second = replay_against_server(recorded);
  require_replayed(second);
  INFO(describe(second));
  CHECK(second.report.passed());
  CHECK(second.result.notes.empty());

  // The same recording with the model hearing the barge-in 600 ms later: the clear moves by as much.
  auto moved = recorded;
  bool found = false;
  for (auto& e : moved.entries) {
    if (found || e.dir != record::direction::upstream_in) continue;
    if (e.payload.find("\"item_id\":\"u2\"") == std::string::npos) continue;
    e.t_ms += 600;
    found = true;
  }
  REQUIRE(found);
  const auto third = replay_against_server(moved);
  require_replayed(third);
  INFO(describe(third));
  CHECK_FALSE(third.report.passed());
  const auto& differences = third.report.differences;
  CHECK(std::any_of(differences.begin(), differences.end(),
                    [](const record::replay_difference& d) { return d.what.find("barge-in") != std::string::npos; }));
}

TEST_CASE("every committed recording replays against the real server within the tolerances",
          "[integration][replay][recordings]") {
  const std::filesystem::path folder = MB_RECORDINGS_DIR;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(folder))
    for (const auto& f : std::filesystem::directory_iterator(folder))
      if (f.path().extension() == ".jsonl") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  REQUIRE_FALSE(files.empty());
  for (const auto& file : files) {
    DYNAMIC_SECTION(file.filename().string()) {
      std::string error;
      const auto log = tools::replay::read_log(file.string(), error);
      INFO(error);
      REQUIRE(log);
      const auto run = replay_against_server(*log);
      require_replayed(run);
      INFO(describe(run));
      CHECK(run.report.passed());
    }
  }
}

TEST_CASE("mediabridge-replay exits 2 for a log it cannot read and for a bad flag", "[integration][replay]") {
  const test::temp_dir dir;
  const auto out = dir.file("replay.out");
  const auto exit_code = [&](const std::vector<std::string>& args) {
    test::server_process tool(MB_MEDIABRIDGE_REPLAY_BINARY, args, {}, out);
    const auto status = tool.wait_exit(std::chrono::seconds(10));
    return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  };
  CHECK(exit_code({dir.file("missing.jsonl")}) == 2);
  CHECK(read_file(out).find("cannot be read") != std::string::npos);
  CHECK(exit_code({dir.write("not-a-log.jsonl", "{\"hello\":1}\n")}) == 2);
  CHECK(read_file(out).find("not a recording's header") != std::string::npos);
  CHECK(exit_code({dir.write("log.jsonl", "x"), "--tolerance-clear-ms", "soon"}) == 2);
}
