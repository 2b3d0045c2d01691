#pragma once
// Shared by the libFuzzer targets: invariant checks that survive NDEBUG, simdjson's padded input, the
// line format of the targets that replay a call step by step, and reading back what a builder wrote.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <simdjson.h>

namespace mb::fuzz {

// abort() is what libFuzzer reports as a crash and saves the input for.
[[noreturn]] inline void invariant_failed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, condition);
  std::abort();
}

// A copy of the input followed by exactly SIMDJSON_PADDING bytes, as the parsers require, in an
// allocation of exactly that size so that ASan catches a read past the padding.
class padded_input {
 public:
  padded_input(const std::uint8_t* data, std::size_t size) : bytes_(size + simdjson::SIMDJSON_PADDING) {
    if (size > 0) std::memcpy(bytes_.data(), data, size);
    size_ = size;
  }
  explicit padded_input(std::string_view text)
      : padded_input(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()) {}

  [[nodiscard]] std::string_view view() const { return {bytes_.data(), size_}; }
  [[nodiscard]] std::size_t capacity() const { return bytes_.size(); }

 private:
  std::vector<char> bytes_;
  std::size_t size_ = 0;
};

// The input as lines separated by '\n', one step of a replayed call each.
class line_reader {
 public:
  line_reader(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  [[nodiscard]] bool done() const { return rest_.empty(); }

  std::string_view next() {
    const std::size_t end = std::min(rest_.find('\n'), rest_.size());
    const auto line = rest_.substr(0, end);
    rest_.remove_prefix(std::min(end + 1, rest_.size()));
    return line;
  }

 private:
  std::string_view rest_;
};

// A "w<digits>" step: how many ms the clock jumps, at most `max_ms`.
inline std::int64_t jump_ms(std::string_view digits, std::int64_t max_ms) {
  std::int64_t ms = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') break;
    ms = std::min(max_ms, ms * 10 + (c - '0'));
  }
  return ms;
}

}  // namespace mb::fuzz

#define MB_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::mb::fuzz::invariant_failed(#condition, __FILE__, __LINE__))

namespace mb::fuzz {

// A message a builder wrote: it must be a JSON object.
inline boost::json::object json_object(const std::string& json) {
  boost::system::error_code ec;
  auto value = boost::json::parse(json, ec);
  MB_FUZZ_CHECK(!ec && value.is_object());
  return std::move(value.as_object());
}

}  // namespace mb::fuzz
