// Call recording (docs/recording.md) through the real server: the files, their permissions and what
// they hold, the API, deletion, retention, a recording that cannot be written, and recording off.

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "call/wire_tap.hpp"
#include "record/log_format.hpp"
#include "record/wav_builder.hpp"
#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/listener_client.hpp"
#include "tests/integration/support/server_process.hpp"
#include "tests/integration/support/temp_dir.hpp"
#include "tests/integration/support/text_files.hpp"
#include "tests/integration/support/transcript_lines.hpp"

using namespace mb;
using namespace std::chrono_literals;
using record::direction;
using tools::twilio::audio_kind;
namespace fs = std::filesystem;

namespace {

mb::simulator::simulator_options fast_simulator() {
  mb::simulator::simulator_options o;
  o.response_ms = 1000;
  o.speed = 4.0;
  return o;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Waits, within a bounded deadline, for the writer to finish the call's recording.
bool wait_recorded(test::bridge_harness& h, const std::string& sid) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (h.recordings()->active(sid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// This process's resident memory (the server runs in it).
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// GETs `target` and returns the response's head only; the body is left unread and the connection closed.
std::string response_head(unsigned short port, const std::string& target) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(socket, boost::asio::buffer("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  boost::asio::streambuf head;
  const auto n = boost::asio::read_until(socket, head, "\r\n\r\n");
  return std::string(boost::asio::buffers_begin(head.data()), boost::asio::buffers_begin(head.data()) + n);
}

unsigned permissions_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::uint32_t le32(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

std::uint64_t metric(test::bridge_harness& h, const std::string& series) {
  const auto value = test::sample(h.metrics().render(), series);
  REQUIRE_FALSE(value.empty());
  return std::stoull(value);
}

auto recording_on(const std::string& folder) {
  return [folder](config::settings& s, bridge::bridge_context& b) {
    s.record_calls = true;
    s.recordings_dir = folder;
    b.tools.dtmf.mask = true;
    b.tools.dtmf.gap_ms = 300;
  };
}

}  // namespace

TEST_CASE("a recorded call's log and WAV are owner-only and hold every message each way, the stream token "
          "redacted and masked DTMF left out, the API serves and deletes them",
          "[integration][recording]") {
  const test::temp_dir dir;
  const auto folder = dir.file("recordings");
  test::bridge_harness h({.simulator = fast_simulator(), .tweak = recording_on(folder), .listeners = true});
  const auto sid = test::test_call_sid(41);
  auto options = h.call({{audio_kind::speech, 300}, {audio_kind::silence, 2000}});
  options.call_sid = sid;
  options.dtmf = {{200, '4'}, {250, '*'}, {300, '2'}, {350, '#'}};
  const auto reports = h.run({options});
  REQUIRE(reports.at(0).ok());
  const auto& report = reports[0];
  REQUIRE(h.events().wait_ended(1));
  REQUIRE(wait_recorded(h, sid));
  h.history()->flush();

  const fs::path log_path = h.recordings()->log_path(sid);
  const fs::path wav_path = h.recordings()->wav_path(sid);
  CHECK(permissions_of(folder) == 0700);
  CHECK(permissions_of(log_path) == 0600);
  CHECK(permissions_of(wav_path) == 0600);

  const auto log_text = test::read_file(log_path.string());
  const auto lines = lines_of(log_text);
  REQUIRE(lines.size() > 10);
  std::string error;
  const auto header = record::parse_header(lines[0], error);
  INFO(error);
  REQUIRE(header);
  CHECK(header->call_sid == sid);
  CHECK(header->stream_sid == report.stream_sid);
  CHECK(header->provider == "openai-realtime");
  CHECK(header->dtmf_masked);
  CHECK(header->started_at > 0);

  std::map<direction, std::vector<record::log_entry>> by_dir;
  double previous_t = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto entry = record::parse_entry(lines[i], error);
    INFO(lines[i] << ": " << error);
    REQUIRE(entry);
    CHECK(entry->t_ms >= previous_t);
    previous_t = entry->t_ms;
    by_dir[entry->dir].push_back(std::move(*entry));
  }
  CHECK(by_dir[direction::gap].empty());

  // Twilio, both ways: every media frame, the start first at t = 0 with its token redacted, the keys masked.
  const auto& twilio_in = by_dir[direction::twilio_in];
  REQUIRE_FALSE(twilio_in.empty());
  CHECK(twilio_in.front().t_ms == 0);
  const auto start = boost::json::parse(twilio_in.front().payload);
  CHECK(start.at("event").as_string() == "start");
  CHECK(start.at("start").at("customParameters").at(protocol::stream_token_parameter).as_string() == "[redacted]");
  std::string token;
  for (const auto& p : report.parameters)
    if (p.name == protocol::stream_token_parameter) token = p.value;
  REQUIRE(token.size() > 10);
  CHECK(log_text.find(token) == std::string::npos);
  std::size_t media_in = 0, masked_keys = 0;
  for (const auto& e : twilio_in) {
    if (e.kind == record::payload_kind::masked) masked_keys += e.payload == "dtmf";
    if (e.kind == record::payload_kind::json && e.payload.find("\"event\":\"media\"") != std::string::npos) ++media_in;
  }
  CHECK(media_in == report.media_frames_sent);
  CHECK(masked_keys == 4);
  std::size_t media_out = 0, marks_out = 0;
  for (const auto& e : by_dir[direction::twilio_out]) {
    REQUIRE(e.kind == record::payload_kind::json);
    media_out += e.payload.find("\"event\":\"media\"") != std::string::npos;
    marks_out += e.payload.find("\"event\":\"mark\"") != std::string::npos;
  }
  // What the bridge sent: all of what Twilio received (a last frame may still be on its way at the hang-up).
  CHECK(media_out >= report.media_frames_received);
  CHECK(report.media_frames_received > 0);
  CHECK(marks_out >= report.marks_received);
  // The digit string the model got ("4*2") is nowhere: not in Twilio's keys, not in what went upstream.
  CHECK(log_text.find("4*2") == std::string::npos);
  CHECK(log_text.find("keypad") == std::string::npos);

  // The provider, both ways: what the simulator received, in order, and its answers.
  const auto sessions = h.simulator().sessions();
  REQUIRE(sessions.size() == 1);
  std::vector<std::string> sent_upstream;
  bool digits_masked = false;
  for (const auto& e : by_dir[direction::upstream_out]) {
    sent_upstream.emplace_back(e.kind == record::payload_kind::masked ? e.payload : call::wire_type_of(e.payload));
    digits_masked = digits_masked || e.kind == record::payload_kind::masked;
  }
  CHECK(sent_upstream == sessions[0].received_types);
  CHECK(digits_masked);
  CHECK(by_dir[direction::upstream_in].size() > 3);
  REQUIRE(by_dir[direction::upstream_open].size() == 1);
  CHECK(by_dir[direction::upstream_open][0].number == 1);

  // The call's events as listeners get them, call.started to call.ended.
  const auto& events = by_dir[direction::event];
  REQUIRE(events.size() >= 2);
  CHECK(call::wire_type_of(events.front().payload) == "call.started");
  CHECK(call::wire_type_of(events.back().payload) == "call.ended");

  // The WAV: its header written with its final size.
  const auto wav = test::read_file(wav_path.string());
  REQUIRE(wav.size() > record::wav_header_bytes);
  CHECK(wav.substr(0, 4) == "RIFF");
  CHECK(le32(wav, 40) == wav.size() - record::wav_header_bytes);

  // The API: the detail's "recording", both files, then DELETE removes them with the call.
  const auto base = "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/calls/" + sid;
  const auto detail = test::http("GET", base);
  REQUIRE(detail.status == 200);
  const auto recording = boost::json::parse(detail.body).at("recording").as_object();
  CHECK(recording.at("started_at").as_int64() == header->started_at);
  CHECK(recording.at("complete").as_bool());
  CHECK(recording.at("dropped_bytes").as_int64() == 0);
  CHECK(recording.at("duration_ms").as_int64() > 1000);
  CHECK(recording.at("wav_bytes").as_int64() == static_cast<std::int64_t>(wav.size()));
  CHECK(recording.at("log_bytes").as_int64() == static_cast<std::int64_t>(log_text.size()));
  const auto wav_reply = test::http("GET", base + "/recording.wav");
  CHECK(wav_reply.status == 200);
  CHECK(wav_reply.body == wav);
  const auto log_reply = test::http("GET", base + "/recording.jsonl");
  CHECK(log_reply.status == 200);
  CHECK(log_reply.body == log_text);
  CHECK(metric(h, R"(mediabridge_recordings_total{outcome="complete"})") == 1);

  // A download is sent from the file as the client reads it, never held whole: a 512 MiB recording
  // (sparse here) answers with its head while the server's memory grows by far less than the file.
  {
    constexpr std::uintmax_t big = std::uintmax_t{512} << 20;
    fs::resize_file(wav_path, big);
    const auto before = resident_bytes();
    const auto head = response_head(h.port(), "/v1/calls/" + sid + "/recording.wav");
    const auto after = resident_bytes();
    const auto grown = after > before ? after - before : 0;
    CHECK(head.starts_with("HTTP/1.1 200"));
    CHECK(head.find("Content-Length: " + std::to_string(big) + "\r\n") != std::string::npos);
    CHECK(grown < (std::size_t{64} << 20));
    fs::resize_file(wav_path, wav.size());
  }

  CHECK(test::http("DELETE", base).status == 204);
  CHECK_FALSE(fs::exists(log_path));
  CHECK_FALSE(fs::exists(wav_path));
  CHECK(test::http("GET", base + "/recording.wav").status == 404);
  CHECK(test::http("GET", base + "/recording.jsonl").status == 404);
}

TEST_CASE("while a call is recorded its files are 409 and its recording incomplete", "[integration][recording]") {
  const test::temp_dir dir;
  test::bridge_harness h({.simulator = fast_simulator(), .tweak = recording_on(dir.file("recordings")), .listeners = true});
  const auto sid = test::test_call_sid(42);
  auto options = h.call({{audio_kind::silence, 400}});
  options.call_sid = sid;
  options.hangup_when_audio_ends = false;
  options.hangup_after_ms = 3000;
  auto running = std::async(std::launch::async, [&h, options] { return h.run({options}); });
  REQUIRE(h.events().wait_for_event(
      [](const call::call_event& e) { return std::holds_alternative<call::call_started>(e); }, 5s));
  h.history()->flush();

  const auto base = "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/calls/" + sid;
  const auto wav = test::http("GET", base + "/recording.wav");
  CHECK(wav.status == 409);
  CHECK(wav.body.find("still recording") != std::string::npos);
  CHECK(test::http("GET", base + "/recording.jsonl").status == 409);
  const auto detail = test::http("GET", base);
  REQUIRE(detail.status == 200);
  CHECK_FALSE(boost::json::parse(detail.body).at("recording").at("complete").as_bool());
  REQUIRE(running.get().at(0).ok());
}

TEST_CASE("a recording that cannot be written is counted and logged, and the call goes on",
          "[integration][recording]") {
  const test::temp_dir dir;
  const auto folder = dir.file("recordings");
  test::bridge_harness h({.simulator = fast_simulator(), .tweak = recording_on(folder), .listeners = true});
  const auto sid = test::test_call_sid(43);
  // A folder where the log should go: the file cannot be created.
  fs::create_directories(h.recordings()->log_path(sid));
  auto options = h.call({{audio_kind::speech, 300}, {audio_kind::silence, 1500}});
  options.call_sid = sid;
  const auto reports = h.run({options});
  REQUIRE(reports.at(0).ok());
  CHECK(reports[0].media_frames_received > 0);
  REQUIRE(wait_recorded(h, sid));
  CHECK(metric(h, R"(mediabridge_recording_errors_total{kind="open"})") == 1);
  CHECK(metric(h, R"(mediabridge_recordings_total{outcome="failed"})") == 1);
  CHECK(metric(h, R"(mediabridge_recordings_total{outcome="complete"})") == 0);
  CHECK(h.logs().wait_for("recording stopped, the call goes on"));
}

TEST_CASE("retention deletes recordings older than RECORDING_RETENTION_DAYS and nothing else",
          "[integration][recording]") {
  const test::temp_dir dir;
  const auto folder = dir.file("recordings");
  // The writer's own sweep keeps them: this test's sweep has the cutoff.
  test::bridge_harness h({.tweak = [&](config::settings& s, bridge::bridge_context& b) {
    recording_on(folder)(s, b);
    s.recording_retention_days = 3650;
  }});
  const auto old_sid = test::test_call_sid(44);
  const auto new_sid = test::test_call_sid(45);
  for (const auto& sid : {old_sid, new_sid}) {
    std::ofstream(h.recordings()->log_path(sid)) << "{}\n";
    std::ofstream(h.recordings()->wav_path(sid)) << "RIFF";
  }
  const auto other = fs::path(folder) / "notes.txt";
  std::ofstream(other) << "kept";
  const auto now = fs::file_time_type::clock::now();
  for (const auto& path : {h.recordings()->log_path(old_sid), h.recordings()->wav_path(old_sid), other})
    fs::last_write_time(path, now - std::chrono::hours(24 * 31));

  CHECK(h.recordings()->sweep(now - std::chrono::hours(24 * 30)) == 2);
  CHECK_FALSE(fs::exists(h.recordings()->log_path(old_sid)));
  CHECK_FALSE(fs::exists(h.recordings()->wav_path(old_sid)));
  CHECK(fs::exists(h.recordings()->log_path(new_sid)));
  CHECK(fs::exists(h.recordings()->wav_path(new_sid)));
  CHECK(fs::exists(other));
}

TEST_CASE("with recording off a call writes nothing and has no recording", "[integration][recording]") {
  const test::temp_dir dir;
  const auto folder = dir.file("recordings");
  test::bridge_harness h({.simulator = fast_simulator(),
                          .tweak = [&](config::settings& s, bridge::bridge_context&) { s.recordings_dir = folder; },
                          .listeners = true});
  const auto sid = test::test_call_sid(46);
  auto options = h.call({{audio_kind::speech, 300}, {audio_kind::silence, 1000}});
  options.call_sid = sid;
  REQUIRE(h.run({options}).at(0).ok());
  REQUIRE(h.events().wait_ended(1));
  h.history()->flush();
  CHECK_FALSE(fs::exists(folder));
  const auto base = "http://127.0.0.1:" + std::to_string(h.port()) + "/v1/calls/" + sid;
  const auto detail = test::http("GET", base);
  REQUIRE(detail.status == 200);
  CHECK(boost::json::parse(detail.body).at("recording").is_null());
  CHECK(test::http("GET", base + "/recording.wav").status == 404);
}

TEST_CASE("a call whose ring is full drops entries, counts them, and a gap entry marks the place",
          "[integration][recording]") {
  recorder::call_recording capture(record::log_header{}, 256);
  const std::string first(100, 'a');
  const std::string too_big(200, 'b');
  capture.add(direction::twilio_in, 1000, first);
  capture.add(direction::twilio_out, 2000, too_big);  // 124 bytes taken of 256: no room for 224 more
  const auto dropped = sizeof(recorder::entry_head) + too_big.size();
  CHECK(capture.dropped_bytes() == dropped);

  recorder::entry_head head;
  std::string payload;
  REQUIRE(capture.take(head, payload));
  CHECK(head.t_us == 1000);
  CHECK(payload == first);
  CHECK_FALSE(capture.take(head, payload));

  capture.add(direction::upstream_in, 3000, "next");
  REQUIRE(capture.take(head, payload));
  CHECK(head.dir == direction::gap);
  CHECK(head.number == dropped);
  CHECK(head.t_us == 3000);
  REQUIRE(capture.take(head, payload));
  CHECK(head.dir == direction::upstream_in);
  CHECK(payload == "next");
  CHECK_FALSE(capture.finished());
  capture.finish(4000);
  CHECK(capture.finished());
  CHECK(capture.end_t_us() == 4000);
}

TEST_CASE("startup refuses a profile that records when RECORDINGS_DIR is empty", "[integration][recording]") {
  const test::temp_dir dir;
  const auto agents = dir.write("agents.json", R"({"agents": {"sales": {"record": true}}})");
  for (const auto& setting : {std::string("RECORD_CALLS=true"), "AGENTS_FILE=" + agents}) {
    const auto log = dir.file("mediabridge.log");
    test::server_process process({"LISTEN_HOST=127.0.0.1", "PORT=" + std::to_string(test::free_port()),
                                  "DATABASE_PATH=:memory:", "RECORDINGS_DIR=", setting},
                                 log);
    const auto status = process.wait_exit(std::chrono::seconds(20));
    REQUIRE(status);
    REQUIRE(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 2);
    const auto output = test::read_file(log);
    INFO(output);
    CHECK(output.find("mediabridge: RECORDINGS_DIR: empty, but agent profile '") != std::string::npos);
  }
}
