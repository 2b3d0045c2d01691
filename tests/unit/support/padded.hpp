#pragma once
// For unit tests of the upstream parsers and adapters, which read a message in place when simdjson's
// padding follows it.

#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "protocol/parse_error.hpp"

namespace mb::test {

// Copies `text` into `buffer` with simdjson's padding after it, within buffer.capacity().
inline void assign_padded(std::string& buffer, std::string_view text) {
  buffer.clear();
  buffer.reserve(text.size() + simdjson::SIMDJSON_PADDING);
  buffer.assign(text);
}

// Owns the padded input and the parser, so the string_views in `ev` stay valid for the test.
template <class Parser, class Event>
struct parsed {
  Parser parser;
  std::string buffer;
  Event ev;
  std::optional<protocol::parse_error> error;

  explicit parsed(std::string_view text) { parse(text); }

  void parse(std::string_view text) {
    assign_padded(buffer, text);
    error = parser.parse(buffer, buffer.capacity(), ev);
  }
};

}  // namespace mb::test
