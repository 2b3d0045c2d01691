// Heap allocations on the bridge's hot path, counted. This executable replaces the global operator
// new (so it is not part of integration_tests) and counts the allocations made on the bridge's I/O
// thread while one call relays audio both ways in steady state:
//   caller → upstream: 50 media frames/s, each becoming an input_audio_buffer.append;
//   upstream → caller: a 20 s answer streamed in real time (speed 1): 10 deltas/s, each becoming a
//   Twilio media message and a mark, and 10 mark echoes/s coming back.
// Over an 8 s window that is about 480 relayed audio messages (plus 80 marks and 80 echoes).
// With `gemini` as its argument the call goes to Gemini Live instead, whose adapter transcodes every
// frame both ways through libsoxr (docs/protocols.md F3): its 80 ms chunks come 12.5 times a second.
// libsoxr allocates with malloc, which this count does not see: codec_alloc_test covers it.
// With `record` as its second argument the call is recorded (docs/recording.md): every message is
// copied into the call's ring, which is allocated once at its start; the writer's own thread formats
// and writes them, uncounted.
//
// The bound: at most one allocation per 20 relayed frames (24 in the window). The relay itself
// allocates nothing: writer slots, parse buffers and pacing slots keep their capacity, and mark names
// fit the small-string buffer. Measured: 14, all per event or per new high-water mark, none per frame:
// 5 in the event sink for the answer's transcript deltas (a word every 3.3 s), 1 transcript append,
// 4 std::deque blocks for pending marks (one per 21 chunks), 3 writer slots created when a backlog
// reached a new depth, 1 Asio operation. A per-frame allocation anywhere would exceed the bound at once.
//
// ALLOC_TEST_TRACE=1 prints the stack of every counted allocation (build with symbols to read it).

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/post.hpp>

#include "tests/integration/support/bridge_harness.hpp"
#include "tests/integration/support/temp_dir.hpp"

namespace {

std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};
thread_local bool bridge_thread = false;
bool trace = false;
thread_local bool tracing = false;  // backtrace() may allocate: do not count or trace that

void print_stack() {
  tracing = true;
  void* frames[32];
  const int n = ::backtrace(frames, 32);
  static constexpr char header[] = "--- counted allocation:\n";
  [[maybe_unused]] const auto w = ::write(STDERR_FILENO, header, sizeof header - 1);
  ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
  tracing = false;
}

void* counted_alloc(std::size_t n, std::size_t align) {
  if (bridge_thread && !tracing && counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (trace) print_stack();
  }
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t) ? std::malloc(n) : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return operator new(n, std::nothrow); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

using namespace mb;
using namespace std::chrono_literals;

// The sum of the samples of `family` (all label sets) in the Prometheus text.
std::uint64_t total(const std::string& text, const std::string& family) {
  std::uint64_t sum = 0;
  for (std::size_t at = text.find("\n" + family); at != std::string::npos; at = text.find("\n" + family, at + 1)) {
    const auto end = text.find('\n', at + 1);
    const auto line = text.substr(at + 1, end - at - 1);
    sum += std::stoull(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  // The provider's protocol: the Realtime API's passthrough by default; "gemini" transcodes every frame.
  const auto provider = upstream::provider_from_name(argc > 1 ? argv[1] : "openai-realtime");
  const bool record = argc > 2 && std::string_view(argv[2]) == "record";
  if (!provider || (argc > 2 && !record)) {
    std::printf("usage: alloc_test [%s] [record]\n", upstream::provider_names().c_str());
    return 2;
  }
  if (const char* t = std::getenv("ALLOC_TEST_TRACE"); t && std::string_view(t) == "1") {
    trace = true;
    void* warm[1];
    ::backtrace(warm, 1);  // loads the unwinder now, not inside a counted allocation
  }
  test::harness_options options;
  options.provider = *provider;
  options.server_threads = 1;  // one bridge thread, marked below
  options.simulator.response_ms = 20000;
  options.simulator.speed = 1.0;  // deltas arrive in real time: steady, not a burst
  options.simulator.record_audio = false;
  options.simulator.record_events = false;
  const test::temp_dir recordings;
  options.tweak = [&](config::settings& s, bridge::bridge_context& b) {
    b.call.greeting = "Say hello.";
    s.record_calls = record;
    s.recordings_dir = recordings.file("recordings");
  };
  test::bridge_harness harness(options);
  asio::post(harness.pool().first(), [] { bridge_thread = true; });

  auto call = harness.call({{tools::twilio::audio_kind::silence, 14000}});
  call.timeout_ms = 30000;
  std::vector<tools::twilio::call_report> reports;
  std::thread caller([&] { reports = harness.run({call}, 40000); });

  std::this_thread::sleep_for(4s);  // connected, answer streaming, buffers and pools at working size
  const auto before = harness.metrics().render();
  counting = true;
  std::this_thread::sleep_for(8s);
  counting = false;
  const auto after = harness.metrics().render();
  caller.join();

  const auto frames = total(after, "mediabridge_frames_relayed_total") - total(before, "mediabridge_frames_relayed_total");
  const auto counted = allocations.load();
  const auto bound = frames / 20;
  std::printf("%s%s, steady window: %llu audio frames relayed, %llu heap allocations on the bridge thread (bound %llu)\n",
              upstream::to_string(*provider).data(), record ? " (recorded)" : "", static_cast<unsigned long long>(frames),
              static_cast<unsigned long long>(counted),
              static_cast<unsigned long long>(bound));
  bool ok = true;
  if (reports.size() != 1 || !reports[0].ok()) {
    std::printf("FAIL: the call did not complete normally\n");
    ok = false;
  }
  if (frames < 400) {
    std::printf("FAIL: expected at least 400 relayed frames in the window (50/s up, 10/s down)\n");
    ok = false;
  }
  // The writer creates the files as the call starts: the call ran recorded.
  if (record && (reports.empty() || !std::filesystem::exists(harness.recordings()->log_path(reports[0].call_sid)))) {
    std::printf("FAIL: the call was not recorded\n");
    ok = false;
  }
  if (counted > bound) {
    std::printf("FAIL: more than one allocation per 20 relayed frames\n");
    ok = false;
  }
  return ok ? 0 : 1;
}
