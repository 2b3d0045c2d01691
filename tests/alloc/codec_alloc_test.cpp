// Heap allocations of the transcoders (codec/transcoder.hpp), counted. libsoxr is C and allocates
// with malloc/calloc/realloc, which an operator new replacement would not see: this executable
// interposes the C allocator itself (so it is not part of unit_tests) and forwards to glibc's, or,
// under ASan, counts through the sanitizer's allocation hook.
//
// Both directions of a Gemini call, in stretches like a call's:
//   caller: 160-byte μ-law frames → 16 kHz PCM;
//   assistant: 24 kHz PCM in chunks of the sizes a provider sends (20 to 400 ms, odd byte counts
//   included) → μ-law frames, each turn ended by flush() or cut by reset().
// Measured: building a transcoder allocates 21 blocks (libsoxr's filter); in the first second and the
// first flush or reset libsoxr's FIFOs grow twice; then nothing, for any chunk size up to
// the 500 ms the transcoders reserve, and for flushes and resets (which feed libsoxr silence instead of
// rebuilding it: 17 blocks each when they did). The bounds below: at most 4 in a warm-up of 1 s and
// one flush or reset, then nothing at all.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "codec/transcoder.hpp"

namespace {

bool counting = false;  // single-threaded: libsoxr runs with one thread (codec/resampler.cpp)
std::size_t allocations = 0;

void count() {
  if (counting) ++allocations;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// ASan owns malloc (a replacement here would hand it blocks it did not make): count through its hook.
// Declared here: GCC's libasan has it, but Debian ships its header only with clang.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*on_malloc)(const volatile void*, std::size_t),
                                                         void (*on_free)(const volatile void*));

namespace {
void on_malloc(const volatile void*, std::size_t) { count(); }
void on_free(const volatile void*) {}
[[maybe_unused]] const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}  // namespace
#else
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);

void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t n, std::size_t size) {
  count();
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t align, std::size_t n) {
  count();
  return __libc_memalign(align, n);
}
void* aligned_alloc(std::size_t align, std::size_t n) {
  count();
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
  count();
  *out = __libc_memalign(align, n);
  return *out == nullptr ? 12 /* ENOMEM */ : 0;
}
}
#endif

namespace {

using namespace mb::codec;

template <typename Work>
std::size_t allocations_in(Work work) {
  allocations = 0;
  counting = true;
  work();
  counting = false;
  return allocations;
}

int failures = 0;

void expect(bool ok, const char* what, std::size_t measured) {
  std::printf("%s %s: %zu\n", ok ? "ok  " : "FAIL", what, measured);
  if (!ok) ++failures;
}

std::string provider_pcm(std::size_t ms) {
  std::string pcm(ms * 24000 / 1000 * 2, '\0');
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<char>(i * 7919 % 251);
  return pcm;
}

constexpr std::size_t max_warm_up = 4;
constexpr std::size_t max_construction = 24;

}  // namespace

int main() {
  std::size_t sink = 0;
  // The counter sees libsoxr: building a resampler allocates its filter.
  const std::size_t construction = allocations_in([] { ulaw_to_pcm16 probe(16000, caller_preset); });
  expect(construction > 0 && construction <= max_construction, "building a transcoder (the counter sees libsoxr)",
         construction);

  ulaw_to_pcm16 caller(16000, caller_preset);
  std::vector<std::uint8_t> frame(phone_frame_bytes);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 37);
  auto caller_seconds = [&](int seconds) {
    for (int i = 0; i < seconds * 50; ++i) sink += caller.convert(frame).size();
  };
  const std::size_t caller_warm_up = allocations_in([&] {
    caller_seconds(1);
    caller.reset();
  });
  expect(caller_warm_up <= max_warm_up, "caller: the first second and a reset", caller_warm_up);
  const std::size_t caller_steady = allocations_in([&] {
    for (int stretch = 0; stretch < 3; ++stretch) {
      caller_seconds(10);
      caller.reset();
    }
  });
  expect(caller_steady == 0, "caller: then 3 times 10 s of frames and a reset", caller_steady);

  pcm16_to_ulaw assistant(24000, assistant_preset);
  // A turn's first second comes in 100 ms chunks; later chunks are shorter and up to 4 times longer.
  const std::vector<std::string> warm_up_chunks(10, provider_pcm(100));
  std::vector<std::string> chunks;  // 1.04 s
  for (std::size_t ms : {40, 100, 20, 400, 60, 100, 250, 40}) chunks.push_back(provider_pcm(ms));
  chunks.push_back(provider_pcm(30) + "x");  // an odd byte, completed by the next chunk's first
  auto assistant_seconds = [&](const std::vector<std::string>& second, int seconds) {
    for (int i = 0; i < seconds; ++i) {
      for (const auto& chunk : second) sink += assistant.convert(chunk).size();
    }
  };
  const std::size_t assistant_warm_up = allocations_in([&] {
    assistant_seconds(warm_up_chunks, 1);
    sink += assistant.flush().size();
  });
  expect(assistant_warm_up <= max_warm_up, "assistant: the first second and a flush", assistant_warm_up);
  const std::size_t turns = allocations_in([&] {
    for (bool barge_in : {false, true, false, true}) {
      assistant_seconds(warm_up_chunks, 1);
      assistant_seconds(chunks, 10);
      if (barge_in) {
        assistant.reset();
      } else {
        sink += assistant.flush().size();
      }
    }
  });
  expect(turns == 0, "assistant: then 4 turns of 11 s (90 chunks of 20-400 ms), each flushed or cut by a reset", turns);

  if (sink == 0) ++failures;  // the conversions produced output, so they were not optimised away
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
