#pragma once
// How the Twilio, Realtime and GPT-Live parsers use simdjson.
//
// They parse with the DOM API, which validates the whole document before any lookup. The on-demand
// API validates lazily, and simdjson 3.0's unordered lookups trust structure they have not checked:
// after a structural error mid-document (`{"a":"b":"c"}`) a later lookup dereferenced an abandoned
// iterator, and an unbalanced object reached an "unreachable" branch (both found by fuzzing). Under
// load, simdjson's two stages are 1.3 % of the bridge's CPU (docs/performance.md).

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "protocol/parse_error.hpp"

namespace mb::protocol {

// One simdjson parser per thread for each kind of message (`Kind`: the parser class that uses it).
// A call stays on one thread and is done with a parse's results before it next yields, so the calls
// of a thread share one set of buffers instead of one set each: about 14 bytes per byte of the
// longest document (tape, strings, structural indexes) and 8 KiB of depth stacks, which per call
// were a third of a call's memory (docs/performance.md, "Memory per call"). A parse's string_views
// die at the next parse of the same kind on the same thread.
template <class Kind, std::size_t MaxCapacity = simdjson::SIMDJSON_MAXSIZE_BYTES>
simdjson::dom::parser& thread_parser() noexcept {
  thread_local simdjson::dom::parser parser{MaxCapacity};
  return parser;
}

// Buffers sized for a document longer than this are given back at the next shorter one, so that one
// large message does not pin its buffers to the thread for the process's lifetime.
inline constexpr std::size_t kept_capacity = std::size_t{64} << 10;

// simdjson reallocates its buffers whenever a document is longer than every one before it, and a
// call's messages creep longer (ids and counters gain digits): without this, a reallocation every so
// often on the per-frame path. Growing in powers of two bounds it to a few per thread.
inline void reserve_capacity(simdjson::dom::parser& parser, std::size_t length) noexcept {
  if (parser.capacity() > kept_capacity && length <= kept_capacity) parser = simdjson::dom::parser{parser.max_capacity()};
  if (parser.capacity() >= length) return;
  // A document beyond max_capacity() fails here and again in parse(), which reports it.
  [[maybe_unused]] const auto error =
      parser.allocate(std::min(std::bit_ceil(length), parser.max_capacity()), parser.max_depth());
}

// Parses `json` in place when the caller's buffer has simdjson's padding after it, else from a copy.
inline simdjson::simdjson_result<simdjson::dom::element> parse_padded(simdjson::dom::parser& parser,
                                                                       std::string_view json,
                                                                       std::size_t capacity) noexcept {
  reserve_capacity(parser, json.size());
  const bool padded = capacity >= json.size() + simdjson::SIMDJSON_PADDING;
  return parser.parse(json.data(), json.size(), !padded);
}

// The message's top-level object, or why there is none.
inline std::optional<parse_error> parse_object(simdjson::dom::parser& parser, std::string_view json,
                                               std::size_t capacity, simdjson::dom::object& root) {
  simdjson::dom::element doc;
  if (parse_padded(parser, json, capacity).get(doc)) return parse_error{"malformed JSON"};
  if (doc.get_object().get(root)) return parse_error{"malformed JSON (not an object)"};
  return std::nullopt;
}

// Field readers for the upstream parsers: an absent or mistyped optional field leaves `out` as it was.
inline void optional_string(simdjson::dom::object& obj, const char* key, std::string_view& out) {
  std::string_view s;
  if (!obj[key].get_string().get(s)) out = s;
}

inline void optional_int(simdjson::dom::object& obj, const char* key, std::int64_t& out) {
  std::int64_t n = 0;
  if (!obj[key].get_int64().get(n)) out = n;
}

// False when absent or not an object.
inline bool child_object(simdjson::dom::object& obj, const char* key, simdjson::dom::object& out) {
  return !obj[key].get_object().get(out);
}

// `path` names the field in the message (e.g. "start.streamSid") for the error.
inline std::optional<parse_error> required_string(simdjson::dom::object& obj, const char* key, const char* path,
                                                  std::string_view& out) {
  auto value = obj[key];
  if (value.error() == simdjson::NO_SUCH_FIELD) return parse_error{std::string(path) + " is missing"};
  const auto error = value.get_string().get(out);
  if (error == simdjson::INCORRECT_TYPE) return parse_error{std::string(path) + " is not a string"};
  if (error) return parse_error{"malformed JSON"};
  return std::nullopt;
}

inline std::optional<parse_error> required_string(simdjson::dom::object& obj, const char* key, std::string_view& out) {
  return required_string(obj, key, key, out);
}

}  // namespace mb::protocol
