#pragma once
// Two rules for reading messages with simdjson's on-demand parser, shared by the Twilio and Realtime
// parsers.

#include <algorithm>
#include <bit>
#include <cstddef>

#include <simdjson.h>

namespace mb::protocol {

// simdjson reallocates its buffers whenever a document is longer than every one before it, and a
// call's messages creep longer (ids and counters gain digits): without this, a reallocation every so
// often on the per-frame path. Growing in powers of two bounds it to a few per call.
inline void reserve_capacity(simdjson::ondemand::parser& parser, std::size_t length) noexcept {
  if (parser.capacity() >= length) return;
  // A document beyond max_capacity() fails here and again in iterate(), which reports it.
  [[maybe_unused]] const auto error =
      parser.allocate(std::min(std::bit_ceil(length), parser.max_capacity()), parser.max_depth());
}

// A structural error found mid-document (`{"a":"b":"c"}`) abandons the document: simdjson clears its
// parser pointer, and a later lookup on any object or value of it dereferences null (found by
// fuzzing). Every lookup goes through field(), which refuses once the document is dead, and a parse
// that ends with a dead document is malformed, whatever it read before.
template <class Object>
simdjson::simdjson_result<simdjson::ondemand::value> field(simdjson::ondemand::document& doc, Object& object,
                                                           const char* key) {
  if (!doc.is_alive()) return simdjson::TAPE_ERROR;
  return object[key];
}

}  // namespace mb::protocol
